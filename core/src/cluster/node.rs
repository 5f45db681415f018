//! Node identifiers.
//!
//! A [`NodeId`] is text: roomcast nodes pick 16 random URL-safe characters,
//! other servers of a mixed cluster keep whatever id their own protocol
//! uses (Node's redis adapter uses 6 characters). Cheap to clone.

use std::fmt;
use std::sync::Arc;

use rand::Rng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Identifies a node of the cluster.
///
/// ```
/// use roomcast_core::cluster::NodeId;
/// let id = NodeId::random();
/// assert_eq!(id.as_str().len(), 16);
/// assert_eq!(NodeId::from("abc123").as_str(), "abc123");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(Arc<str>);

impl NodeId {
    /// A new random id (16 characters, 96 bits).
    pub fn random() -> Self {
        let mut rng = rand::rng();
        let id: String = (0..16)
            .map(|_| ALPHABET[rng.random_range(0..64)] as char)
            .collect();
        NodeId(Arc::from(id))
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for NodeId {
    fn from(s: &str) -> Self {
        NodeId(Arc::from(s))
    }
}

impl From<String> for NodeId {
    fn from(s: String) -> Self {
        NodeId(Arc::from(s))
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({})", &self.0)
    }
}

impl Serialize for NodeId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for NodeId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(NodeId::from)
    }
}
