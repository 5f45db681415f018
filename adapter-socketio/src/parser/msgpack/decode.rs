//! Decoding MessagePack frames: [`MsgPackDecoder`].
//!
//! A frame is one MessagePack map, the packet: `type` (an integer
//! `0..=4`), `nsp` (a string), `data` and `id` (an unsigned integer), other
//! keys (`options`, sent by the client) ignored, as
//! `socket.io-msgpack-parser` does. The data is read into a JSON value;
//! every `bin` and every ext of type 0 (an `ArrayBuffer` / typed array, as
//! notepack writes them) becomes an attachment and, in its place, the
//! placeholder `{"_placeholder":true,"num":N}`, so the rest of the server
//! sees the same [`Packet`] as from the JSON parser. notepack's other
//! extensions: `undefined` (fixext 1 of type 0) is `null`, and a packet
//! field set to it is left out; a date (fixext 8 of type 0) its ISO string;
//! any other ext `[type, bytes]`, as notepack hands it to Node. Attachments are slices of the frame,
//! not copies.
//!
//! Decoding never panics and allocates in proportion to the input: every
//! announced length is checked against the bytes left, nesting is limited
//! to [`MAX_DEPTH`] levels, text frames are refused.

use bytes::Bytes;
use rmp::Marker;
use roomcast_core::UtcTime;
use serde_json::{Map, Number, Value};

use crate::parser::decode::check;
use crate::parser::{Data, DecodeError, Decoder, DecoderLimits, Packet, PacketType};

/// Deepest nesting accepted in a packet.
pub const MAX_DEPTH: usize = 128;

/// Decoder of the MessagePack format, for one connection (it keeps no
/// state between frames: every frame is a whole packet).
#[derive(Debug, Clone, Default)]
pub struct MsgPackDecoder {
    limits: DecoderLimits,
}

impl MsgPackDecoder {
    /// A decoder enforcing `limits` (the namespace length; attachments are
    /// inside the frame and bounded by its size).
    pub fn new(limits: DecoderLimits) -> Self {
        MsgPackDecoder { limits }
    }
}

impl Decoder for MsgPackDecoder {
    fn decode_text(&mut self, _: &str) -> Result<Option<Packet>, DecodeError> {
        Err(DecodeError::InvalidMessagePack("text frame"))
    }

    fn decode_binary(&mut self, data: Bytes) -> Result<Option<Packet>, DecodeError> {
        decode_packet(&data, &self.limits).map(Some)
    }
}

fn bad(reason: &'static str) -> DecodeError {
    DecodeError::InvalidMessagePack(reason)
}

/// Decodes one whole frame.
pub(crate) fn decode_packet(frame: &Bytes, limits: &DecoderLimits) -> Result<Packet, DecodeError> {
    let mut r = Reader {
        frame,
        pos: 0,
        attachments: Vec::new(),
    };
    let len = match r.marker()? {
        Marker::FixMap(n) => n as usize,
        Marker::Map16 => r.be(2)? as usize,
        Marker::Map32 => r.be(4)? as usize,
        _ => return Err(bad("the packet is not a map")),
    };
    let (mut kind, mut nsp, mut id, mut data) = (None, None, None, None);
    for _ in 0..len {
        let key = r.field_name()?;
        // A field set to `undefined` is a field left out (the client
        // writes `data: undefined` on a CONNECT without auth).
        if r.frame.get(r.pos..r.pos + 3) == Some(&[0xd4, 0, 0][..]) {
            r.pos += 3;
            continue;
        }
        let value = r.value(1)?;
        match key {
            Some(Field::Type) => kind = Some(value),
            Some(Field::Nsp) => nsp = Some(value),
            Some(Field::Id) => id = Some(value),
            Some(Field::Data) => data = Some(value),
            None => {}
        }
    }
    if r.pos != frame.len() {
        return Err(bad("trailing bytes after the packet"));
    }
    let kind = kind
        .as_ref()
        .and_then(Value::as_u64)
        .filter(|t| *t <= 4)
        .and_then(|t| PacketType::from_u8(t as u8))
        .ok_or(bad("invalid packet type"))?;
    let namespace = match nsp {
        Some(Value::String(s)) => s,
        _ => return Err(bad("invalid namespace")),
    };
    if namespace.len() > limits.max_namespace_len {
        return Err(DecodeError::NamespaceTooLong {
            max: limits.max_namespace_len,
        });
    }
    let id = match id {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or(DecodeError::InvalidAckId)?),
    };
    let data = data.filter(|d| !(kind == PacketType::Disconnect && d.is_null()));
    check(kind, id, data.as_ref())?;
    let kind = match (kind, r.attachments.is_empty()) {
        (PacketType::Event, false) => PacketType::BinaryEvent,
        (PacketType::Ack, false) => PacketType::BinaryAck,
        (kind, _) => kind,
    };
    Ok(Packet {
        kind,
        namespace: namespace.into(),
        id,
        data: data.map(Data::Value),
        attachments: r.attachments,
    })
}

/// The packet fields read; others are skipped.
enum Field {
    Type,
    Nsp,
    Id,
    Data,
}

struct Reader<'a> {
    frame: &'a Bytes,
    pos: usize,
    attachments: Vec<Bytes>,
}

impl Reader<'_> {
    fn left(&self) -> usize {
        self.frame.len() - self.pos
    }

    /// The next `n` bytes, borrowed.
    fn raw(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let start = self.pos;
        let bytes = self
            .frame
            .get(start..start.saturating_add(n))
            .ok_or(bad("truncated"))?;
        self.pos += n;
        Ok(bytes)
    }

    /// The next `n` bytes as a slice of the frame (no copy).
    fn take(&mut self, n: usize) -> Result<Bytes, DecodeError> {
        let start = self.pos;
        self.raw(n)?;
        Ok(self.frame.slice(start..start + n))
    }

    fn be(&mut self, n: usize) -> Result<u64, DecodeError> {
        let bytes = self.raw(n)?;
        Ok(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// A packet map's key, without allocating: `None` for a key that is
    /// not one of the packet's fields (its value is still read).
    fn field_name(&mut self) -> Result<Option<Field>, DecodeError> {
        let n = match self.frame.get(self.pos).copied().map(Marker::from_u8) {
            Some(Marker::FixStr(n)) => {
                self.pos += 1;
                usize::from(n)
            }
            _ => {
                self.value(1)?;
                return Ok(None);
            }
        };
        Ok(match self.raw(n)? {
            b"type" => Some(Field::Type),
            b"nsp" => Some(Field::Nsp),
            b"id" => Some(Field::Id),
            b"data" => Some(Field::Data),
            _ => None,
        })
    }

    fn marker(&mut self) -> Result<Marker, DecodeError> {
        Ok(Marker::from_u8(self.be(1)? as u8))
    }

    /// An announced element count, refused when the bytes left cannot hold
    /// that many elements (each is at least one byte).
    fn count(&self, n: u64, per: usize) -> Result<usize, DecodeError> {
        let n = usize::try_from(n).map_err(|_| bad("length"))?;
        if n.saturating_mul(per) > self.left() {
            return Err(bad("truncated"));
        }
        Ok(n)
    }

    fn attach(&mut self, bytes: Bytes) -> Value {
        let num = self.attachments.len();
        self.attachments.push(bytes);
        let mut map = Map::new();
        map.insert("_placeholder".to_owned(), Value::Bool(true));
        map.insert("num".to_owned(), Value::from(num));
        Value::Object(map)
    }

    fn string(&mut self, n: u64) -> Result<Value, DecodeError> {
        let n = self.count(n, 1)?;
        let s = std::str::from_utf8(self.raw(n)?).map_err(|_| bad("string is not UTF-8"))?;
        Ok(Value::String(s.to_owned()))
    }

    /// An ext (`0xc7..=0xc9`) of `n` bytes: type 0 is an `ArrayBuffer`,
    /// any other type `[type, bytes]`, as notepack reads them.
    fn ext(&mut self, n: u64) -> Result<Value, DecodeError> {
        let n = self.count(n, 1)?;
        let ty = self.be(1)? as u8 as i8;
        let body = self.take(n)?;
        Ok(match ty {
            0 => self.attach(body),
            _ => self.typed(ty, body),
        })
    }

    /// A fixext of `n` bytes: type 0 is `undefined` (1 byte, `null` here)
    /// or a date (8 bytes: milliseconds, as its ISO string, which is what
    /// `JSON.stringify` makes of it); anything else `[type, bytes]`.
    fn fixext(&mut self, n: usize) -> Result<Value, DecodeError> {
        let ty = self.be(1)? as u8 as i8;
        let body = self.take(n)?;
        Ok(match (ty, n) {
            (0, 1) => Value::Null,
            (0, 8) => {
                let ms = body.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)) as i64;
                Value::String(UtcTime::from_unix_millis(ms).to_iso_string())
            }
            _ => self.typed(ty, body),
        })
    }

    fn typed(&mut self, ty: i8, body: Bytes) -> Value {
        let bytes = self.attach(body);
        Value::Array(vec![Value::from(ty), bytes])
    }

    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(bad("nested too deeply"));
        }
        Ok(match self.marker()? {
            Marker::Null => Value::Null,
            Marker::True => Value::Bool(true),
            Marker::False => Value::Bool(false),
            Marker::FixPos(n) => Value::from(n),
            Marker::FixNeg(n) => Value::from(n),
            Marker::U8 => Value::from(self.be(1)?),
            Marker::U16 => Value::from(self.be(2)?),
            Marker::U32 => Value::from(self.be(4)?),
            Marker::U64 => Value::from(self.be(8)?),
            Marker::I8 => Value::from(self.be(1)? as u8 as i8),
            Marker::I16 => Value::from(self.be(2)? as u16 as i16),
            Marker::I32 => Value::from(self.be(4)? as u32 as i32),
            Marker::I64 => Value::from(self.be(8)? as i64),
            Marker::F32 => float(f64::from(f32::from_bits(self.be(4)? as u32))),
            Marker::F64 => float(f64::from_bits(self.be(8)?)),
            Marker::FixStr(n) => self.string(u64::from(n))?,
            Marker::Str8 => self.string_len(1)?,
            Marker::Str16 => self.string_len(2)?,
            Marker::Str32 => self.string_len(4)?,
            Marker::Bin8 => self.bin(1)?,
            Marker::Bin16 => self.bin(2)?,
            Marker::Bin32 => self.bin(4)?,
            Marker::FixExt1 => self.fixext(1)?,
            Marker::FixExt2 => self.fixext(2)?,
            Marker::FixExt4 => self.fixext(4)?,
            Marker::FixExt8 => self.fixext(8)?,
            Marker::FixExt16 => self.fixext(16)?,
            Marker::Ext8 => {
                let n = self.be(1)?;
                self.ext(n)?
            }
            Marker::Ext16 => {
                let n = self.be(2)?;
                self.ext(n)?
            }
            Marker::Ext32 => {
                let n = self.be(4)?;
                self.ext(n)?
            }
            Marker::FixArray(n) => self.array(u64::from(n), depth)?,
            Marker::Array16 => {
                let n = self.be(2)?;
                self.array(n, depth)?
            }
            Marker::Array32 => {
                let n = self.be(4)?;
                self.array(n, depth)?
            }
            Marker::FixMap(n) => self.map(u64::from(n), depth)?,
            Marker::Map16 => {
                let n = self.be(2)?;
                self.map(n, depth)?
            }
            Marker::Map32 => {
                let n = self.be(4)?;
                self.map(n, depth)?
            }
            Marker::Reserved => return Err(bad("reserved marker 0xc1")),
        })
    }

    fn bin(&mut self, width: usize) -> Result<Value, DecodeError> {
        let n = self.be(width)?;
        let body = self.take(self.count(n, 1)?)?;
        Ok(self.attach(body))
    }

    fn string_len(&mut self, width: usize) -> Result<Value, DecodeError> {
        let n = self.be(width)?;
        self.string(n)
    }

    fn array(&mut self, n: u64, depth: usize) -> Result<Value, DecodeError> {
        let n = self.count(n, 1)?;
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(self.value(depth + 1)?);
        }
        Ok(Value::Array(items))
    }

    fn map(&mut self, n: u64, depth: usize) -> Result<Value, DecodeError> {
        let n = self.count(n, 2)?;
        let mut map = Map::new();
        for _ in 0..n {
            // notepack turns any key into a property name; JSON keys are
            // strings: numbers and booleans are written as text.
            let key = match self.value(depth + 1)? {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => "null".to_owned(),
                _ => return Err(bad("map key is not a string")),
            };
            let value = self.value(depth + 1)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

/// JSON has no NaN or infinities: they become `null`, as `JSON.stringify`.
fn float(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}
