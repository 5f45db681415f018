//! What the client sent when it opened a session: [`Handshake`], kept for
//! the session's life and shared with the layer above.

use std::sync::OnceLock;
use std::time::SystemTime;

use http::{HeaderMap, Uri};

use crate::config::TransportKind;
use crate::protocol::Protocol;

/// What the client sent when it opened the session.
///
/// The headers are kept in one compact block and turned into a
/// [`HeaderMap`] the first time [`Handshake::headers`] is called: most
/// sessions never look at them, and a map costs several times their size.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// The request URI (path and query).
    pub uri: Uri,
    /// `name:value\n` for each header, in order.
    raw_headers: Box<[u8]>,
    /// Boxed: 8 bytes where a map is 96, for the sessions that never ask.
    headers: OnceLock<Box<HeaderMap>>,
    /// The peer's address, when known.
    pub remote_addr: Option<std::net::SocketAddr>,
    /// When the session opened.
    pub issued: SystemTime,
    /// The transport the session opened on.
    pub transport: TransportKind,
    /// The Engine.IO revision of the session (v4 unless the engine allows
    /// v3 and the client asked for it).
    pub protocol: Protocol,
    /// Engine.IO v3: the client asked for binary as base64 in polling
    /// bodies (`b64`).
    pub(crate) base64: bool,
}

impl Handshake {
    /// A handshake of a request with these headers (copied).
    ///
    /// ```
    /// use roomcast_engineio::{Handshake, TransportKind};
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("x-token", "abc".parse().unwrap());
    /// let hs = Handshake::new("/engine.io/?EIO=4".parse().unwrap(), &headers, None, TransportKind::Polling);
    /// assert_eq!(hs.headers().get("x-token").unwrap(), "abc");
    /// ```
    pub fn new(
        uri: Uri,
        headers: &HeaderMap,
        remote_addr: Option<std::net::SocketAddr>,
        transport: TransportKind,
    ) -> Self {
        let size = headers
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 2)
            .sum();
        let mut raw = Vec::with_capacity(size);
        for (name, value) in headers {
            raw.extend_from_slice(name.as_str().as_bytes());
            raw.push(b':');
            raw.extend_from_slice(value.as_bytes());
            raw.push(b'\n');
        }
        Handshake {
            uri,
            raw_headers: raw.into_boxed_slice(),
            headers: OnceLock::new(),
            remote_addr,
            issued: SystemTime::now(),
            transport,
            protocol: Protocol::V4,
            base64: false,
        }
    }

    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        self.headers.get_or_init(|| {
            let mut map = HeaderMap::new();
            // Names never hold ':' and values never hold '\n' (both were
            // valid header parts), so the split is exact.
            for line in self.raw_headers.split(|b| *b == b'\n') {
                let Some(colon) = line.iter().position(|b| *b == b':') else {
                    continue;
                };
                let name = http::HeaderName::from_bytes(&line[..colon]);
                let value = http::HeaderValue::from_bytes(&line[colon + 1..]);
                if let (Ok(name), Ok(value)) = (name, value) {
                    map.append(name, value);
                }
            }
            Box::new(map)
        })
    }

    /// The query parameters, percent-decoded, in order.
    pub fn query(&self) -> Vec<(String, String)> {
        self.uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default()
    }
}
