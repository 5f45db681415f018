//! What a socket's client sent when it connected.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use http::HeaderMap;
use serde_json::Value;

/// The handshake of a socket: the namespace CONNECT's auth payload, and the
/// engine connection's first request (shared by every socket of that
/// connection, not copied).
#[derive(Debug, Clone)]
pub struct Handshake {
    /// The auth payload of the CONNECT packet (`{}` when none was sent).
    pub auth: Value,
    request: Arc<roomcast_engineio::Handshake>,
}

impl Handshake {
    pub(crate) fn new(auth: Value, request: Arc<roomcast_engineio::Handshake>) -> Self {
        Handshake { auth, request }
    }

    /// The value of a query parameter of the first request, percent-decoded.
    pub fn query(&self, key: &str) -> Option<String> {
        self.request
            .query()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Every query parameter of the first request, percent-decoded, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.request.query()
    }

    /// The headers of the first request.
    pub fn headers(&self) -> &HeaderMap {
        self.request.headers()
    }

    /// The peer's address, when the host provides it.
    pub fn address(&self) -> Option<SocketAddr> {
        self.request.remote_addr
    }

    /// When the engine connection opened.
    pub fn time(&self) -> SystemTime {
        self.request.issued
    }

    /// The request URL (path and query) of the first request.
    pub fn url(&self) -> String {
        self.request.uri.to_string()
    }

    /// The transport the connection opened on (`polling` or `websocket`).
    pub fn transport(&self) -> &'static str {
        self.request.transport.as_str()
    }

    /// Whether the first request came from another origin: it carried an
    /// `Origin` header (Node's `xdomain`).
    pub fn xdomain(&self) -> bool {
        self.headers().contains_key(http::header::ORIGIN)
    }

    /// Whether the first request's URI was `https` (Node's `secure`). A
    /// host that terminates TLS in front of roomcast hands it a plain
    /// request, so this is false there unless the host rewrites the URI.
    pub fn secure(&self) -> bool {
        self.request.uri.scheme() == Some(&http::uri::Scheme::HTTPS)
    }

    /// Milliseconds since the Unix epoch at which the connection opened.
    pub fn issued(&self) -> u128 {
        self.time()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default()
    }
}
