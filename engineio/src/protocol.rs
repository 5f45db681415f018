//! The Engine.IO protocol revision of a session, decided once, at its
//! handshake, from the `EIO` query parameter: `4` is v4; anything else is
//! v3 (as the reference server reads it) and is accepted only with
//! [`EngineConfig::allow_eio3`](crate::EngineConfig::allow_eio3). Every
//! later request of the session must say the same revision.
//!
//! What differs in v3 (Socket.IO v2 clients), all decided here or by the
//! session from [`Socket::protocol`](crate::Socket::protocol):
//! - the heartbeat runs the other way: the client pings (`2`), the server
//!   answers (`3`) and closes a session that sent no ping for
//!   `ping_interval + ping_timeout`;
//! - a binary message carries its packet type `4` as its first byte on a
//!   WebSocket;
//! - polling bodies use the v3 payload format
//!   (`roomcast_transport_polling::payload_v3`), in its binary form
//!   unless the handshake asked for base64 (`b64`).
//!
//! The open packet, the upgrade probe and the close packet are the same.

use roomcast_core::Frame;

use crate::packet::{self, Packet, PacketError};

/// An Engine.IO protocol revision.
///
/// ```
/// use roomcast_engineio::Protocol;
/// assert_eq!(Protocol::from_query(Some("4")), Protocol::V4);
/// assert_eq!(Protocol::from_query(Some("3")), Protocol::V3);
/// assert_eq!(Protocol::from_query(None), Protocol::V3);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Engine.IO v3 (Socket.IO v2 clients; off unless allowed).
    V3,
    /// Engine.IO v4 (Socket.IO v3 and v4 clients).
    #[default]
    V4,
}

impl Protocol {
    /// The revision an `EIO` query value names, as the reference server
    /// reads it: `4` is v4, anything else (or nothing) v3.
    pub fn from_query(eio: Option<&str>) -> Protocol {
        match eio {
            Some("4") => Protocol::V4,
            _ => Protocol::V3,
        }
    }

    /// Decodes one frame from a client of this revision: a v3 binary
    /// packet starts with its type, and only messages may be binary (the
    /// type byte is dropped, sharing the buffer).
    pub(crate) fn decode(self, frame: Frame) -> Result<Packet, PacketError> {
        match (self, frame) {
            (Protocol::V3, Frame::Binary(b)) => match b.first() {
                Some(&MESSAGE_TYPE) => Ok(Packet::Message(Frame::Binary(b.slice(1..)))),
                Some(&other) => Err(PacketError::Type(char::from(b'0'.saturating_add(other)))),
                None => Err(PacketError::Empty),
            },
            (_, frame) => packet::decode(frame),
        }
    }

    /// The byte a v3 WebSocket writes before a binary message (its packet
    /// type), none in v4.
    pub(crate) fn binary_prefix(self) -> Option<u8> {
        match self {
            Protocol::V3 => Some(MESSAGE_TYPE),
            Protocol::V4 => None,
        }
    }
}

/// The Engine.IO type of a message packet, as a byte (v3 binary messages).
pub(crate) const MESSAGE_TYPE: u8 = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_binary_packets_lose_their_type_byte() {
        assert_eq!(
            Protocol::V3.decode(Frame::binary(vec![4, 1])),
            Ok(Packet::Message(Frame::binary(vec![1])))
        );
        assert_eq!(
            Protocol::V3.decode(Frame::binary(vec![2, 1])),
            Err(PacketError::Type('2'))
        );
        assert_eq!(
            Protocol::V3.decode(Frame::binary(vec![])),
            Err(PacketError::Empty)
        );
        assert_eq!(
            Protocol::V4.decode(Frame::binary(vec![4, 1])),
            Ok(Packet::Message(Frame::binary(vec![4, 1])))
        );
        assert_eq!(
            Protocol::V3.decode(Frame::text("2")),
            Ok(Packet::Ping("".into()))
        );
    }
}
