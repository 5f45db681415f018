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
//! io.on_connect(|socket: Socket| async move {
//!     socket.on("join", |socket: Socket, room: String, ack: AckSender| async move {
//!         socket.join([room.as_str()]);
//!         socket.ns().to([room.as_str()]).emit("hello", &format!("welcome to {room}")).ok();
//!         ack.send(&"joined").ok();
//!     });
//! });
//! io.serve(tokio::net::TcpListener::bind("127.0.0.1:3000").await?).await
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ack;
#[cfg(feature = "admin-ui")]
pub mod admin;
mod client;
mod client_files;
mod entry_points;
mod error;
mod event_handler;
mod extensions;
mod handler;
mod handshake;
#[cfg(feature = "metrics")]
pub mod metrics;
mod namespace;
mod observe;
mod operators;
pub mod parser;
mod protocol;
mod raw_args;
mod reason;
mod recovery;
mod registry;
mod remote;
mod remote_socket;
mod reserved;
mod server;
mod server_events;
mod server_io;
mod socket;
mod state;

pub use ack::{AckError, AckReply, AckSender, BroadcastAcks};
pub use error::{ConnectError, EmitError};
pub use event_handler::EventHandler;
pub use extensions::Extensions;
pub use handshake::Handshake;
pub use namespace::Namespace;
pub use operators::BroadcastOperator;
pub use parser::Args;
pub use raw_args::RawArgs;
pub use reason::DisconnectReason;
pub use recovery::RecoveryConfig;
pub use remote_socket::RemoteSocket;
pub use roomcast_core::{ClientId, Room};
pub use roomcast_engineio as engineio;
pub use roomcast_engineio::TransportKind;
pub use server::{Server, ServerBuilder, ServerConfig};
pub use server_events::{ServerAcks, ServerEvent};
pub use socket::{CompressEmit, ListenerId, Socket, SocketError, Volatile};
