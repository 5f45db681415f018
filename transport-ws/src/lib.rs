//! roomcast-transport-ws: the WebSocket transport, over tokio-tungstenite.
//!
//! - [`handshake`]: answers an HTTP/1.1 upgrade request (`101 Switching
//!   Protocols`) inside any hyper 1 service and yields the upgraded stream.
//! - [`WsConnection`]: one WebSocket, carrying [`Frame`](roomcast_core::Frame)s both ways between
//!   the peer and an [`Endpoint`](roomcast_core::Endpoint).
//!
//! Semantics of [`WsConnection::carry`]:
//! - **Writes are coalesced**: the connection waits for its outbox, takes
//!   every queued frame, writes them all into tungstenite's write buffer and
//!   flushes once.
//! - **Reads come in bursts**: after a frame arrives, the frames already
//!   received (up to 64) are delivered too before the outbox is written, so
//!   the answers to a burst of requests go out in one write.
//! - **Reads** are delivered to [`Endpoint::receive`](roomcast_core::Endpoint::receive) in arrival order;
//!   WebSocket pings are answered by tungstenite and never reach the
//!   endpoint.
//! - **Close**: when the outbox closes, the frames queued before the close
//!   are written, then a close frame; when the peer closes or the socket
//!   fails, the endpoint hears of it once through
//!   [`Endpoint::transport_closed`](roomcast_core::Endpoint::transport_closed). A message over the size limit closes
//!   the connection with code 1009 (message too big).
//! - **Memory**: the read buffer is small (1 KiB by default instead of
//!   tungstenite's 128 KiB) and the write buffer is flushed at every batch.

#![warn(missing_docs)]

mod connection;
pub mod handshake;

pub use connection::{WsConfig, WsConnection, WsError};
