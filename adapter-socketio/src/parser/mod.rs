//! The Socket.IO v5 packet codec.
//!
//! # Wire format
//!
//! A packet is one text frame, optionally followed by binary frames:
//!
//! ```text
//! <type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]
//! ```
//!
//! - `type` is one digit, see [`PacketType`].
//! - `attachments` (only for `BINARY_EVENT` = 5 and `BINARY_ACK` = 6) is the
//!   number of binary frames that follow the header, ended by `-`. In the
//!   JSON data each attachment is replaced by the placeholder
//!   `{"_placeholder":true,"num":N}`, `N` being its index.
//! - `namespace` starts with `/` and ends at `,`; it is left out for the main
//!   namespace `/`.
//! - `ack id` is a decimal `u64`, present when the sender wants an
//!   acknowledgement (and on every `ACK`).
//! - `JSON data` is the payload: an object for `CONNECT`, an object or string
//!   for `CONNECT_ERROR`, nothing for `DISCONNECT`, an array
//!   `["event", args...]` for events and an array `[args...]` for acks.
//!
//! Packets travel inside Engine.IO `message` packets, so every text frame the
//! encoders produce starts with the Engine.IO type `4` (`42["hello"]`). The
//! decoders expect the text *without* that `4`: the engine strips it.
//!
//! # Typed arguments
//!
//! [`json::encode_event`], [`json::encode_ack`] and [`args_to_value`] turn a
//! Rust value into a list of arguments; [`decode_args`] does the reverse:
//!
//! - a tuple spreads into several arguments: `("a", 1)` is `"a", 1`;
//! - the unit `()` is no argument at all;
//! - [`Args`] spreads its elements: `Args(vec![1, 2])` is `1, 2`;
//! - anything else is exactly one argument (`vec![1, 2]` is `[1, 2]`).
//!
//! Bytes at any depth (anything serialized with `serialize_bytes`, such as
//! [`bytes::Bytes`]) become placeholders plus attachments, which turns the
//! packet into a `BINARY_EVENT` / `BINARY_ACK`. When decoding, a placeholder
//! met where bytes are wanted yields the matching attachment; decoding into a
//! [`serde_json::Value`] leaves placeholders in place.
//!
//! # Pluggable parsers
//!
//! [`Parser`] is object-safe: it hands out per-connection [`Decoder`]s and
//! encodes packets whose data is already a [`serde_json::Value`]
//! ([`Parser::encode`] takes a [`PacketRef`]: a [`Header`] — type,
//! namespace, ack id — the data and the attachments). The
//! server holds one (`ServerBuilder::parser`) and every packet it sends
//! goes through it: CONNECT answers, errors, emits, acks, broadcasts (once
//! per broadcast, the frames shared by every recipient), what the cluster
//! forwards ([`Parser::adopt`], [`Parser::with_ack_id`]) and recovery
//! offsets ([`Parser::append_arg`]). Typed arguments go through
//! `encode_event` / `encode_ack` on `dyn Parser`: the two built-in parsers
//! serialize them straight into the frame ([`json::encode_event`],
//! [`json::encode_ack`] for JSON), other parsers get them as a JSON value
//! ([`args_to_value`]).
//!
//! Two parsers ship: [`JsonParser`] (npm `socket.io-parser`, the default)
//! and [`MsgPackParser`] (npm `socket.io-msgpack-parser`).

use bytes::Bytes;
use roomcast_core::{Frame, Message, Text};
use serde::Serialize;

pub mod args;
mod de;
pub(crate) mod de_text;
mod de_value;
mod decode;
mod event_json;
pub mod json;
mod json_check;
mod json_splice;
pub mod msgpack;
pub mod packet;
pub(crate) mod ser;
mod ser_placeholder;
#[cfg(test)]
mod tests;

pub use args::Args;
pub use de::{decode_args, from_value};
pub use event_json::EventJson;
pub use json::{encode_ack, encode_event, encode_value, JsonDecoder, JsonParser};
pub use msgpack::{MsgPackDecoder, MsgPackParser};
pub use packet::{Data, Header, Packet, PacketRef, PacketType};
pub use ser::args_to_value;
/// The string type of [`Packet::namespace`], re-exported so that a parser
/// can name it.
pub use smol_str::SmolStr;

/// A Socket.IO packet codec.
///
/// Object-safe so a server can hold a `Box<dyn Parser>` / `Arc<dyn Parser>`.
pub trait Parser: Send + Sync + 'static {
    /// A decoder for one connection.
    ///
    /// A decoder keeps per-connection state: a binary packet waiting for its
    /// attachments.
    fn decoder(&self) -> Box<dyn Decoder>;

    /// Encodes a whole packet whose data is already a JSON value.
    ///
    /// Used for `CONNECT`, `CONNECT_ERROR`, `DISCONNECT` and raw-value emits.
    /// The first frame is text starting with the Engine.IO message type `4`;
    /// the attachments follow as binary frames, in order. The namespace must
    /// start with `/` and contain no `,` (the empty string means `/`).
    fn encode(&self, packet: PacketRef<'_>) -> Message;

    /// [`encode`](Parser::encode) with the packet's parts as arguments.
    fn encode_value(
        &self,
        kind: PacketType,
        namespace: &str,
        id: Option<u64>,
        data: Option<&serde_json::Value>,
        attachments: &[Bytes],
    ) -> Message {
        self.encode(PacketRef {
            header: Header::new(kind, namespace, id),
            data,
            attachments,
        })
    }

    /// Which built-in format this parser writes, if it is one of ours:
    /// typed arguments are then serialized straight into the frame,
    /// without a JSON value between.
    fn builtin(&self) -> Option<Builtin> {
        None
    }

    /// `message` (an `EVENT` without ack id this parser encoded) with `arg`
    /// appended as its last argument; `None` for any other message.
    /// Connection state recovery appends offsets this way. The default
    /// decodes the message and encodes it again.
    fn append_arg(&self, message: &Message, arg: &str) -> Option<Message> {
        append_arg_decoding(self, message, arg)
    }

    /// `frames` (an `EVENT` without ack id, as the cluster forwards a
    /// broadcast with acks) with ack id `id` written in; `None` for any
    /// other packet. The default decodes and encodes again.
    fn with_ack_id(&self, frames: Vec<Frame>, id: u64) -> Option<Message> {
        let packet = decode_frames(self, &frames)?;
        if !packet.kind.is_event() || packet.id.is_some() {
            return None;
        }
        let mut with_id = packet.borrowed();
        with_id.header.id = Some(id);
        Some(self.encode(with_id))
    }

    /// A message other nodes forwarded, in this parser's format. Nodes of
    /// one cluster normally share their parser and the frames pass as they
    /// are (the default); a parser may convert frames of another format
    /// (`None`: cannot).
    fn adopt(&self, frames: Vec<Frame>) -> Option<Message> {
        Some(Message::many(frames))
    }
}

/// The formats of the parsers this crate ships ([`Parser::builtin`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Builtin {
    /// [`JsonParser`].
    Json,
    /// [`MsgPackParser`].
    MsgPack,
}

impl dyn Parser {
    /// Encodes an event with typed arguments (the argument rules of the
    /// [module](self)); `id` requests an acknowledgement.
    ///
    /// ```
    /// use roomcast_socketio::parser::{JsonParser, Parser};
    /// use roomcast_core::Frame;
    /// let parser: &dyn Parser = &JsonParser::new();
    /// let msg = parser.encode_event("/", "hello", &("world", 1), None).unwrap();
    /// assert_eq!(msg.frames(), &[Frame::text("42[\"hello\",\"world\",1]")]);
    /// ```
    pub fn encode_event<T: Serialize + ?Sized>(
        &self,
        namespace: &str,
        event: &str,
        args: &T,
        id: Option<u64>,
    ) -> Result<Message, EncodeError> {
        let header = Header::new(PacketType::Event, namespace, id);
        self.encode_args(header, Some(event), args)
    }

    /// Encodes an acknowledgement for ack id `id` with typed arguments.
    pub fn encode_ack<T: Serialize + ?Sized>(
        &self,
        namespace: &str,
        id: u64,
        args: &T,
    ) -> Result<Message, EncodeError> {
        let header = Header::new(PacketType::Ack, namespace, Some(id));
        self.encode_args(header, None, args)
    }

    /// An event (`event` given) or an ack with raw arguments (`emit_raw`,
    /// `send_raw`): the JSON parser copies arguments held as text into the
    /// frame; without attachments the built-in parsers write values
    /// straight into the frame; otherwise they are copied into one JSON
    /// array for [`Parser::encode`].
    pub(crate) fn encode_raw(
        &self,
        header: Header<'_>,
        event: Option<&str>,
        raw: &crate::RawArgs,
    ) -> Result<Message, EncodeError> {
        if let (Some(text), Some(Builtin::Json)) = (raw.json(), self.builtin()) {
            check_namespace(header.namespace)?;
            return Ok(json::encode_spliced(header, event, text));
        }
        let (args, attachments) = (raw.values(), raw.attachments());
        let args = &args[..];
        if attachments.is_empty() && self.builtin().is_some() {
            return self.encode_args(header, event, &args::ArgsRef(args));
        }
        let name = event.map(|e| serde_json::Value::String(e.to_owned()));
        let data = name.into_iter().chain(args.iter().cloned()).collect();
        Ok(self.encode(PacketRef {
            header,
            data: Some(&serde_json::Value::Array(data)),
            attachments,
        }))
    }

    /// A packet whose data is a typed struct (the CONNECT answer): the JSON
    /// parser writes it straight into the frame; others get it as a JSON
    /// value.
    pub(crate) fn encode_data<T: Serialize>(
        &self,
        header: Header<'_>,
        data: Option<&T>,
    ) -> Message {
        if self.builtin() == Some(Builtin::Json) {
            return json::encode_data(header, data, &[]);
        }
        let data = data.and_then(|d| serde_json::to_value(d).ok());
        self.encode(PacketRef {
            header,
            data: data.as_ref(),
            attachments: &[],
        })
    }

    /// An event (`event` given) or an ack: the built-in parsers serialize
    /// the arguments straight into the frame, others get a JSON value.
    fn encode_args<T: Serialize + ?Sized>(
        &self,
        header: Header<'_>,
        event: Option<&str>,
        args: &T,
    ) -> Result<Message, EncodeError> {
        check_namespace(header.namespace)?;
        match self.builtin() {
            Some(Builtin::Json) => json::encode_args(header, event, args),
            Some(Builtin::MsgPack) => msgpack::encode_args(header, event, args),
            None => {
                let (data, attachments) = args_to_value(event, args)?;
                Ok(self.encode(PacketRef {
                    header,
                    data: Some(&data),
                    attachments: &attachments,
                }))
            }
        }
    }
}

/// A namespace the encoders can write: `""` (`/`), or `/…` without `,`.
fn check_namespace(namespace: &str) -> Result<(), EncodeError> {
    if namespace.is_empty() || (namespace.starts_with('/') && !namespace.contains(',')) {
        Ok(())
    } else {
        Err(EncodeError::InvalidNamespace(namespace.to_owned()))
    }
}

/// [`Parser::append_arg`] by decoding the message and encoding it again.
pub(crate) fn append_arg_decoding<P: Parser + ?Sized>(
    parser: &P,
    message: &Message,
    arg: &str,
) -> Option<Message> {
    let mut packet = decode_frames(parser, message.frames())?;
    if !packet.kind.is_event() || packet.id.is_some() {
        return None;
    }
    match packet.data.as_mut() {
        Some(Data::Value(serde_json::Value::Array(items))) => items.push(arg.into()),
        _ => return None,
    }
    Some(parser.encode(packet.borrowed()))
}

/// The one packet `frames` hold, decoded with a fresh decoder of `parser`
/// (text frames carry the Engine.IO `4`, as the encoders write them), its
/// data decoded.
pub(crate) fn decode_frames<P: Parser + ?Sized>(parser: &P, frames: &[Frame]) -> Option<Packet> {
    let mut decoder = parser.decoder();
    let mut packet = None;
    for frame in frames {
        if packet.is_some() {
            return None;
        }
        packet = match frame {
            Frame::Text(t) => decoder.decode_text(t.as_str().strip_prefix('4')?),
            Frame::Binary(b) => decoder.decode_binary(b.clone()),
        }
        .ok()?;
    }
    let mut packet = packet?;
    packet.decode_data().ok()?;
    Some(packet)
}

/// Per-connection packet decoder.
///
/// Feed it every Socket.IO frame of one connection, in order. After an error
/// the decoder is reset (a pending binary packet is dropped); the connection
/// should normally be closed.
pub trait Decoder: Send {
    /// Decodes a text frame, given without the Engine.IO message type `4`.
    ///
    /// Returns `Ok(Some(packet))` for a complete packet and `Ok(None)` for a
    /// binary packet that now waits for its attachments.
    fn decode_text(&mut self, text: &str) -> Result<Option<Packet>, DecodeError>;

    /// [`decode_text`](Decoder::decode_text) given the frame's shared text
    /// (without the `4`), of which a packet may keep a slice instead of a
    /// copy (the JSON decoder does for an `EVENT`'s data). The default
    /// decodes the `str`.
    fn decode_shared(&mut self, text: &Text) -> Result<Option<Packet>, DecodeError> {
        self.decode_text(text.as_str())
    }

    /// Decodes a binary frame: the next attachment of the pending binary
    /// packet. Returns the packet once its last attachment has arrived.
    fn decode_binary(&mut self, data: Bytes) -> Result<Option<Packet>, DecodeError>;
}

/// Limits a decoder enforces on incoming packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderLimits {
    /// Largest accepted attachment count of a binary packet (default 10).
    pub max_attachments: usize,
    /// Longest accepted namespace, in bytes (default 256).
    pub max_namespace_len: usize,
}

impl DecoderLimits {
    /// The default limits: 10 attachments, 256-byte namespaces.
    pub const DEFAULT: DecoderLimits = DecoderLimits {
        max_attachments: 10,
        max_namespace_len: 256,
    };
}

impl Default for DecoderLimits {
    fn default() -> Self {
        DecoderLimits::DEFAULT
    }
}

/// Why an incoming packet (or its arguments) could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The text frame was empty.
    #[error("empty packet")]
    Empty,
    /// The first character is not a packet type `0`..=`6`.
    #[error("unknown packet type {0:?}")]
    UnknownType(char),
    /// The attachment count of a binary packet is missing, not a number or
    /// not followed by `-`.
    #[error("invalid attachment count")]
    InvalidAttachmentCount,
    /// The attachment count is above [`DecoderLimits::max_attachments`].
    #[error("too many attachments: {count} (at most {max})")]
    TooManyAttachments {
        /// Announced count.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The namespace is longer than [`DecoderLimits::max_namespace_len`].
    #[error("namespace longer than {max} bytes")]
    NamespaceTooLong {
        /// The limit.
        max: usize,
    },
    /// The ack id does not fit in a `u64`.
    #[error("invalid ack id")]
    InvalidAckId,
    /// An ack id on a packet type that cannot carry one.
    #[error("unexpected ack id on a {0:?} packet")]
    UnexpectedAckId(PacketType),
    /// An `ACK` / `BINARY_ACK` without ack id.
    #[error("ack packet without ack id")]
    MissingAckId,
    /// The payload is not valid JSON.
    #[error("invalid JSON payload: {0}")]
    InvalidJson(#[source] serde_json::Error),
    /// The payload is valid JSON of the wrong shape for the packet type.
    #[error("invalid {kind:?} payload: {reason}")]
    InvalidPayload {
        /// The packet type.
        kind: PacketType,
        /// What the payload should have been.
        reason: &'static str,
    },
    /// A binary frame arrived while no attachment was expected.
    #[error("unexpected binary frame")]
    UnexpectedBinary,
    /// A text frame arrived while a binary packet still waits for
    /// attachments.
    #[error("text frame while {missing} attachment(s) are still expected")]
    UnexpectedText {
        /// How many attachments were still missing.
        missing: usize,
    },
    /// A placeholder names an attachment that does not exist.
    #[error("placeholder refers to attachment {num} but the packet has {count}")]
    MissingAttachment {
        /// The placeholder's `num` (`u64::MAX` when not a valid number).
        num: u64,
        /// How many attachments the packet has.
        count: usize,
    },
    /// A MessagePack frame that is not a valid packet (or a text frame
    /// where only binary ones are expected).
    #[error("invalid MessagePack packet: {0}")]
    InvalidMessagePack(&'static str),
    /// The arguments do not match the requested Rust type.
    #[error("invalid arguments: {0}")]
    InvalidArgs(String),
}

impl serde::de::Error for DecodeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        DecodeError::InvalidArgs(msg.to_string())
    }
}

/// Why a packet could not be encoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The arguments failed to serialize (a `Serialize` impl failed, or a
    /// map key is not a string).
    #[error("cannot serialize arguments: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The namespace does not start with `/` or contains a `,`.
    #[error("invalid namespace {0:?}")]
    InvalidNamespace(String),
}
