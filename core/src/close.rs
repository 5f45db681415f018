//! Why a connection closed.

use serde::{Deserialize, Serialize};

/// Why a connection (and so every client on it) closed.
///
/// Transports report the first three; the session layer above adds the
/// others. The Socket.IO adapter maps each to the reference server's
/// disconnect reason string.
///
/// ```
/// use roomcast_core::CloseReason;
/// assert_eq!(CloseReason::PingTimeout.to_string(), "ping timeout");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
pub enum CloseReason {
    /// The peer closed the connection (close frame, close packet, or TCP FIN).
    #[error("transport close")]
    TransportClose,
    /// The connection failed (I/O error, protocol error on the wire).
    #[error("transport error")]
    TransportError,
    /// The peer did not answer a heartbeat in time.
    #[error("ping timeout")]
    PingTimeout,
    /// The peer sent something that could not be decoded.
    #[error("parse error")]
    ParseError,
    /// The server closed the connection on purpose.
    #[error("forced close")]
    Forced,
    /// The server is shutting down.
    #[error("server shutting down")]
    ServerShutdown,
    /// The client's outbound queue overflowed (it does not read fast enough).
    #[error("slow consumer")]
    SlowConsumer,
}
