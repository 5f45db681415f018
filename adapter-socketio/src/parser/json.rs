//! The default parser: JSON text frames plus binary attachment frames.
//!
//! Every text frame produced here is an Engine.IO `message` packet: `4`
//! followed by the Socket.IO packet, written into one buffer
//! (`42["hello","world"]`, `40{"sid":"abc"}`,
//! `451-/chat,["f",{"_placeholder":true,"num":0}]`). Attachments follow as
//! binary frames, in placeholder order.
//!
//! - [`encode_value`] encodes a packet whose data is a [`Value`](serde_json::Value).
//! - [`encode_event`] / [`encode_ack`] serialize typed arguments straight into
//!   the frame (no intermediate `Value`), following the argument rules of
//!   the [parent module](super).
//! - [`JsonDecoder`] decodes incoming frames.

use std::cell::Cell;

use bytes::Bytes;
use roomcast_core::{Frame, Message, Text};
use serde::Serialize;

pub use super::decode::JsonDecoder;
use super::{ser, Decoder, DecoderLimits, EncodeError, Header, PacketRef, PacketType, Parser};

/// The default Socket.IO parser (the format of the reference
/// `socket.io-parser`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonParser {
    limits: DecoderLimits,
}

impl JsonParser {
    /// A parser with the default [`DecoderLimits`].
    pub const fn new() -> Self {
        JsonParser {
            limits: DecoderLimits::DEFAULT,
        }
    }

    /// A parser whose decoders enforce `limits`.
    pub const fn with_limits(limits: DecoderLimits) -> Self {
        JsonParser { limits }
    }

    /// The limits its decoders enforce.
    pub const fn limits(&self) -> DecoderLimits {
        self.limits
    }

    /// A decoder for one connection, without boxing.
    pub fn json_decoder(&self) -> JsonDecoder {
        JsonDecoder::new(self.limits)
    }
}

impl Default for JsonParser {
    fn default() -> Self {
        JsonParser::new()
    }
}

impl Parser for JsonParser {
    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(self.json_decoder())
    }

    fn encode(&self, packet: PacketRef<'_>) -> Message {
        encode_value(packet)
    }

    fn builtin(&self) -> Option<super::Builtin> {
        Some(super::Builtin::Json)
    }

    fn append_arg(&self, message: &Message, arg: &str) -> Option<Message> {
        super::json_splice::append_arg(message, arg)
    }

    fn with_ack_id(&self, frames: Vec<Frame>, id: u64) -> Option<Message> {
        super::json_splice::with_ack_id(frames, id).map(Message::many)
    }

    /// A MessagePack parser's frame (one binary frame, which no JSON
    /// packet starts with) is decoded and written again as JSON.
    fn adopt(&self, frames: Vec<Frame>) -> Option<Message> {
        super::json_splice::adopt(&self.limits, frames)
    }
}

/// Encodes a packet whose data is already a JSON value.
///
/// The attachments decide between plain and binary types: `EVENT` and
/// `BINARY_EVENT` are written as `BINARY_EVENT` exactly when `attachments`
/// is non-empty (likewise for acks); `CONNECT`, `DISCONNECT` and
/// `CONNECT_ERROR` cannot carry attachments, which are then ignored. The
/// data is written as given: placeholders in it must match `attachments`.
/// The namespace must start with `/` and contain no `,`; `""` means `/`.
///
/// ```
/// use roomcast_socketio::parser::{encode_value, Header, PacketRef, PacketType};
/// use roomcast_core::Frame;
/// let header = Header::new(PacketType::Connect, "/", None);
/// let data = serde_json::json!({"sid": "x"});
/// let msg = encode_value(PacketRef { header, data: Some(&data), attachments: &[] });
/// assert_eq!(msg.frames(), &[Frame::text("40{\"sid\":\"x\"}")]);
/// ```
pub fn encode_value(packet: PacketRef<'_>) -> Message {
    let PacketRef {
        header,
        data,
        attachments,
    } = packet;
    encode_data(header, data, attachments)
}

/// [`encode_value`] with data of any serializable type, written as
/// serde_json writes it (the CONNECT answer's data is a typed struct: no
/// JSON map is built for it).
pub(crate) fn encode_data<T: Serialize + ?Sized>(
    header: Header<'_>,
    data: Option<&T>,
    attachments: &[Bytes],
) -> Message {
    let attachments = match header.kind {
        PacketType::Connect | PacketType::Disconnect | PacketType::ConnectError => &[],
        _ => attachments,
    };
    let header = Header {
        kind: header.kind.sent_as(!attachments.is_empty()),
        ..header
    };
    let mut out = String::with_capacity(48 + header.namespace.len());
    write_header(&mut out, header, attachments.len());
    let mut out = out.into_bytes();
    if let Some(data) = data {
        // Writing a `Value` or the crate's own data structs to a `Vec`
        // cannot fail (their map keys are strings).
        if serde_json::to_writer(&mut out, data).is_err() {
            debug_assert!(false, "serializing packet data failed");
        }
    }
    let text = match String::from_utf8(out) {
        Ok(s) => s,
        // Unreachable: the parts are `str`s and serde_json output.
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    message(Text::from(text), attachments.iter().cloned())
}

/// Encodes an event: `EVENT` (or `BINARY_EVENT` when the arguments contain
/// bytes) with the event name and typed arguments, serialized directly into
/// the text frame.
///
/// `args` follow the argument rules (tuple: several arguments, `()`: none,
/// [`Args`](super::Args): several, anything else: one). `id` requests an
/// acknowledgement.
///
/// ```
/// use roomcast_socketio::parser::encode_event;
/// use roomcast_core::Frame;
/// let msg = encode_event("/", "hello", &("world", 1), None).unwrap();
/// assert_eq!(msg.frames(), &[Frame::text("42[\"hello\",\"world\",1]")]);
/// ```
pub fn encode_event<T: Serialize + ?Sized>(
    namespace: &str,
    event: &str,
    args: &T,
    id: Option<u64>,
) -> Result<Message, EncodeError> {
    <dyn Parser>::encode_event(&JsonParser::new(), namespace, event, args, id)
}

/// Encodes an acknowledgement: `ACK` (or `BINARY_ACK` when the arguments
/// contain bytes) for ack id `id`, with typed arguments.
///
/// ```
/// use roomcast_socketio::parser::encode_ack;
/// use roomcast_core::Frame;
/// let msg = encode_ack("/admin", 13, &"bar").unwrap();
/// assert_eq!(msg.frames(), &[Frame::text("43/admin,13[\"bar\"]")]);
/// ```
pub fn encode_ack<T: Serialize + ?Sized>(
    namespace: &str,
    id: u64,
    args: &T,
) -> Result<Message, EncodeError> {
    <dyn Parser>::encode_ack(&JsonParser::new(), namespace, id, args)
}

/// An event (`event` given) or an ack with typed arguments: the data array
/// written after the header, which is switched to the binary type when
/// attachments were found. The namespace is not checked here.
pub(crate) fn encode_args<T: Serialize + ?Sized>(
    header: Header<'_>,
    event: Option<&str>,
    args: &T,
) -> Result<Message, EncodeError> {
    let mut out = String::with_capacity(64 + header.namespace.len() + event.map_or(0, str::len));
    write_header(&mut out, header, 0);
    let mut out = out.into_bytes();
    let attachments = Cell::new(Vec::new());
    ser::write_args(&mut out, event, args, &attachments)?;
    let attachments = attachments.take();
    if !attachments.is_empty() {
        // `4` `<type>` at 0..2: retype, and insert the count after the type.
        if let Some(kind) = out.get_mut(1) {
            *kind = header.kind.sent_as(true).as_char() as u8;
        }
        let mut count = itoa::Buffer::new();
        let count = count.format(attachments.len()).as_bytes();
        out.splice(2..2, count.iter().copied().chain([b'-']));
    }
    let text = String::from_utf8(out)
        .map_err(|_| <serde_json::Error as serde::ser::Error>::custom("invalid UTF-8"))?;
    Ok(message(Text::from(text), attachments.into_iter()))
}

/// An event (`event` given) or an ack whose arguments are JSON text
/// (checked: [`EventJson::args_json`](super::EventJson::args_json)),
/// copied in as they are. The namespace is not checked here.
pub(crate) fn encode_spliced(header: Header<'_>, event: Option<&str>, args: &str) -> Message {
    Message::One(Frame::Text(Text::from(spliced_text(header, event, args))))
}

/// The text of [`encode_spliced`], allocated at its exact length: a
/// `Bytes` made from a full `String` takes its buffer over as it is,
/// where one with room to spare allocates a shared header beside it.
fn spliced_text(header: Header<'_>, event: Option<&str>, args: &str) -> String {
    let header = Header {
        kind: header.kind.sent_as(false),
        ..header
    };
    let name = event.map(|e| (e, json_string_len(e)));
    let len = header_len(header, 0)
        + 1
        + name.map_or(0, |(_, n)| n + usize::from(!args.is_empty()))
        + args.len()
        + 1;
    let mut out = String::with_capacity(len);
    write_header(&mut out, header, 0);
    out.push('[');
    if let Some((event, quoted)) = name {
        if quoted == event.len() + 2 {
            // Nothing to escape.
            out.push('"');
            out.push_str(event);
            out.push('"');
        } else if let Ok(escaped) = serde_json::to_string(event) {
            // Serializing a `str` cannot fail.
            out.push_str(&escaped);
        }
        if !args.is_empty() {
            out.push(',');
        }
    }
    out.push_str(args);
    out.push(']');
    out
}

/// The length of `s` written as a JSON string by serde_json: quotes, two
/// bytes for `"`, `\\` and the control characters with a short escape,
/// six (`\u00XX`) for the other control characters.
fn json_string_len(s: &str) -> usize {
    let escaped: usize = s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | 0x08 | 0x09 | 0x0a | 0x0c | 0x0d => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum();
    2 + escaped
}

/// The number of bytes [`write_header`] writes.
fn header_len(header: Header<'_>, attachments: usize) -> usize {
    let digits = |n: u64| itoa::Buffer::new().format(n).len();
    let mut len = 2;
    if header.kind.is_binary() {
        len += digits(attachments as u64) + 1;
    }
    if !header.namespace.is_empty() && header.namespace != "/" {
        len += header.namespace.len() + 1;
    }
    if let Some(id) = header.id {
        len += digits(id);
    }
    len
}

/// `4`, type, attachment count (binary types), namespace, ack id. Written
/// as text: a frame encoded as bytes starts from its `into_bytes()`.
fn write_header(out: &mut String, header: Header<'_>, attachments: usize) {
    out.push('4');
    out.push(header.kind.as_char());
    if header.kind.is_binary() {
        out.push_str(itoa::Buffer::new().format(attachments));
        out.push('-');
    }
    if !header.namespace.is_empty() && header.namespace != "/" {
        out.push_str(header.namespace);
        out.push(',');
    }
    if let Some(id) = header.id {
        out.push_str(itoa::Buffer::new().format(id));
    }
}

fn message(text: Text, attachments: impl ExactSizeIterator<Item = Bytes>) -> Message {
    if attachments.len() == 0 {
        return Message::One(Frame::Text(text));
    }
    let mut frames = Vec::with_capacity(1 + attachments.len());
    frames.push(Frame::Text(text));
    frames.extend(attachments.map(Frame::Binary));
    Message::many(frames)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::Args;
    use serde::Serialize;
    use serde_json::{json, Value};

    const JSON: JsonParser = JsonParser::new();

    fn texts(msg: &Message) -> (String, Vec<Bytes>) {
        let mut frames = msg.frames().iter();
        let text = match frames.next() {
            Some(Frame::Text(t)) => t.as_str().to_owned(),
            other => panic!("first frame is not text: {other:?}"),
        };
        let bins = frames
            .map(|f| match f {
                Frame::Binary(b) => b.clone(),
                Frame::Text(t) => panic!("unexpected text frame {t:?}"),
            })
            .collect();
        (text, bins)
    }

    fn event<T: Serialize + ?Sized>(nsp: &str, ev: &str, args: &T) -> String {
        let (text, bins) = texts(&encode_event(nsp, ev, args, None).unwrap());
        assert!(bins.is_empty());
        text
    }

    #[test]
    fn encode_value_examples() {
        let p = JsonParser::new();
        let enc = |kind, nsp, id, data: Option<Value>| {
            texts(&p.encode_value(kind, nsp, id, data.as_ref(), &[])).0
        };
        assert_eq!(enc(PacketType::Connect, "/", None, None), "40");
        assert_eq!(
            enc(PacketType::Connect, "/", None, Some(json!({"sid": "x"}))),
            r#"40{"sid":"x"}"#
        );
        assert_eq!(enc(PacketType::Connect, "/admin", None, None), "40/admin,");
        assert_eq!(
            enc(
                PacketType::Connect,
                "/admin",
                None,
                Some(json!({"sid": "oSO0"}))
            ),
            r#"40/admin,{"sid":"oSO0"}"#
        );
        assert_eq!(
            enc(
                PacketType::ConnectError,
                "/",
                None,
                Some(json!({"message": "Invalid namespace"}))
            ),
            r#"44{"message":"Invalid namespace"}"#
        );
        assert_eq!(enc(PacketType::Disconnect, "/", None, None), "41");
        assert_eq!(
            enc(PacketType::Disconnect, "/admin", None, None),
            "41/admin,"
        );
        assert_eq!(
            enc(PacketType::Event, "", None, Some(json!(["foo"]))),
            r#"42["foo"]"#
        );
        assert_eq!(
            enc(PacketType::Event, "/admin", Some(13), Some(json!(["foo"]))),
            r#"42/admin,13["foo"]"#
        );
        assert_eq!(
            enc(PacketType::Ack, "/", Some(12), Some(json!([]))),
            "4312[]"
        );
        assert_eq!(
            enc(
                PacketType::Event,
                "/chat",
                None,
                Some(json!(["hi", 1, true, null, {"a": [1, 2]}]))
            ),
            r#"42/chat,["hi",1,true,null,{"a":[1,2]}]"#
        );
        // Key order is preserved.
        let data = json!({"z": 1, "a": 2, "m": {"y": 0, "b": 1}});
        assert_eq!(
            enc(PacketType::Connect, "/", None, Some(data)),
            r#"40{"z":1,"a":2,"m":{"y":0,"b":1}}"#
        );
    }

    #[test]
    fn encode_data_writes_what_encode_value_writes() {
        use crate::protocol::ConnectData;
        for (ns, pid) in [("/", None), ("/chat", Some("p\"1")), ("", Some("x"))] {
            let data = match pid {
                Some(pid) => json!({"sid": "a-_b", "pid": pid}),
                None => json!({"sid": "a-_b"}),
            };
            let header = Header::new(PacketType::Connect, ns, None);
            let by_value = encode_value(PacketRef {
                header,
                data: Some(&data),
                attachments: &[],
            });
            let typed = ConnectData { sid: "a-_b", pid };
            assert_eq!(
                encode_data(header, Some(&typed), &[]),
                by_value,
                "{ns} {pid:?}"
            );
        }
    }

    #[test]
    fn encode_value_binary() {
        let data =
            json!(["baz", {"_placeholder": true, "num": 0}, {"_placeholder": true, "num": 1}]);
        let atts = [Bytes::from_static(&[1, 2]), Bytes::from_static(&[3, 4])];
        let msg = JSON.encode_value(PacketType::Event, "/admin", None, Some(&data), &atts);
        let (text, bins) = texts(&msg);
        assert_eq!(
            text,
            r#"452-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
        );
        assert_eq!(bins, atts);
        let data = json!(["bar", {"_placeholder": true, "num": 0}]);
        let msg = JSON.encode_value(
            PacketType::BinaryAck,
            "/",
            Some(15),
            Some(&data),
            &atts[..1],
        );
        assert_eq!(
            texts(&msg).0,
            r#"461-15["bar",{"_placeholder":true,"num":0}]"#
        );
        // A binary type without attachments is sent as the plain type.
        let msg = JSON.encode_value(PacketType::BinaryEvent, "/", None, Some(&json!(["a"])), &[]);
        assert_eq!(msg, Message::One(Frame::text(r#"42["a"]"#)));
        // Types that cannot carry binary ignore attachments.
        let msg = JSON.encode_value(PacketType::Connect, "/", None, None, &atts);
        assert_eq!(msg, Message::One(Frame::text("40")));
    }

    #[test]
    fn encode_event_argument_rules() {
        assert_eq!(event("/", "ev", &("a", 1)), r#"42["ev","a",1]"#);
        assert_eq!(event("/", "ev", &()), r#"42["ev"]"#);
        assert_eq!(event("/", "ev", "hi"), r#"42["ev","hi"]"#);
        assert_eq!(event("/", "ev", &vec![1, 2]), r#"42["ev",[1,2]]"#);
        assert_eq!(event("/", "ev", &Args(vec![1, 2])), r#"42["ev",1,2]"#);
        assert_eq!(event("/", "ev", &Args(Vec::<u8>::new())), r#"42["ev"]"#);
        assert_eq!(event("/", "ev", &[0u8; 0]), r#"42["ev"]"#);
        assert_eq!(event("/", "ev", &(((1, 2),),)), r#"42["ev",[[1,2]]]"#);
        assert_eq!(event("/", "ev", &Some(())), r#"42["ev",null]"#);
        assert_eq!(event("/", "ev", &json!(["x"])), r#"42["ev",["x"]]"#);
        assert_eq!(event("/", "e\"v", &1), r#"42["e\"v",1]"#);
        assert_eq!(
            event("/chat", "hi", &(1, true, (), json!({"a": [1, 2]}))),
            r#"42/chat,["hi",1,true,null,{"a":[1,2]}]"#
        );
        #[derive(Serialize)]
        struct Pair(u8, &'static str);
        assert_eq!(event("/", "ev", &Pair(1, "x")), r#"42["ev",1,"x"]"#);
        #[derive(Serialize)]
        struct Point {
            y: i32,
            x: i32,
        }
        assert_eq!(
            event("/", "ev", &Point { y: 1, x: 2 }),
            r#"42["ev",{"y":1,"x":2}]"#
        );
        let msg = encode_event("/", "foo", &(), Some(12)).unwrap();
        assert_eq!(texts(&msg).0, r#"4212["foo"]"#);
    }

    #[test]
    fn encode_event_binary() {
        #[derive(Serialize)]
        struct File {
            name: &'static str,
            body: Bytes,
            parts: Vec<Bytes>,
        }
        let file = File {
            name: "a.txt",
            body: Bytes::from_static(b"abc"),
            parts: vec![Bytes::from_static(b"d")],
        };
        let msg = encode_event("/chat", "f", &file, Some(7)).unwrap();
        let (text, bins) = texts(&msg);
        assert_eq!(
            text,
            r#"452-/chat,7["f",{"name":"a.txt","body":{"_placeholder":true,"num":0},"parts":[{"_placeholder":true,"num":1}]}]"#
        );
        assert_eq!(bins, [Bytes::from_static(b"abc"), Bytes::from_static(b"d")]);
        let msg = encode_event("/", "baz", &Bytes::from_static(&[1, 2, 3, 4]), None).unwrap();
        let (text, bins) = texts(&msg);
        assert_eq!(text, r#"451-["baz",{"_placeholder":true,"num":0}]"#);
        assert_eq!(bins, [Bytes::from_static(&[1, 2, 3, 4])]);
        let eleven: Vec<Bytes> = (0..11u8).map(|i| Bytes::from(vec![i])).collect();
        let (text, bins) = texts(&encode_event("/", "m", &Args(eleven), None).unwrap());
        assert!(text.starts_with(r#"4511-["m",{"_placeholder":true,"num":0},"#));
        assert_eq!(bins.len(), 11);
    }

    #[test]
    fn encode_ack_rules() {
        fn ack<T: Serialize + ?Sized>(args: &T) -> String {
            texts(&encode_ack("/", 12, args).unwrap()).0
        }
        assert_eq!(ack(&()), "4312[]");
        assert_eq!(ack(&"bar"), r#"4312["bar"]"#);
        assert_eq!(ack(&("a", 2)), r#"4312["a",2]"#);
        assert_eq!(ack(&Args(vec!["x", "y"])), r#"4312["x","y"]"#);
        assert_eq!(ack(&vec![1]), "4312[[1]]");
        let msg = encode_ack("/", 15, &("bar", Bytes::from_static(&[1]))).unwrap();
        let (text, bins) = texts(&msg);
        assert_eq!(text, r#"461-15["bar",{"_placeholder":true,"num":0}]"#);
        assert_eq!(bins.len(), 1);
    }

    #[test]
    fn encode_errors() {
        assert!(matches!(
            encode_event("chat", "x", &(), None),
            Err(EncodeError::InvalidNamespace(_))
        ));
        assert!(matches!(
            encode_ack("/a,b", 1, &()),
            Err(EncodeError::InvalidNamespace(_))
        ));
        let mut bad = std::collections::HashMap::new();
        bad.insert((1, 2), 3);
        assert!(matches!(
            encode_event("/", "x", &bad, None),
            Err(EncodeError::Serialize(_))
        ));
    }

    proptest::proptest! {
        /// A spliced frame is allocated at exactly its length, for any event
        /// name (escapes included), namespace and ack id, and reads back as
        /// what was written.
        #[test]
        fn a_spliced_text_is_allocated_at_its_length(
            name in "\\PC{0,12}|[\\x00-\\x1f\"\\\\a-z]{0,12}",
            nsp in "/|/[a-z]{1,8}",
            id in proptest::option::of(proptest::num::u64::ANY),
            args in proptest::sample::select(vec!["", "1", "\"x\",{\"a\":[1,2]}"]),
        ) {
            let kind = if id.is_some() { PacketType::Ack } else { PacketType::Event };
            let header = Header::new(kind, &nsp, id);
            let text = spliced_text(header, Some(&name), args);
            proptest::prop_assert_eq!(text.len(), text.capacity(), "{}", text);
            let mut head = String::new();
            write_header(&mut head, header, 0);
            proptest::prop_assert!(text.starts_with(&head));
            let array: Value = serde_json::from_str(&text[head.len()..]).expect("JSON");
            let expected: Value = serde_json::from_str(&format!(
                "[{}{}{args}]",
                serde_json::to_string(&name).expect("a string"),
                if args.is_empty() { "" } else { "," },
            ))
            .expect("JSON");
            proptest::prop_assert_eq!(array, expected);
        }
    }

    #[test]
    fn header_len_is_what_write_header_writes() {
        for kind in [PacketType::Event, PacketType::BinaryEvent, PacketType::Ack] {
            for nsp in ["", "/", "/chat"] {
                for id in [None, Some(0), Some(7), Some(u64::MAX)] {
                    for attachments in [0, 1, 12] {
                        let header = Header::new(kind, nsp, id);
                        let mut out = String::new();
                        write_header(&mut out, header, attachments);
                        assert_eq!(header_len(header, attachments), out.len(), "{out:?}");
                    }
                }
            }
        }
    }
}
