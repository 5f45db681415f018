//! Engine.IO v4 packets as they appear in frames.
//!
//! A text frame starts with the packet type digit: `0` open, `1` close,
//! `2` ping, `3` pong, `4` message, `5` upgrade, `6` noop. A binary frame is
//! always a message. Messages given to the [`Handler`](crate::Handler) have
//! the `4` removed (sharing the frame's buffer).

use bytes::Bytes;
use roomcast_core::{ClientId, Frame, Text};

use crate::config::{EngineConfig, TransportKind};

/// A packet a client may send, decoded from one frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Packet {
    /// `1`: the client closes the session.
    Close,
    /// `2…`: a ping (only `2probe` during an upgrade, in practice).
    Ping(Text),
    /// `3`: the answer to the server's ping.
    Pong,
    /// `4…` or a binary frame: a message for the layer above.
    Message(Frame),
    /// `5`: the upgrade to the probed transport is complete.
    Upgrade,
    /// `6`: nothing.
    Noop,
}

/// Why a frame is not an Engine.IO packet a client may send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// The frame is empty.
    #[error("empty packet")]
    Empty,
    /// The type digit is unknown or not one a client sends.
    #[error("unexpected packet type {0:?}")]
    Type(char),
}

/// Decodes one frame from a client. Never panics; allocation-free (text is
/// shared with the frame).
///
/// ```
/// use roomcast_core::Frame;
/// use roomcast_engineio::{decode_packet, Packet};
/// assert_eq!(decode_packet(Frame::text("3")), Ok(Packet::Pong));
/// assert!(decode_packet(Frame::text("x")).is_err());
/// ```
pub fn decode(frame: Frame) -> Result<Packet, PacketError> {
    let text = match frame {
        Frame::Binary(b) => return Ok(Packet::Message(Frame::Binary(b))),
        Frame::Text(t) => t,
    };
    let first = text.as_str().chars().next().ok_or(PacketError::Empty)?;
    let rest = || text.slice_from(1).unwrap_or_default();
    match first {
        '1' => Ok(Packet::Close),
        '2' => Ok(Packet::Ping(rest())),
        '3' => Ok(Packet::Pong),
        '4' => Ok(Packet::Message(Frame::Text(rest()))),
        '5' => Ok(Packet::Upgrade),
        '6' => Ok(Packet::Noop),
        other => Err(PacketError::Type(other)),
    }
}

pub(crate) const PING: Text = Text::from_static("2");
pub(crate) const CLOSE: Text = Text::from_static("1");
pub(crate) const NOOP: Text = Text::from_static("6");
pub(crate) const PROBE: &str = "2probe";
pub(crate) const PROBE_ANSWER: Text = Text::from_static("3probe");

/// The prefix of an Engine.IO message packet in a text frame: layers above
/// write `4` followed by their payload.
pub const MESSAGE_PREFIX: char = '4';

/// A message text frame: `4` followed by `payload`.
///
/// ```
/// let f = roomcast_engineio::message_text("hello");
/// assert_eq!(f, roomcast_core::Frame::text("4hello"));
/// ```
pub fn message_text(payload: &str) -> Frame {
    let mut s = String::with_capacity(payload.len() + 1);
    s.push(MESSAGE_PREFIX);
    s.push_str(payload);
    Frame::text(s)
}

/// A message binary frame.
pub fn message_binary(payload: impl Into<Bytes>) -> Frame {
    Frame::Binary(payload.into())
}

/// The message frame that carries `payload` as
/// [`Handler::on_message`](crate::Handler::on_message) hands it (text
/// without the `4`, or binary): what sends the same message back.
///
/// ```
/// use roomcast_core::Frame;
/// let f = roomcast_engineio::message_frame(Frame::text("hello"));
/// assert_eq!(f, Frame::text("4hello"));
/// assert_eq!(roomcast_engineio::message_frame(Frame::binary(vec![1u8])), Frame::binary(vec![1u8]));
/// ```
pub fn message_frame(payload: Frame) -> Frame {
    match payload {
        Frame::Text(t) => message_text(t.as_str()),
        binary => binary,
    }
}

/// The open packet of a new session on `transport`: WebSocket is offered
/// as an upgrade to a polling session when upgrades are allowed and the
/// WebSocket transport is offered.
pub(crate) fn open_packet(config: &EngineConfig, id: ClientId, transport: TransportKind) -> Text {
    let upgrades: &[&str] = if transport == TransportKind::Polling
        && config.allow_upgrades
        && config.offers(TransportKind::WebSocket)
    {
        &["websocket"]
    } else {
        &[]
    };
    let millis = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    open(
        id.as_str(),
        upgrades,
        millis(config.ping_interval),
        millis(config.ping_timeout),
        config.max_payload,
    )
}

/// The open packet (`0{...}`) with exactly the keys the protocol defines.
fn open(
    sid: &str,
    upgrades: &[&str],
    ping_interval: u64,
    ping_timeout: u64,
    max_payload: usize,
) -> Text {
    // Written in one buffer: the sid is base64url and the upgrades are
    // transport names, so nothing needs escaping.
    let mut numbers = itoa::Buffer::new();
    let mut out = String::with_capacity(112 + sid.len());
    out.push_str("0{\"sid\":\"");
    out.push_str(sid);
    out.push_str("\",\"upgrades\":[");
    for (i, upgrade) in upgrades.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(upgrade);
        out.push('"');
    }
    out.push_str("],\"pingInterval\":");
    out.push_str(numbers.format(ping_interval));
    out.push_str(",\"pingTimeout\":");
    out.push_str(numbers.format(ping_timeout));
    out.push_str(",\"maxPayload\":");
    out.push_str(numbers.format(max_payload));
    out.push('}');
    Text::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_frames_never_panic(text in "\\PC{0,40}", bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = decode(Frame::text(text.as_str()));
            let _ = decode(Frame::binary(bytes));
        }

        #[test]
        fn messages_round_trip(payload in "\\PC{0,40}") {
            prop_assert_eq!(
                decode(message_text(&payload)),
                Ok(Packet::Message(Frame::text(payload.as_str())))
            );
        }
    }

    #[test]
    fn decodes_client_packets() {
        assert_eq!(decode(Frame::text("1")), Ok(Packet::Close));
        assert_eq!(decode(Frame::text("3")), Ok(Packet::Pong));
        assert_eq!(
            decode(Frame::text("2probe")),
            Ok(Packet::Ping(Text::from("probe")))
        );
        assert_eq!(
            decode(Frame::text("4hi")),
            Ok(Packet::Message(Frame::text("hi")))
        );
        assert_eq!(
            decode(Frame::binary(vec![1])),
            Ok(Packet::Message(Frame::binary(vec![1])))
        );
        assert_eq!(decode(Frame::text("")), Err(PacketError::Empty));
        assert_eq!(decode(Frame::text("9")), Err(PacketError::Type('9')));
        assert_eq!(decode(Frame::text("0{}")), Err(PacketError::Type('0')));
    }

    #[test]
    fn open_packet_has_exactly_the_protocol_keys_in_order() {
        let t = open("abc", &["websocket"], 25000, 20000, 1_000_000);
        assert_eq!(
            t.as_str(),
            r#"0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
        );
        let t = open("x-_9", &[], 1, 2, 3);
        assert_eq!(
            t.as_str(),
            r#"0{"sid":"x-_9","upgrades":[],"pingInterval":1,"pingTimeout":2,"maxPayload":3}"#
        );
        let t = open("s", &["a", "b"], 4, 5, 6);
        let parsed: serde_json::Value = serde_json::from_str(&t.as_str()[1..]).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({"sid": "s", "upgrades": ["a", "b"], "pingInterval": 4, "pingTimeout": 5, "maxPayload": 6})
        );
    }
}
