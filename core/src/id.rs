//! Client identifiers.
//!
//! A [`ClientId`] is 128 bits from a CSPRNG (rand's thread-local ChaCha12
//! generator, seeded and periodically reseeded from the operating system),
//! written as 22 characters of URL-safe base64 without padding. Ids are `Copy`, compare
//! and hash as bytes, and never allocate. They are unguessable: knowing every
//! other id tells nothing about the next one. An id made elsewhere may also
//! be the 20 characters of a Node socket.io server's ids (15 random bytes,
//! [`NODE_ID_LEN`]), so that the sockets and the recovered sessions of Node
//! servers in one cluster keep their ids here.

use std::fmt;
use std::str::FromStr;

use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Length in characters of the text form of a [`ClientId`] made here.
pub const CLIENT_ID_LEN: usize = 22;

/// Length in characters of the ids a Node socket.io server makes (its
/// `base64id`: 15 random bytes), which [`ClientId`] parses too.
pub const NODE_ID_LEN: usize = 20;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The id of a connected client: 128 random bits as 22 URL-safe characters.
///
/// ```
/// use roomcast_core::ClientId;
/// let id = ClientId::random();
/// assert_eq!(id.as_str().len(), 22);
/// assert_eq!(id.as_str().parse::<ClientId>().unwrap(), id);
/// // A Node server's socket id:
/// assert_eq!("Xj1v2Iq-hJ_3bbXnAAAB".parse::<ClientId>().unwrap().as_str().len(), 20);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClientId {
    /// The text, `len` bytes of it (the rest zero).
    text: [u8; CLIENT_ID_LEN],
    len: u8,
}

impl ClientId {
    /// A new id from the CSPRNG (no system call per id).
    pub fn random() -> Self {
        let mut raw = [0u8; 16];
        rand::rng().fill_bytes(&mut raw);
        Self::from_random_bytes(raw)
    }

    fn from_random_bytes(raw: [u8; 16]) -> Self {
        // 128 bits -> 22 sextets (the last one carries 2 bits).
        let mut out = [0u8; CLIENT_ID_LEN];
        let value = u128::from_be_bytes(raw);
        for (i, slot) in out.iter_mut().enumerate() {
            let shift = 128i32 - 6 * (i as i32 + 1);
            let sextet = if shift >= 0 {
                (value >> shift) & 0x3f
            } else {
                (value << (-shift)) & 0x3f
            };
            *slot = ALPHABET[sextet as usize];
        }
        ClientId {
            text: out,
            len: CLIENT_ID_LEN as u8,
        }
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        // Every byte comes from ALPHABET, which is ASCII.
        std::str::from_utf8(&self.text[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl std::hash::Hash for ClientId {
    /// The text, in one write (a derived impl wrote the array, its length
    /// and `len`: three calls into the hasher).
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write(&self.text[..usize::from(self.len)]);
    }
}

/// The hasher of the maps keyed by [`ClientId`] (sessions, sockets,
/// clients): foldhash, seeded per process. Ids are random, made here or by
/// a Node server of the cluster; a peer can look one up but never choose
/// one that is inserted, so a fast hash cannot be steered into
/// collisions, and SipHash (the standard maps' default, there for keys a
/// peer chooses) is not needed. Maps keyed by what a peer may choose, such
/// as room names, keep SipHash.
///
/// ```
/// use roomcast_core::{ClientId, IdHasher};
/// let sessions: dashmap::DashMap<ClientId, u32, IdHasher> = Default::default();
/// let id = ClientId::random();
/// sessions.insert(id, 1);
/// assert_eq!(*sessions.get(&id).unwrap(), 1);
/// ```
pub type IdHasher = foldhash::fast::RandomState;

/// Why a string is not a [`ClientId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a client id: expected {CLIENT_ID_LEN} (or Node's {NODE_ID_LEN}) URL-safe base64 characters")]
pub struct InvalidClientId;

impl FromStr for ClientId {
    type Err = InvalidClientId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = s.as_bytes();
        let len = bytes.len();
        // A range test per byte: `ALPHABET.contains` searched the alphabet
        // for each one, 400 instructions per id.
        let url_safe = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_';
        if !(len == CLIENT_ID_LEN || len == NODE_ID_LEN) || !bytes.iter().all(url_safe) {
            return Err(InvalidClientId);
        }
        let mut text = [0u8; CLIENT_ID_LEN];
        text[..len].copy_from_slice(bytes);
        Ok(ClientId {
            text,
            len: len as u8,
        })
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientId({})", self.as_str())
    }
}

impl Serialize for ClientId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ClientId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_url_safe_and_distinct() {
        let ids: HashSet<_> = (0..10_000).map(|_| ClientId::random()).collect();
        assert_eq!(ids.len(), 10_000);
        for id in &ids {
            assert!(id
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        }
    }

    #[test]
    fn encoding_uses_every_bit() {
        let zero = ClientId::from_random_bytes([0; 16]);
        let ones = ClientId::from_random_bytes([0xff; 16]);
        assert_eq!(zero.as_str(), "AAAAAAAAAAAAAAAAAAAAAA");
        // 128 bits = 21 full sextets + 2 bits in the last one (0b11 << 4).
        assert_eq!(ones.as_str(), "_____________________w");
    }

    #[test]
    fn node_ids_keep_their_text_and_differ_from_ours() {
        let node: ClientId = "Xj1v2Iq-hJ_3bbXnAAAB".parse().unwrap();
        assert_eq!(node.as_str(), "Xj1v2Iq-hJ_3bbXnAAAB");
        let padded: ClientId = "Xj1v2Iq-hJ_3bbXnAAABAA".parse().unwrap();
        assert_ne!(node, padded);
        assert!("Xj1v2Iq-hJ_3bbXnAAA".parse::<ClientId>().is_err());
        assert!("Xj1v2Iq-hJ_3bbXnAAABA".parse::<ClientId>().is_err());
    }

    #[test]
    fn accepts_exactly_the_alphabet() {
        for b in 0u8..128 {
            let text = format!("{}{}", "A".repeat(CLIENT_ID_LEN - 1), char::from(b));
            assert_eq!(
                text.parse::<ClientId>().is_ok(),
                ALPHABET.contains(&b),
                "{b}"
            );
        }
    }

    #[test]
    fn rejects_bad_text() {
        assert!("short".parse::<ClientId>().is_err());
        assert!("AAAAAAAAAAAAAAAAAAAAA!".parse::<ClientId>().is_err());
    }
}
