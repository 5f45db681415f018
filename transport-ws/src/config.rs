//! The limits of a WebSocket connection.

use std::time::Duration;

/// Limits of a WebSocket connection.
///
/// ```
/// use roomcast_transport_ws::WsConfig;
/// let c = WsConfig { max_message_size: 1_000_000, ..WsConfig::default() };
/// assert_eq!(c.close_grace, std::time::Duration::from_secs(20));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WsConfig {
    /// The largest message accepted from the peer; bigger ones close with 1009.
    pub max_message_size: usize,
    /// Once the session has closed, how long the peer has to take the last
    /// frames before the connection is dropped.
    pub close_grace: Duration,
    /// A byte written in front of every binary message the server sends
    /// (default none). Engine.IO v3 puts its packet type there (`4`); the
    /// frames themselves stay shared, the byte is added while encoding.
    pub binary_prefix: Option<u8>,
}

impl Default for WsConfig {
    fn default() -> Self {
        WsConfig {
            max_message_size: 1_000_000,
            close_grace: Duration::from_secs(20),
            binary_prefix: None,
        }
    }
}
