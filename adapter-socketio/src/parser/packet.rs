//! Packet types and decoded packets.
//!
//! A [`Packet`] is what a [`Decoder`](super::Decoder) produces: the packet
//! type, namespace (`"/"` when absent on the wire), ack id, JSON payload with
//! binary placeholders left in place, and the binary attachments (index =
//! placeholder `num`). The payload is [`Data`]: a decoded value, or an
//! `EVENT`'s array still as text ([`EventJson`]), decoded only if a
//! listener wants values.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;
use smol_str::SmolStr;

use super::{DecodeError, EventJson};

/// The Socket.IO packet type: the first character of every packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PacketType {
    /// Connection to a namespace (request from the client, approval from the
    /// server with `{"sid": ...}`).
    Connect = 0,
    /// Disconnection from a namespace.
    Disconnect = 1,
    /// An event: `["name", args...]`.
    Event = 2,
    /// An acknowledgement: `[args...]` with the event's ack id.
    Ack = 3,
    /// Refusal of a namespace connection.
    ConnectError = 4,
    /// An event with binary attachments.
    BinaryEvent = 5,
    /// An acknowledgement with binary attachments.
    BinaryAck = 6,
}

impl PacketType {
    /// All packet types, in numeric order.
    pub const ALL: [PacketType; 7] = [
        PacketType::Connect,
        PacketType::Disconnect,
        PacketType::Event,
        PacketType::Ack,
        PacketType::ConnectError,
        PacketType::BinaryEvent,
        PacketType::BinaryAck,
    ];

    /// The numeric type.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// The ASCII digit written on the wire.
    pub const fn as_char(self) -> char {
        (b'0' + self as u8) as char
    }

    /// The type with this number, if any.
    pub const fn from_u8(n: u8) -> Option<PacketType> {
        Some(match n {
            0 => PacketType::Connect,
            1 => PacketType::Disconnect,
            2 => PacketType::Event,
            3 => PacketType::Ack,
            4 => PacketType::ConnectError,
            5 => PacketType::BinaryEvent,
            6 => PacketType::BinaryAck,
            _ => return None,
        })
    }

    /// Whether the type carries an attachment count (`BINARY_EVENT`,
    /// `BINARY_ACK`).
    pub const fn is_binary(self) -> bool {
        matches!(self, PacketType::BinaryEvent | PacketType::BinaryAck)
    }

    /// Whether the type is an event (`EVENT`, `BINARY_EVENT`).
    pub const fn is_event(self) -> bool {
        matches!(self, PacketType::Event | PacketType::BinaryEvent)
    }

    /// Whether the type is an acknowledgement (`ACK`, `BINARY_ACK`).
    pub const fn is_ack(self) -> bool {
        matches!(self, PacketType::Ack | PacketType::BinaryAck)
    }

    /// The type an event or ack is sent as: its binary type when it
    /// `carries_binary`, its plain type otherwise; other types unchanged.
    pub(crate) const fn sent_as(self, carries_binary: bool) -> PacketType {
        match (self, carries_binary) {
            (PacketType::Event | PacketType::BinaryEvent, false) => PacketType::Event,
            (PacketType::Event | PacketType::BinaryEvent, true) => PacketType::BinaryEvent,
            (PacketType::Ack | PacketType::BinaryAck, false) => PacketType::Ack,
            (PacketType::Ack | PacketType::BinaryAck, true) => PacketType::BinaryAck,
            (other, _) => other,
        }
    }
}

/// What every packet starts with: its type, namespace and ack id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// The packet type.
    pub kind: PacketType,
    /// The namespace; `""` means `/`.
    pub namespace: &'a str,
    /// The ack id.
    pub id: Option<u64>,
}

impl<'a> Header<'a> {
    /// The header of a packet of type `kind` in `namespace`, with ack id
    /// `id`.
    pub const fn new(kind: PacketType, namespace: &'a str, id: Option<u64>) -> Self {
        Header {
            kind,
            namespace,
            id,
        }
    }
}

/// A packet to encode: [`Packet`]'s parts, borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PacketRef<'a> {
    /// Type, namespace and ack id.
    pub header: Header<'a>,
    /// The JSON payload; its placeholders must match `attachments`.
    pub data: Option<&'a Value>,
    /// The binary attachments, in placeholder order.
    pub attachments: &'a [Bytes],
}

/// A packet's JSON payload.
///
/// Two packets' data are equal when they decode to the same value.
#[derive(Debug, Clone)]
pub enum Data {
    /// Decoded: placeholders left in place.
    Value(Value),
    /// An `EVENT`'s array as the JSON decoder received it: the name read,
    /// the arguments neither checked nor decoded yet (see [`EventJson`]).
    Event(EventJson),
}

impl Data {
    /// The decoded value (`None` for undecoded text).
    pub fn as_value(&self) -> Option<&Value> {
        match self {
            Data::Value(v) => Some(v),
            Data::Event(_) => None,
        }
    }

    /// The value, decoded if it is still text.
    pub fn into_value(self) -> Result<Value, DecodeError> {
        match self {
            Data::Value(v) => Ok(v),
            Data::Event(event) => event.to_value(),
        }
    }
}

impl From<Value> for Data {
    fn from(value: Value) -> Self {
        Data::Value(value)
    }
}

impl PartialEq for Data {
    fn eq(&self, other: &Data) -> bool {
        match (self, other) {
            (Data::Value(a), Data::Value(b)) => a == b,
            (Data::Event(a), Data::Event(b)) => a == b,
            (Data::Event(e), Data::Value(v)) | (Data::Value(v), Data::Event(e)) => {
                e.to_value().is_ok_and(|d| d == *v)
            }
        }
    }
}

/// A decoded incoming packet.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// The packet type.
    pub kind: PacketType,
    /// The namespace; `"/"` when absent on the wire. A [`SmolStr`]: a name
    /// of up to 23 bytes (nearly all) is held inline, so decoding a packet
    /// allocates nothing for it.
    pub namespace: SmolStr,
    /// The ack id.
    pub id: Option<u64>,
    /// The JSON payload, binary placeholders left in place.
    pub data: Option<Data>,
    /// The binary attachments; index = placeholder `num`. Empty unless the
    /// type is binary.
    pub attachments: Vec<Bytes>,
}

impl Packet {
    /// The packet, borrowed, as the encoders take it: its data must be
    /// decoded ([`decode_data`](Packet::decode_data)); undecoded text
    /// borrows as no data.
    pub fn borrowed(&self) -> PacketRef<'_> {
        PacketRef {
            header: Header::new(self.kind, &self.namespace, self.id),
            data: self.value(),
            attachments: &self.attachments,
        }
    }

    /// The decoded data, if any.
    fn value(&self) -> Option<&Value> {
        self.data.as_ref()?.as_value()
    }

    /// Decodes data still held as text; an error when it is not valid
    /// JSON (the packet is then left as it was).
    pub fn decode_data(&mut self) -> Result<(), DecodeError> {
        if let Some(Data::Event(event)) = &self.data {
            self.data = Some(Data::Value(event.to_value()?));
        }
        Ok(())
    }

    /// Checks data still held as text without decoding it (see
    /// [`EventJson::check`]); decoded data passed when it was decoded.
    pub fn check_data(&self) -> Result<(), DecodeError> {
        match &self.data {
            Some(Data::Event(event)) => event.check(),
            _ => Ok(()),
        }
    }

    /// For `EVENT` / `BINARY_EVENT`: the event name (the first array
    /// element, which the decoder checked is a string).
    pub fn event_name(&self) -> Option<&str> {
        if !self.kind.is_event() {
            return None;
        }
        match self.data.as_ref()? {
            Data::Event(event) => Some(event.name()),
            Data::Value(value) => value.as_array()?.first()?.as_str(),
        }
    }

    /// The arguments: for events, the data array without the event name; for
    /// acks, the whole data array; empty for other types, and for data not
    /// decoded yet ([`decode_data`](Packet::decode_data)).
    pub fn args(&self) -> &[Value] {
        let items = match self.value().and_then(Value::as_array) {
            Some(items) => items.as_slice(),
            None => return &[],
        };
        if self.kind.is_event() {
            items.get(1..).unwrap_or_default()
        } else if self.kind.is_ack() {
            items
        } else {
            &[]
        }
    }

    /// Takes [`Packet::args`] out of the packet, without copying them (an
    /// event's name is dropped; data held as text is decoded first, and has
    /// no arguments if it is not valid JSON); `data` is `None` after,
    /// unless there were none.
    ///
    /// ```
    /// use roomcast_socketio::parser::{Packet, PacketType};
    /// let mut packet = Packet {
    ///     kind: PacketType::Event,
    ///     namespace: "/".into(),
    ///     id: None,
    ///     data: Some(serde_json::json!(["hello", 1, "two"]).into()),
    ///     attachments: vec![],
    /// };
    /// assert_eq!(packet.take_args(), vec![serde_json::json!(1), serde_json::json!("two")]);
    /// assert!(packet.args().is_empty());
    /// ```
    pub fn take_args(&mut self) -> Vec<Value> {
        // Text that is not valid JSON has no arguments.
        let _ = self.decode_data();
        if self.args().is_empty() {
            return Vec::new();
        }
        let is_event = self.kind.is_event();
        match self.data.take() {
            Some(Data::Value(Value::Array(mut items))) => {
                if is_event {
                    items.remove(0);
                }
                items
            }
            _ => Vec::new(),
        }
    }

    /// Decodes [`Packet::args`] into `T` following the argument rules of
    /// [`decode_args`](super::decode_args).
    /// An `EVENT` still held as text is read from the text (through
    /// values only where that fails), as a typed listener reads it.
    pub fn decode_args<T: DeserializeOwned>(&self) -> Result<T, DecodeError> {
        match &self.data {
            Some(Data::Event(event)) => super::de_text::decode_event_args(event),
            _ => super::decode_args(self.args(), &self.attachments),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn packet(kind: PacketType, data: Value) -> Packet {
        Packet {
            kind,
            namespace: "/".into(),
            id: None,
            data: Some(data.into()),
            attachments: Vec::new(),
        }
    }

    #[test]
    fn type_numbers() {
        for (i, t) in PacketType::ALL.iter().enumerate() {
            assert_eq!(t.as_u8() as usize, i);
            assert_eq!(PacketType::from_u8(i as u8), Some(*t));
            assert_eq!(t.as_char(), char::from(b'0' + i as u8));
        }
        assert_eq!(PacketType::from_u8(7), None);
        assert!(PacketType::BinaryAck.is_binary() && PacketType::BinaryAck.is_ack());
        assert!(!PacketType::Event.is_binary() && PacketType::Event.is_event());
    }

    #[test]
    fn event_name_and_args() {
        let p = packet(PacketType::Event, json!(["chat", 1, "x"]));
        assert_eq!(p.event_name(), Some("chat"));
        assert_eq!(p.args(), &[json!(1), json!("x")]);
        let p = packet(PacketType::Ack, json!(["chat", 1]));
        assert_eq!(p.event_name(), None);
        assert_eq!(p.args().len(), 2);
        let p = packet(PacketType::Event, json!([]));
        assert_eq!(p.event_name(), None);
        assert!(p.args().is_empty());
        let p = packet(PacketType::Connect, json!({"a": 1}));
        assert!(p.args().is_empty());
    }
}
