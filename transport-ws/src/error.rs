//! Why a WebSocket connection stops: [`WsError`] for the peer and the
//! socket, `ReadEnd` for why reading stopped (including the endpoint
//! refusing a message).

use std::io;

use roomcast_core::CloseReason;

/// Why a WebSocket read or write failed.
#[derive(Debug, thiserror::Error)]
pub enum WsError {
    /// The peer sent a message over [`WsConfig::max_message_size`](crate::WsConfig::max_message_size).
    #[error("message over the size limit")]
    TooBig,
    /// The peer closed the connection (close frame or end of stream).
    #[error("connection closed by the peer")]
    Closed,
    /// The peer broke the WebSocket protocol.
    #[error("websocket protocol violation: {0}")]
    Protocol(&'static str),
    /// A text message that is not UTF-8.
    #[error("text message is not valid UTF-8")]
    InvalidUtf8,
    /// The socket failed.
    #[error("websocket i/o failure: {0}")]
    Io(#[from] io::Error),
}

impl WsError {
    /// The close code this error is answered with, if any.
    pub(crate) fn close_code(&self) -> Option<u16> {
        match self {
            WsError::TooBig => Some(1009),
            WsError::Protocol(_) => Some(1002),
            WsError::InvalidUtf8 => Some(1007),
            WsError::Closed | WsError::Io(_) => None,
        }
    }
}

/// Why reading stopped.
pub(crate) enum ReadEnd {
    /// The peer or the socket.
    Connection(WsError),
    /// The endpoint refused a message (it has closed the session).
    Refused(CloseReason),
}

impl From<WsError> for ReadEnd {
    fn from(e: WsError) -> Self {
        ReadEnd::Connection(e)
    }
}
