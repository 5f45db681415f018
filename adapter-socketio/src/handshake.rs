//! What a socket's client sent when it connected.

use std::net::SocketAddr;
use std::time::SystemTime;

use http::HeaderMap;
use serde_json::Value;

/// The handshake of a socket: the engine connection's request plus the
/// namespace CONNECT's auth payload.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// The auth payload of the CONNECT packet (`{}` when none was sent).
    pub auth: Value,
    /// The query parameters of the first request, percent-decoded.
    pub query: Vec<(String, String)>,
    /// The headers of the first request.
    pub headers: HeaderMap,
    /// The peer's address, when the host provides it.
    pub address: Option<SocketAddr>,
    /// When the engine connection opened.
    pub time: SystemTime,
    /// The request URL (path and query) of the first request.
    pub url: String,
    /// The transport the connection opened on (`polling` or `websocket`).
    pub transport: &'static str,
}

impl Handshake {
    /// The value of a query parameter.
    pub fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Milliseconds since the Unix epoch at which the connection opened.
    pub fn issued(&self) -> u128 {
        self.time
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default()
    }
}
