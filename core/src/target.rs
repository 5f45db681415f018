//! Broadcast targets and flags.
//!
//! A [`Target`] selects clients: the union of the members of `rooms` (every
//! client when `rooms` is empty), minus every member of the `except` rooms.
//! Leaving the sender out is excluding the room named by its own id
//! ([`Target::except_client`]), which works the same on every node.

use serde::{Deserialize, Serialize};

use crate::{ClientId, Room};

/// Which clients a broadcast (or a room operation) applies to.
///
/// ```
/// use roomcast_core::{ClientId, Room, Target};
/// let sender = ClientId::random();
/// let t = Target::to(["a", "b"]).except(["muted"]).except_client(sender);
/// assert_eq!(t.rooms.len(), 2);
/// assert!(t.except.contains(&Room::of_client(sender)));
/// assert!(Target::all().rooms.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The union of these rooms; empty means every client.
    pub rooms: Vec<Room>,
    /// Clients in any of these rooms are left out.
    pub except: Vec<Room>,
}

impl Target {
    /// Every client.
    pub fn all() -> Self {
        Target::default()
    }

    /// The members of these rooms.
    pub fn to<R: Into<Room>>(rooms: impl IntoIterator<Item = R>) -> Self {
        Target {
            rooms: rooms.into_iter().map(Into::into).collect(),
            except: Vec::new(),
        }
    }

    /// Adds rooms to the union.
    pub fn and<R: Into<Room>>(mut self, rooms: impl IntoIterator<Item = R>) -> Self {
        self.rooms.extend(rooms.into_iter().map(Into::into));
        self
    }

    /// Leaves out the members of these rooms.
    pub fn except<R: Into<Room>>(mut self, rooms: impl IntoIterator<Item = R>) -> Self {
        self.except.extend(rooms.into_iter().map(Into::into));
        self
    }

    /// Leaves out one client (the sender of a `broadcast`).
    pub fn except_client(mut self, id: ClientId) -> Self {
        self.except.push(Room::of_client(id));
        self
    }
}

/// How a broadcast is delivered.
///
/// ```
/// use roomcast_core::Flags;
/// let f = Flags { volatile: true, ..Flags::default() };
/// assert!(!f.local);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flags {
    /// May be dropped for a client whose queue cannot take it now.
    pub volatile: bool,
    /// Delivered on this node only, never forwarded to other nodes.
    pub local: bool,
}
