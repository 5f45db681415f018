//! The query parameters the engine routes on: `transport`, `sid`, `EIO`,
//! and v3's `b64` (percent-decoded; others ignored, a repeated one keeps its last value).
//! A value borrows the query string unless it had to be decoded.

use std::borrow::Cow;

/// The engine's query parameters of one request.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Query<'a> {
    pub(crate) transport: Option<Cow<'a, str>>,
    pub(crate) sid: Option<Cow<'a, str>>,
    pub(crate) eio: Option<Cow<'a, str>>,
    /// `b64` is present (Engine.IO v3: binary as base64 in polling bodies).
    pub(crate) b64: bool,
}

impl<'a> Query<'a> {
    /// Parses a request's query string (none: no parameters).
    pub(crate) fn parse(q: Option<&'a str>) -> Query<'a> {
        let mut out = Query::default();
        for (k, v) in form_urlencoded::parse(q.unwrap_or("").as_bytes()) {
            match &*k {
                "transport" => out.transport = Some(v),
                "sid" => out.sid = Some(v),
                "EIO" => out.eio = Some(v),
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
        assert!(
            matches!(q.eio, Some(Cow::Borrowed(_))),
            "an undecoded value is borrowed"
        );
        assert_eq!(Query::parse(None), Query::default());
    }
}
