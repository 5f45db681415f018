//! roomcast-engineio: Engine.IO v4 sessions over WebSocket and HTTP
//! long-polling, with the upgrade from one to the other (and Engine.IO v3
//! sessions when allowed, see [`Protocol`]).
//!
//! The session layer lives here, between the transports (which only move
//! frames) and Socket.IO (which only sees messages): it owns the handshake,
//! the heartbeat, the upgrade and the error responses, which are the same
//! whatever protocol runs on top, so a bare Engine.IO server needs nothing
//! else.
//!
//! - [`Engine`]: the session table and the HTTP entry point (a hyper 1 /
//!   tower service, a layer, or a standalone server).
//! - [`Socket`]: one session; [`Handler`]: what the layer above does with
//!   sessions.
//! - Cargo features `ws` and `polling` (both default) choose the transports
//!   compiled in; a build with one does not compile the other's crate.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(all(feature = "ws", feature = "polling")), allow(dead_code))]

#[cfg(feature = "ws")]
mod accept;
#[cfg(feature = "polling")]
mod compression;
mod config;
mod cors;
mod engine;
pub mod events;
mod handler;
mod handshake;
mod heartbeat;
mod packet;
mod phase;
#[cfg(feature = "polling")]
mod polling;
mod protocol;
mod query;
mod registry;
mod response;
mod service;
mod sessions;
pub mod socket;
mod static_files;
#[cfg(feature = "ws")]
mod websocket;

pub use config::{
    allow_request, allow_request_async, AllowFuture, AllowRequest, EngineConfig, RemoteAddr,
    RequestInfo, TransportKind,
};
pub use cors::{AllowOrigin, Cors};
pub use engine::Engine;
pub use events::{ConnectionError, ConnectionErrorHook, ErrorContext, HeadersFn, HeadersHook};
pub use handler::Handler;
pub use handshake::Handshake;
pub use packet::{
    decode as decode_packet, message_binary, message_frame, message_text, Packet, PacketError,
    MESSAGE_PREFIX,
};
pub use protocol::Protocol;
pub use response::{Body, ErrorCode};
#[cfg(feature = "polling")]
pub use roomcast_transport_polling::compress::HttpCompression;
#[cfg(feature = "ws")]
pub use roomcast_transport_ws::PerMessageDeflate;
pub use service::{EngineLayer, EngineService, Mounted};
pub use socket::Socket;
pub use static_files::StaticFiles;
