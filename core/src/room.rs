//! Room names.
//!
//! A [`Room`] is a cheap-to-clone, immutable string. Every client is a member
//! of the room named by its own id for as long as it is connected; other
//! rooms exist while they have at least one member and vanish when the last
//! member leaves.

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ClientId;

/// The name of a room.
///
/// ```
/// use roomcast_core::Room;
/// let room = Room::from("hello-1234");
/// assert_eq!(room.as_str(), "hello-1234");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Room(Arc<str>);

impl Room {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The room named by a client's own id.
    pub fn of_client(id: ClientId) -> Self {
        Room(Arc::from(id.as_str()))
    }
}

impl From<&str> for Room {
    fn from(s: &str) -> Self {
        Room(Arc::from(s))
    }
}

impl From<String> for Room {
    fn from(s: String) -> Self {
        Room(Arc::from(s))
    }
}

impl From<&String> for Room {
    fn from(s: &String) -> Self {
        Room(Arc::from(s.as_str()))
    }
}

impl From<ClientId> for Room {
    fn from(id: ClientId) -> Self {
        Room::of_client(id)
    }
}

impl Borrow<str> for Room {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Room {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

impl Serialize for Room {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Room {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Room(Arc::from(&*s)))
    }
}
