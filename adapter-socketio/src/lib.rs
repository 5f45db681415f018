//! roomcast-socketio: a Socket.IO v5 server (Engine.IO v4 underneath) on
//! roomcast-core, compatible with every Socket.IO 3/4 client.
//!
//! - [`Server`]: options, namespaces, broadcast from anywhere; a hyper 1 /
//!   tower service, a layer, or a standalone server.
//! - [`Namespace`]: its sockets, rooms, middlewares and connect handler.
//! - [`Socket`]: one client in one namespace: events, acks, rooms, hooks.
//! - [`BroadcastOperator`]: `to` / `except` / `volatile` / `local` /
//!   `timeout`, then `emit`, `emit_with_ack` or a room action.
//! - [`parser`]: the packet codec, behind the [`parser::Parser`] trait.
//!
//! ```no_run
//! use roomcast_socketio::{AckSender, Server, Socket};
//!
//! # async fn run() -> std::io::Result<()> {
//! let io = Server::new();
//! let io2 = io.clone();
//! io.on_connect(move |socket: Socket| {
//!     let io = io2.clone();
//!     async move {
//!         socket.on("join", move |socket: Socket, room: String, _: AckSender| {
//!             let io = io.clone();
//!             async move {
//!                 socket.join([room.as_str()]);
//!                 io.to([room.as_str()]).emit("hello", &format!("welcome to {room}")).ok();
//!             }
//!         });
//!     }
//! });
//! io.serve(tokio::net::TcpListener::bind("127.0.0.1:3000").await?).await
//! # }
//! ```

#![warn(missing_docs)]

mod ack;
mod client;
mod extensions;
mod handler;
mod handshake;
mod namespace;
mod operators;
pub mod parser;
mod reason;
mod remote;
mod remote_socket;
mod server;
mod server_events;
mod socket;

pub use ack::{AckError, AckReply, AckSender, BroadcastAcks};
pub use extensions::Extensions;
pub use handshake::Handshake;
pub use namespace::Namespace;
pub use operators::BroadcastOperator;
pub use parser::Args;
pub use reason::DisconnectReason;
pub use remote_socket::RemoteSocket;
pub use roomcast_core::{ClientId, Room};
pub use roomcast_engineio as engineio;
pub use server::{Server, ServerBuilder, ServerConfig};
pub use server_events::{ServerAcks, ServerEvent};
pub use socket::Socket;

use roomcast_core::Message;
use serde_json::Value;

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

    pub(crate) fn encode(&self, ns: &str) -> Message {
        let mut body = serde_json::Map::new();
        body.insert("message".into(), Value::String(self.message.clone()));
        if let Some(data) = &self.data {
            body.insert("data".into(), data.clone());
        }
        parser::encode_value(
            parser::PacketType::ConnectError,
            ns,
            None,
            Some(&Value::Object(body)),
            &[],
        )
    }
}
