//! Errors of emitting and of connecting to a namespace.

use roomcast_core::Message;
use serde_json::Value;

use crate::parser;

/// Why an event could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    /// The event name is reserved by the protocol (`connect`, `disconnect`…).
    #[error("\"{0}\" is a reserved event name")]
    Reserved(String),
    /// The arguments could not be encoded.
    #[error(transparent)]
    Encode(#[from] parser::EncodeError),
    /// The connection is closed.
    #[error("the connection is closed")]
    Closed,
    /// The client's queue overflowed; it was disconnected.
    #[error("the client's queue overflowed; it was disconnected")]
    Overflow,
}

/// A refused namespace connection, sent to the client as CONNECT_ERROR.
///
/// ```
/// use roomcast_socketio::ConnectError;
/// let e = ConnectError::new("unauthorized").with_data(serde_json::json!({"retry": false}));
/// assert_eq!(e.message, "unauthorized");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ConnectError {
    /// The message the client's `connect_error` gets.
    pub message: String,
    /// Extra data for the client (`err.data`).
    pub data: Option<Value>,
}

impl ConnectError {
    /// A refusal with a message.
    pub fn new(message: impl Into<String>) -> Self {
        ConnectError {
            message: message.into(),
            data: None,
        }
    }

    /// Adds data for the client.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// `{"message": …, "data": …}`, as a Socket.IO v5 CONNECT_ERROR.
    pub(crate) fn to_value(&self) -> Value {
        let mut body = serde_json::Map::new();
        body.insert("message".into(), Value::String(self.message.clone()));
        if let Some(data) = &self.data {
            body.insert("data".into(), data.clone());
        }
        Value::Object(body)
    }

    /// The CONNECT_ERROR with `data` for namespace `ns`.
    pub(crate) fn encode_data(parser: &dyn parser::Parser, ns: &str, data: &Value) -> Message {
        parser.encode_value(parser::PacketType::ConnectError, ns, None, Some(data), &[])
    }

    pub(crate) fn encode(&self, parser: &dyn parser::Parser, ns: &str) -> Message {
        Self::encode_data(parser, ns, &self.to_value())
    }
}
