//! roomcast-transport-ws: the WebSocket transport.
//!
//! - [`handshake`]: answers an HTTP/1.1 upgrade request (`101 Switching
//!   Protocols`) inside any hyper 1 service and yields the upgraded stream.
//! - [`WsConnection`]: one WebSocket, carrying [`Frame`](roomcast_core::Frame)s both ways between
//!   the peer and an [`Endpoint`](roomcast_core::Endpoint).
//!
//! The frame format (RFC 6455 §5) is written here, not taken from
//! tungstenite's stream, for two reasons: an idle connection holds no
//! buffer at all (reads go through one 64 KiB buffer per thread; only an
//! incomplete frame or bytes the socket refused are kept per connection),
//! and a batch of frames is encoded straight into one write. tungstenite
//! still computes the handshake's accept key.
//!
//! Semantics of [`WsConnection::serve`]:
//! - **Writes are coalesced**: the connection waits for its outbox, takes
//!   every queued frame, encodes them all and writes once.
//! - **Reads come in bursts**: every complete message of a read (up to 64
//!   KiB, up to four reads a turn) is delivered before the outbox is
//!   written, so the answers to a burst of requests go out in one write.
//! - **Reads** are delivered to [`Endpoint::receive`](roomcast_core::Endpoint::receive) in arrival order;
//!   WebSocket pings are answered here and never reach the endpoint.
//! - **Backpressure**: while the socket does not take what was written,
//!   the outbox is not drained; it fills up, and its overflow policy decides
//!   (an overflow ends the connection at once, see below).
//! - **Timers**: the connection task calls
//!   [`Endpoint::on_deadline`](roomcast_core::Endpoint::on_deadline) when the endpoint's deadline passes (the
//!   Engine.IO heartbeat), so a session needs no task of its own.
//! - **Close**: when the outbox closes, the frames queued before the close
//!   are written, then a close frame, within [`WsConfig::close_grace`];
//!   when the peer closes or the socket fails, or the outbox overflowed, the
//!   endpoint hears of it once through
//!   [`Endpoint::transport_closed`](roomcast_core::Endpoint::transport_closed). A message over the size limit closes
//!   the connection with code 1009 (message too big), a protocol violation
//!   with 1002, a text message that is not UTF-8 with 1007.
//! - **Compression**: `permessage-deflate` (RFC 7692) when the server
//!   enables it ([`PerMessageDeflate`], negotiated by
//!   [`handshake::accept_with`]); see `deflate/` for its semantics (the
//!   threshold, the parameters, bounded inflating, a broadcast compressed
//!   once).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod connection;
mod deflate;
mod error;
pub mod handshake;
mod read;
mod received;
mod scratch;
mod serve;
mod wire;
mod write;

pub use config::WsConfig;
pub use connection::WsConnection;
pub use deflate::{Negotiated, PerMessageDeflate};
pub use error::WsError;
