//! roomcast-core: transport-agnostic clients, rooms, broadcast and
//! backpressure for real-time servers.
//!
//! - [`ClientId`]: an unguessable id; every client is in the room named by it.
//! - [`Outbox`]: a client connection's bounded outbound queue, drained by its
//!   transport in batches; overflow drops volatile messages and disconnects
//!   slow clients.
//! - [`Hub`]: the room index and broadcast: a [`Message`] encoded once is
//!   delivered to every client of a [`Target`] exactly once.
//! - [`Endpoint`]: the seam a transport drives.
//! - [`cluster`]: the seam to other nodes, with the single-node default.
//!
//! No HTTP, WebSocket or Socket.IO format lives here.
//!
//! ```
//! use std::sync::Arc;
//! use roomcast_core::{ClientId, Flags, Frame, Hub, Message, Outbox, OutboxConfig, Target};
//!
//! let hub = Hub::new("/");
//! let id = ClientId::random();
//! let outbox = Arc::new(Outbox::new(OutboxConfig::default()));
//! hub.connect(id, outbox.clone()).unwrap();
//! hub.join(id, ["hello-1234"]).unwrap();
//! hub.broadcast(&Target::to(["hello-1234"]), &Message::from(Frame::text("hi")), Flags::default());
//! let mut batch = Vec::new();
//! outbox.drain(&mut batch);
//! assert_eq!(batch, vec![Frame::text("hi")]);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod close;
pub mod cluster;
pub mod endpoint;
mod frame;
pub mod hub;
mod id;
pub mod metrics;
pub mod outbox;
mod room;
mod target;
mod utc;

pub use close::CloseReason;
pub use endpoint::Endpoint;
pub use frame::{Frame, Message, Text};
pub use hub::{Delivery, Hub, HubError, RoomEvent};
pub use id::{ClientId, IdHasher, InvalidClientId, CLIENT_ID_LEN, NODE_ID_LEN};
pub use outbox::{Outbox, OutboxConfig, Overflow, PushError, Pushed};
pub use room::Room;
pub use target::{Flags, Target};
pub use utc::UtcTime;
