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
        for pair in q.unwrap_or("").split('&') {
            if pair.is_empty() {
                continue;
            }
            let (k, v) = split(pair);
            match k.as_bytes() {
                b"transport" => out.transport = Some(v),
                b"sid" => out.sid = Some(v),
                b"EIO" => out.eio = Some(v),
                b"b64" => out.b64 = true,
                _ => {}
            }
        }
        out
    }
}

/// One `key=value` pair, decoded as a form (`+` is a space, `%XX` a
/// byte, invalid UTF-8 replaced); borrowed when there is nothing to
/// decode, which is the case of every parameter the engine reads.
fn split(pair: &str) -> (Cow<'_, str>, Cow<'_, str>) {
    let bytes = pair.as_bytes();
    if bytes.iter().any(|&b| b == b'%' || b == b'+') {
        return form_urlencoded::parse(bytes)
            .next()
            .unwrap_or((Cow::Borrowed(""), Cow::Borrowed("")));
    }
    match bytes.iter().position(|&b| b == b'=') {
        // `=` is ASCII: both sides are on character boundaries.
        Some(i) => (
            Cow::Borrowed(pair.get(..i).unwrap_or("")),
            Cow::Borrowed(pair.get(i + 1..).unwrap_or("")),
        ),
        None => (Cow::Borrowed(pair), Cow::Borrowed("")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The hand-written split reads what a form decoder reads: the
        /// last value of each routing key, percent- and plus-decoded.
        #[test]
        fn reads_what_form_urlencoded_reads(q in "([a-zA-Z0-9%+=&_.~-]|EIO|sid|transport|b64){0,40}") {
            let mut expected = Query::default();
            for (k, v) in form_urlencoded::parse(q.as_bytes()) {
                match &*k {
                    "transport" => expected.transport = Some(v),
                    "sid" => expected.sid = Some(v),
                    "EIO" => expected.eio = Some(v),
                    "b64" => expected.b64 = true,
                    _ => {}
                }
            }
            prop_assert_eq!(Query::parse(Some(&q)), expected);
        }
    }

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

    #[test]
    fn decodes_as_a_form_and_keeps_the_last_of_a_repeated_key() {
        let q = Query::parse(Some("&sid=a+b&%45IO=3&transport&EIO=4&b64=1&sid=c%2"));
        assert_eq!(q.sid.as_deref(), Some("c%2"));
        assert_eq!(q.eio.as_deref(), Some("4"));
        assert_eq!(q.transport.as_deref(), Some(""));
        assert!(q.b64);
        let q = Query::parse(Some("sid=a+b&%45IO=3&transport=web%73ocket"));
        assert_eq!(q.sid.as_deref(), Some("a b"));
        assert_eq!(q.eio.as_deref(), Some("3"));
        assert_eq!(q.transport.as_deref(), Some("websocket"));
    }
}
