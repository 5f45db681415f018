//! roomcast-engineio: Engine.IO v4 sessions over WebSocket and HTTP
//! long-polling, with the upgrade from one to the other.
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

mod config;
mod engine;
mod packet;
#[cfg(feature = "polling")]
mod polling;
mod service;
pub mod socket;
#[cfg(feature = "ws")]
mod websocket;

pub use config::{
    AllowOrigin, AllowRequest, Cors, EngineConfig, HandshakeHeaders, RemoteAddr, RequestInfo,
    TransportKind,
};
pub use engine::{Body, Engine, ErrorCode};
pub use packet::{
    decode as decode_packet, message_binary, message_text, Packet, PacketError, MESSAGE_PREFIX,
};
pub use service::{EngineLayer, EngineService, Mounted};
pub use socket::{Handler, Handshake, Socket};
