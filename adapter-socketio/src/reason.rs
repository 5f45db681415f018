//! Why a socket left its namespace.

use roomcast_core::CloseReason;

/// Why a socket disconnected, with the reference server's reason strings.
///
/// ```
/// use roomcast_socketio::DisconnectReason;
/// assert_eq!(DisconnectReason::ClientNamespaceDisconnect.as_str(), "client namespace disconnect");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DisconnectReason {
    /// The connection was closed by the client (close packet, TCP close).
    TransportClose,
    /// The connection failed.
    TransportError,
    /// The client did not answer a heartbeat in time.
    PingTimeout,
    /// The client sent a packet that could not be decoded.
    ParseError,
    /// The server closed the whole connection.
    ForcedClose,
    /// The server disconnected the socket from its namespace.
    ServerNamespaceDisconnect,
    /// The client left the namespace.
    ClientNamespaceDisconnect,
    /// The server is shutting down.
    ServerShuttingDown,
    /// The client did not read fast enough and its queue overflowed
    /// (roomcast's own reason; the reference server has no bound).
    SlowClient,
}

impl DisconnectReason {
    /// The reason string, as the reference server gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::ForcedClose => "forced close",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerShuttingDown => "server shutting down",
            DisconnectReason::SlowClient => "slow client",
        }
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<CloseReason> for DisconnectReason {
    fn from(r: CloseReason) -> Self {
        match r {
            CloseReason::TransportClose => DisconnectReason::TransportClose,
            CloseReason::TransportError => DisconnectReason::TransportError,
            CloseReason::PingTimeout => DisconnectReason::PingTimeout,
            CloseReason::ParseError => DisconnectReason::ParseError,
            CloseReason::Forced => DisconnectReason::ForcedClose,
            CloseReason::ServerShutdown => DisconnectReason::ServerShuttingDown,
            CloseReason::SlowConsumer => DisconnectReason::SlowClient,
        }
    }
}
