//! The query parameters the engine routes on: `transport`, `sid`, `EIO`,
//! and v3's `b64` (percent-decoded; others ignored, a repeated one keeps its last value).

/// The engine's query parameters of one request.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Query {
    pub(crate) transport: Option<String>,
    pub(crate) sid: Option<String>,
    pub(crate) eio: Option<String>,
    /// `b64` is present (Engine.IO v3: binary as base64 in polling bodies).
    pub(crate) b64: bool,
}

impl Query {
    /// Parses a request's query string (none: no parameters).
    pub(crate) fn parse(q: Option<&str>) -> Query {
        let mut out = Query::default();
        for (k, v) in form_urlencoded::parse(q.unwrap_or("").as_bytes()) {
            match &*k {
                "transport" => out.transport = Some(v.into_owned()),
                "sid" => out.sid = Some(v.into_owned()),
                "EIO" => out.eio = Some(v.into_owned()),
                "b64" => out.b64 = true,
                _ => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_three_parameters_and_ignores_the_rest() {
        let q = Query::parse(Some("EIO=4&transport=polling&t=x&sid=a%2Fb"));
        assert_eq!(q.eio.as_deref(), Some("4"));
        assert_eq!(q.transport.as_deref(), Some("polling"));
        assert_eq!(q.sid.as_deref(), Some("a/b"));
        assert_eq!(Query::parse(None), Query::default());
    }
}
