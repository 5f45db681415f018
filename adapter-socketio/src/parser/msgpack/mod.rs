//! The MessagePack parser, wire-compatible with the npm
//! `socket.io-msgpack-parser` (3.x, over notepack.io).
//!
//! # Wire format
//!
//! Every packet is one binary frame holding one MessagePack map:
//!
//! ```text
//! { "type": 0..=4, "nsp": "/chat", "id": 12, "data": ... }
//! ```
//!
//! - `type` is the plain packet type: there are no `BINARY_EVENT` /
//!   `BINARY_ACK` on this wire, bytes travel inside the packet as
//!   MessagePack `bin` (Node receives a `Buffer`; a browser an
//!   `ArrayBuffer`). Clients may also send notepack's ext type 0 (an
//!   `ArrayBuffer` or typed array); both decode as attachments.
//! - `nsp` is always written; `id` only when there is an ack id; `data`
//!   left out when there is none (a `DISCONNECT`).
//! - Over long-polling the frame travels base64-encoded (`b…`), as
//!   Engine.IO v4 does for any binary packet.
//!
//! Inside the server a decoded packet looks exactly like a JSON one (bytes
//! become placeholders plus attachments, see [`MsgPackDecoder`]), so
//! handlers, acks and typed arguments work the same with either parser.
//! Typed arguments are serialized straight into the frame (`ser.rs`), to
//! the same bytes as their JSON value ([`args_to_value`](super::args_to_value))
//! written as MessagePack; a broadcast is encoded once and its frame shared
//! by every recipient.

mod decode;
mod ser;

use bytes::Bytes;
use roomcast_core::{Frame, Message};
use serde_json::Value;

pub use decode::{MsgPackDecoder, MAX_DEPTH};
pub(crate) use ser::encode_args;

use super::{Decoder, DecoderLimits, Header, PacketRef, PacketType, Parser};

/// The MessagePack parser (npm `socket.io-msgpack-parser`).
///
/// ```
/// use roomcast_socketio::parser::MsgPackParser;
/// let io = roomcast_socketio::Server::builder()
///     .parser(MsgPackParser::new())
///     .build();
/// # let _ = io;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MsgPackParser {
    limits: DecoderLimits,
}

impl MsgPackParser {
    /// A parser with the default [`DecoderLimits`].
    pub const fn new() -> Self {
        MsgPackParser {
            limits: DecoderLimits::DEFAULT,
        }
    }

    /// A parser whose decoders enforce `limits` (only the namespace length
    /// applies: attachments are inside the frame, bounded by its size).
    pub const fn with_limits(limits: DecoderLimits) -> Self {
        MsgPackParser { limits }
    }
}

impl Parser for MsgPackParser {
    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(MsgPackDecoder::new(self.limits))
    }

    fn builtin(&self) -> Option<super::Builtin> {
        Some(super::Builtin::MsgPack)
    }

    fn encode(&self, packet: PacketRef<'_>) -> Message {
        Message::One(Frame::Binary(encode_packet(packet)))
    }

    /// Spliced into the frame when it has this parser's own layout (the
    /// data array last: its length is rewritten and the string appended);
    /// otherwise decoded and encoded again.
    fn append_arg(&self, message: &Message, arg: &str) -> Option<Message> {
        if let [Frame::Binary(frame)] = message.frames() {
            if let Some(spliced) = splice_arg(frame, arg) {
                return Some(Message::One(Frame::Binary(spliced)));
            }
        }
        super::append_arg_decoding(self, message, arg)
    }

    /// Frames from the cluster in the JSON format (a Redis adapter
    /// speaking for Node servers, or a node with the JSON parser) are
    /// decoded and written again as MessagePack, once per node.
    fn adopt(&self, frames: Vec<Frame>) -> Option<Message> {
        if !matches!(frames.first(), Some(Frame::Text(_))) {
            return Some(Message::many(frames));
        }
        let json = super::JsonParser::with_limits(DecoderLimits {
            max_attachments: usize::MAX,
            ..self.limits
        });
        let packet = super::decode_frames(&json, &frames)?;
        Some(self.encode(packet.borrowed()))
    }
}

/// One packet as a MessagePack map, placeholders in `data` written as the
/// `bin` of their attachment, binary types as their plain type.
fn encode_packet(packet: PacketRef<'_>) -> Bytes {
    let PacketRef {
        header,
        data,
        attachments,
    } = packet;
    let size: usize = attachments.iter().map(Bytes::len).sum();
    let mut out = Vec::with_capacity(48 + header.namespace.len() + size);
    let header = Header {
        kind: header.kind.sent_as(false),
        ..header
    };
    write_header(&mut out, header, data.is_some());
    if let Some(data) = data {
        write_value(&mut out, data, attachments);
    }
    Bytes::from(out)
}

/// The packet map's length, then its `type`, `nsp`, `id` (when there is
/// one) and, `with_data`, the key `data`, whose value the caller writes.
fn write_header(out: &mut Vec<u8>, header: Header<'_>, with_data: bool) {
    let fields = 2 + u32::from(header.id.is_some()) + u32::from(with_data);
    let namespace = match header.namespace {
        "" => "/",
        namespace => namespace,
    };
    // Writing to a `Vec` cannot fail: the results are ignored.
    let _ = rmp::encode::write_map_len(out, fields);
    let _ = rmp::encode::write_str(out, "type");
    let _ = rmp::encode::write_uint(out, u64::from(header.kind.as_u8()));
    let _ = rmp::encode::write_str(out, "nsp");
    let _ = rmp::encode::write_str(out, namespace);
    if let Some(id) = header.id {
        let _ = rmp::encode::write_str(out, "id");
        let _ = rmp::encode::write_uint(out, id);
    }
    if with_data {
        let _ = rmp::encode::write_str(out, "data");
    }
}

/// `frame` (`{type: 2, nsp, data: [...]}` in the order [`encode_packet`]
/// writes it, no ack id) with `arg` appended to the data array.
fn splice_arg(frame: &[u8], arg: &str) -> Option<Bytes> {
    fn key(rd: &mut &[u8], name: &str) -> Option<()> {
        let len = rmp::decode::read_str_len(rd).ok()? as usize;
        let (k, rest) = rd.split_at_checked(len)?;
        *rd = rest;
        (k == name.as_bytes()).then_some(())
    }
    let mut rd = frame;
    (rmp::decode::read_map_len(&mut rd).ok()? == 3).then_some(())?;
    key(&mut rd, "type")?;
    (rmp::decode::read_pfix(&mut rd).ok()? == PacketType::Event.as_u8()).then_some(())?;
    key(&mut rd, "nsp")?;
    let len = rmp::decode::read_str_len(&mut rd).ok()? as usize;
    rd = rd.get(len..)?;
    key(&mut rd, "data")?;
    let header = frame.len() - rd.len();
    let count = rmp::decode::read_array_len(&mut rd).ok()?;
    let body = frame.len() - rd.len();
    let mut out = Vec::with_capacity(frame.len() + arg.len() + 8);
    out.extend_from_slice(&frame[..header]);
    let _ = rmp::encode::write_array_len(&mut out, count.checked_add(1)?);
    out.extend_from_slice(&frame[body..]);
    let _ = rmp::encode::write_str(&mut out, arg);
    Some(Bytes::from(out))
}

fn write_value(out: &mut Vec<u8>, value: &Value, attachments: &[Bytes]) {
    match value {
        Value::Null => {
            let _ = rmp::encode::write_nil(out);
        }
        Value::Bool(b) => {
            let _ = rmp::encode::write_bool(out, *b);
        }
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                let _ = rmp::encode::write_uint(out, u);
            } else if let Some(i) = n.as_i64() {
                let _ = rmp::encode::write_sint(out, i);
            } else {
                let _ = rmp::encode::write_f64(out, n.as_f64().unwrap_or(f64::NAN));
            }
        }
        Value::String(s) => {
            let _ = rmp::encode::write_str(out, s);
        }
        Value::Array(items) => {
            let _ = rmp::encode::write_array_len(out, len32(items.len()));
            for item in items {
                write_value(out, item, attachments);
            }
        }
        Value::Object(map) => {
            if let Some(bytes) = placeholder(map, attachments) {
                let _ = rmp::encode::write_bin(out, bytes);
                return;
            }
            let _ = rmp::encode::write_map_len(out, len32(map.len()));
            for (k, v) in map {
                let _ = rmp::encode::write_str(out, k);
                write_value(out, v, attachments);
            }
        }
    }
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The attachment a `{"_placeholder":true,"num":N}` stands for.
fn placeholder<'a>(
    map: &serde_json::Map<String, Value>,
    attachments: &'a [Bytes],
) -> Option<&'a [u8]> {
    if map.len() != 2 || map.get("_placeholder") != Some(&Value::Bool(true)) {
        return None;
    }
    let num = map.get("num")?.as_u64()?;
    attachments.get(usize::try_from(num).ok()?).map(|b| &b[..])
}

#[cfg(test)]
mod tests;
