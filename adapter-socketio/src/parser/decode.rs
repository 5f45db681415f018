//! Decoding the default format: [`JsonDecoder`].
//!
//! A text frame (without the Engine.IO `4`) is parsed as
//! `<type>[<attachments>-][<namespace>,][<ack id>][JSON data]`:
//!
//! - the attachment count is required for binary types: ASCII digits then
//!   `-`, at most [`DecoderLimits::max_attachments`];
//! - the namespace is present when the rest starts with `/` and runs up to
//!   the first `,` (or the end of the frame); otherwise it is `/`;
//! - the ack id is a run of ASCII digits fitting in a `u64`;
//! - the data, when present, is checked against the type: an object for
//!   `CONNECT`, none for `DISCONNECT`, an object or string for
//!   `CONNECT_ERROR`, a non-empty array starting with a string for events,
//!   an array for acks (which also need an ack id). Only events and acks may
//!   carry an ack id.
//!
//! An `EVENT`'s data is read only up to its name: the rest is kept as text
//! ([`EventJson`]), checked and decoded where it is delivered.
//!
//! A binary packet announcing `n > 0` attachments is held until `n` binary
//! frames have arrived. Decoding never panics, and allocates in proportion
//! to the input.

use bytes::Bytes;
use roomcast_core::Text;
use serde_json::Value;
use smol_str::SmolStr;

use super::{Data, DecodeError, Decoder, DecoderLimits, EventJson, Packet, PacketType};

/// Decoder of the default format, for one connection.
#[derive(Debug, Clone, Default)]
pub struct JsonDecoder {
    limits: DecoderLimits,
    /// A binary packet and the number of attachments it waits for in total
    /// (boxed: the decoder lives as long as its connection, a binary packet
    /// waits only between two frames).
    pending: Option<Box<(Packet, usize)>>,
}

impl JsonDecoder {
    /// A decoder enforcing `limits`.
    pub fn new(limits: DecoderLimits) -> Self {
        JsonDecoder {
            limits,
            pending: None,
        }
    }

    /// Whether a binary packet is waiting for attachments.
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// A text frame; `shared` is the same text as a slice of its frame.
    fn decode(&mut self, text: &str, shared: Option<&Text>) -> Result<Option<Packet>, DecodeError> {
        if let Some(pending) = self.pending.take() {
            let (packet, expected) = &*pending;
            let missing = expected.saturating_sub(packet.attachments.len());
            return Err(DecodeError::UnexpectedText { missing });
        }
        let (packet, expected) = parse(text, shared, &self.limits)?;
        if expected == 0 {
            Ok(Some(packet))
        } else {
            self.pending = Some(Box::new((packet, expected)));
            Ok(None)
        }
    }
}

impl Decoder for JsonDecoder {
    fn decode_text(&mut self, text: &str) -> Result<Option<Packet>, DecodeError> {
        self.decode(text, None)
    }

    fn decode_shared(&mut self, text: &Text) -> Result<Option<Packet>, DecodeError> {
        self.decode(text.as_str(), Some(text))
    }

    fn decode_binary(&mut self, data: Bytes) -> Result<Option<Packet>, DecodeError> {
        let Some(mut pending) = self.pending.take() else {
            return Err(DecodeError::UnexpectedBinary);
        };
        pending.0.attachments.push(data);
        if pending.0.attachments.len() >= pending.1 {
            Ok(Some(pending.0))
        } else {
            self.pending = Some(pending);
            Ok(None)
        }
    }
}

/// Splits off the leading ASCII digits.
fn split_digits(s: &str) -> (&str, &str) {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    // `n` is at a char boundary: the bytes before it are ASCII.
    s.split_at_checked(n).unwrap_or((s, ""))
}

/// Parses one text packet; returns it with its announced attachment count.
/// An `EVENT`'s data keeps a slice of `shared` (the same text) if given.
fn parse(
    text: &str,
    shared: Option<&Text>,
    limits: &DecoderLimits,
) -> Result<(Packet, usize), DecodeError> {
    let mut chars = text.chars();
    let first = chars.next().ok_or(DecodeError::Empty)?;
    let kind = first
        .to_digit(10)
        .and_then(|d| u8::try_from(d).ok())
        .and_then(PacketType::from_u8)
        .ok_or(DecodeError::UnknownType(first))?;
    let mut rest = chars.as_str();

    let mut attachments = 0;
    if kind.is_binary() {
        let (digits, after) = split_digits(rest);
        let after = after
            .strip_prefix('-')
            .filter(|_| !digits.is_empty())
            .ok_or(DecodeError::InvalidAttachmentCount)?;
        attachments = digits
            .parse::<usize>()
            .map_err(|_| DecodeError::InvalidAttachmentCount)?;
        if attachments > limits.max_attachments {
            return Err(DecodeError::TooManyAttachments {
                count: attachments,
                max: limits.max_attachments,
            });
        }
        rest = after;
    }

    let namespace = if rest.starts_with('/') {
        let (namespace, after) = rest.split_once(',').unwrap_or((rest, ""));
        if namespace.len() > limits.max_namespace_len {
            return Err(DecodeError::NamespaceTooLong {
                max: limits.max_namespace_len,
            });
        }
        rest = after;
        SmolStr::from(namespace)
    } else {
        SmolStr::new_static("/")
    };

    let (digits, after) = split_digits(rest);
    let id = if digits.is_empty() {
        None
    } else {
        // Only digits: parsing fails on overflow alone.
        Some(
            digits
                .parse::<u64>()
                .map_err(|_| DecodeError::InvalidAckId)?,
        )
    };
    rest = after;

    let data = if rest.is_empty() {
        check(kind, id, None)?;
        None
    } else if let Some(event) = (kind == PacketType::Event)
        .then(
            || match shared.and_then(|t| t.slice_from(text.len() - rest.len())) {
                Some(slice) => EventJson::read_shared(slice),
                None => EventJson::read(rest),
            },
        )
        .flatten()
    {
        // The rest is checked where the event is delivered.
        Some(Data::Event(event))
    } else {
        let value = serde_json::from_str::<Value>(rest).map_err(DecodeError::InvalidJson)?;
        check(kind, id, Some(&value))?;
        Some(Data::Value(value))
    };

    let packet = Packet {
        kind,
        namespace,
        id,
        data,
        attachments: Vec::with_capacity(attachments),
    };
    Ok((packet, attachments))
}

/// Checks the ack id and payload shape against the packet type.
pub(crate) fn check(
    kind: PacketType,
    id: Option<u64>,
    data: Option<&Value>,
) -> Result<(), DecodeError> {
    let invalid = |reason| Err(DecodeError::InvalidPayload { kind, reason });
    match kind {
        PacketType::Connect | PacketType::Disconnect | PacketType::ConnectError if id.is_some() => {
            return Err(DecodeError::UnexpectedAckId(kind));
        }
        PacketType::Ack | PacketType::BinaryAck if id.is_none() => {
            return Err(DecodeError::MissingAckId);
        }
        _ => {}
    }
    match (kind, data) {
        (PacketType::Connect, None | Some(Value::Object(_))) => Ok(()),
        (PacketType::Connect, _) => invalid("expected an object or nothing"),
        (PacketType::Disconnect, None) => Ok(()),
        (PacketType::Disconnect, Some(_)) => invalid("expected nothing"),
        (PacketType::ConnectError, Some(Value::Object(_) | Value::String(_))) => Ok(()),
        (PacketType::ConnectError, _) => invalid("expected an object or a string"),
        (PacketType::Event | PacketType::BinaryEvent, Some(Value::Array(items))) => {
            match items.first() {
                Some(Value::String(_)) => Ok(()),
                _ => invalid("expected an array starting with the event name"),
            }
        }
        (PacketType::Event | PacketType::BinaryEvent, _) => {
            invalid("expected an array starting with the event name")
        }
        (PacketType::Ack | PacketType::BinaryAck, Some(Value::Array(_))) => Ok(()),
        (PacketType::Ack | PacketType::BinaryAck, _) => invalid("expected an array"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode(text: &str) -> Result<Option<Packet>, DecodeError> {
        JsonDecoder::default().decode_text(text)
    }

    fn ok(text: &str) -> Packet {
        decode(text).unwrap().unwrap()
    }

    fn packet(kind: PacketType, nsp: &str, id: Option<u64>, data: Option<Value>) -> Packet {
        Packet {
            kind,
            namespace: nsp.into(),
            id,
            data: data.map(Data::from),
            attachments: Vec::new(),
        }
    }

    #[test]
    fn spec_examples() {
        use PacketType::*;
        assert_eq!(ok("0"), packet(Connect, "/", None, None));
        assert_eq!(ok("0/admin,"), packet(Connect, "/admin", None, None));
        assert_eq!(ok("0/admin"), packet(Connect, "/admin", None, None));
        assert_eq!(
            ok(r#"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#),
            packet(
                Connect,
                "/",
                None,
                Some(json!({"sid": "wZX3oN0bSVIhsaknAAAI"}))
            )
        );
        assert_eq!(
            ok(r#"0/admin,{"token":"123"}"#),
            packet(Connect, "/admin", None, Some(json!({"token": "123"})))
        );
        assert_eq!(
            ok(r#"4{"message":"Not authorized"}"#),
            packet(
                ConnectError,
                "/",
                None,
                Some(json!({"message": "Not authorized"}))
            )
        );
        assert_eq!(ok(r#"4"nope""#).data, Some(json!("nope").into()));
        assert_eq!(ok("1"), packet(Disconnect, "/", None, None));
        assert_eq!(ok("1/admin,"), packet(Disconnect, "/admin", None, None));
        assert_eq!(
            ok(r#"2["foo"]"#),
            packet(Event, "/", None, Some(json!(["foo"])))
        );
        assert_eq!(
            ok(r#"2/admin,["bar"]"#),
            packet(Event, "/admin", None, Some(json!(["bar"])))
        );
        assert_eq!(
            ok(r#"212["foo"]"#),
            packet(Event, "/", Some(12), Some(json!(["foo"])))
        );
        assert_eq!(
            ok(r#"2/chat,12["x"]"#),
            packet(Event, "/chat", Some(12), Some(json!(["x"])))
        );
        assert_eq!(ok("312[]"), packet(Ack, "/", Some(12), Some(json!([]))));
        assert_eq!(
            ok(r#"3/admin,13["bar"]"#),
            packet(Ack, "/admin", Some(13), Some(json!(["bar"])))
        );
        assert_eq!(ok(r#"2["foo"]"#).event_name(), Some("foo"));
        // An event's arguments stay text until delivered; a binary event's
        // are decoded (their placeholders are matched to attachments).
        assert!(matches!(ok(r#"2["foo",1]"#).data, Some(Data::Event(_))));
        assert!(matches!(ok(r#"31["foo",1]"#).data, Some(Data::Value(_))));
        assert_eq!(ok("2/,[\"a\"]").namespace, "/");
        assert_eq!(ok(&format!("2{}[\"a\"]", u64::MAX)).id, Some(u64::MAX));
        assert_eq!(ok("50-[\"a\"]").kind, BinaryEvent);
    }

    #[test]
    fn shared_text_is_sliced_not_copied() {
        let frame = Text::from(r#"2/chat,7["a",{"b":1}]"#);
        let shared = JsonDecoder::default()
            .decode_shared(&frame)
            .unwrap()
            .unwrap();
        assert_eq!(Some(shared.clone()), decode(frame.as_str()).unwrap());
        let Some(Data::Event(event)) = &shared.data else {
            panic!("an event kept as text: {shared:?}");
        };
        assert_eq!(event.as_str(), r#"["a",{"b":1}]"#);
        let within = frame.as_str().as_bytes().as_ptr_range();
        assert!(
            within.contains(&event.as_str().as_ptr()),
            "a slice of the frame"
        );
    }

    #[test]
    fn binary_packets() {
        let mut d = JsonDecoder::default();
        let text = r#"51-["baz",{"_placeholder":true,"num":0}]"#;
        assert!(d.decode_text(text).unwrap().is_none());
        assert!(d.is_pending());
        let p = d
            .decode_binary(Bytes::from_static(&[1, 2, 3, 4]))
            .unwrap()
            .unwrap();
        assert_eq!(p.kind, PacketType::BinaryEvent);
        assert_eq!(p.event_name(), Some("baz"));
        assert_eq!(p.attachments, [Bytes::from_static(&[1, 2, 3, 4])]);
        assert!(!d.is_pending());

        let text =
            r#"52-/admin,14["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
        assert!(d.decode_text(text).unwrap().is_none());
        assert!(d
            .decode_binary(Bytes::from_static(&[1, 2]))
            .unwrap()
            .is_none());
        let p = d
            .decode_binary(Bytes::from_static(&[3, 4]))
            .unwrap()
            .unwrap();
        assert_eq!((p.namespace.as_str(), p.id), ("/admin", Some(14)));
        assert_eq!(
            p.attachments,
            [Bytes::from_static(&[1, 2]), Bytes::from_static(&[3, 4])]
        );
        let (a, b): (Bytes, Bytes) = p.decode_args().unwrap();
        assert_eq!((&a[..], &b[..]), (&[1, 2][..], &[3, 4][..]));

        let text = r#"61-15["bar",{"_placeholder":true,"num":0}]"#;
        assert!(d.decode_text(text).unwrap().is_none());
        let p = d.decode_binary(Bytes::from_static(&[9])).unwrap().unwrap();
        assert_eq!((p.kind, p.id), (PacketType::BinaryAck, Some(15)));
        let (s, b): (String, Bytes) = p.decode_args().unwrap();
        assert_eq!((s.as_str(), &b[..]), ("bar", &[9][..]));
    }

    #[test]
    fn errors() {
        // What the decoder refuses, or (an event's arguments) what the
        // check before delivery refuses.
        let err = |t: &str| match decode(t) {
            Err(e) => e,
            Ok(p) => p.expect("a whole packet").check_data().unwrap_err(),
        };
        assert!(matches!(err(""), DecodeError::Empty));
        assert!(matches!(err("7"), DecodeError::UnknownType('7')));
        assert!(matches!(err("x"), DecodeError::UnknownType('x')));
        assert!(matches!(err("é"), DecodeError::UnknownType('é')));
        assert!(matches!(err("٣"), DecodeError::UnknownType('٣')));
        assert!(matches!(
            err(r#"5["a"]"#),
            DecodeError::InvalidAttachmentCount
        ));
        assert!(matches!(
            err(r#"5-["a"]"#),
            DecodeError::InvalidAttachmentCount
        ));
        assert!(matches!(
            err(r#"51["a"]"#),
            DecodeError::InvalidAttachmentCount
        ));
        assert!(matches!(
            err(r#"5a-["a"]"#),
            DecodeError::InvalidAttachmentCount
        ));
        assert!(matches!(err("5"), DecodeError::InvalidAttachmentCount));
        let huge = format!("6{}0-1[]", usize::MAX);
        assert!(matches!(err(&huge), DecodeError::InvalidAttachmentCount));
        assert!(matches!(
            err(r#"511-["a"]"#),
            DecodeError::TooManyAttachments { count: 11, max: 10 }
        ));
        let long = format!("0/{},", "a".repeat(256));
        assert!(matches!(
            err(&long),
            DecodeError::NamespaceTooLong { max: 256 }
        ));
        let overflow = format!("2{}0[\"a\"]", u64::MAX);
        assert!(matches!(err(&overflow), DecodeError::InvalidAckId));
        assert!(matches!(err("2x[\"a\"]"), DecodeError::InvalidJson(_)));
        assert!(matches!(err("2[\"a\""), DecodeError::InvalidJson(_)));
        assert!(matches!(err("2[\"a\"]x"), DecodeError::InvalidJson(_)));
        assert!(matches!(err("2[\"a\",]"), DecodeError::InvalidJson(_)));
        assert!(matches!(err("2[\"a\",{]"), DecodeError::InvalidJson(_)));
        assert!(matches!(
            err("01"),
            DecodeError::UnexpectedAckId(PacketType::Connect)
        ));
        assert!(matches!(
            err("1/a,2"),
            DecodeError::UnexpectedAckId(PacketType::Disconnect)
        ));
        assert!(matches!(err("3[]"), DecodeError::MissingAckId));
        assert!(matches!(err("61-[]"), DecodeError::MissingAckId));
        let shape = |t: &str, k: PacketType| matches!(err(t), DecodeError::InvalidPayload { kind, .. } if kind == k);
        assert!(shape("0[]", PacketType::Connect));
        assert!(shape("0\"s\"", PacketType::Connect));
        assert!(shape("1{}", PacketType::Disconnect));
        assert!(shape("2", PacketType::Event));
        assert!(shape("2[]", PacketType::Event));
        assert!(shape("2[1]", PacketType::Event));
        assert!(shape("2{}", PacketType::Event));
        assert!(shape("2/chat[\"a\"]", PacketType::Event));
        assert!(shape("51-{}", PacketType::BinaryEvent));
        assert!(shape("31", PacketType::Ack));
        assert!(shape("31{}", PacketType::Ack));
        assert!(shape("4", PacketType::ConnectError));
        assert!(shape("4[]", PacketType::ConnectError));
        assert!(matches!(
            err("41"),
            DecodeError::UnexpectedAckId(PacketType::ConnectError)
        ));
    }

    #[test]
    fn state_errors() {
        let mut d = JsonDecoder::new(DecoderLimits {
            max_attachments: 2,
            max_namespace_len: 4,
        });
        assert!(matches!(
            d.decode_binary(Bytes::new()),
            Err(DecodeError::UnexpectedBinary)
        ));
        assert!(d.decode_text(r#"52-["a"]"#).unwrap().is_none());
        assert!(d.decode_binary(Bytes::new()).unwrap().is_none());
        assert!(matches!(
            d.decode_text(r#"2["a"]"#),
            Err(DecodeError::UnexpectedText { missing: 1 })
        ));
        // The decoder was reset.
        assert!(!d.is_pending());
        assert!(d.decode_text(r#"2["a"]"#).unwrap().is_some());
        assert!(matches!(
            d.decode_binary(Bytes::new()),
            Err(DecodeError::UnexpectedBinary)
        ));
        assert!(matches!(
            d.decode_text(r#"53-["a"]"#),
            Err(DecodeError::TooManyAttachments { count: 3, max: 2 })
        ));
        assert!(d.decode_text("0/abc,").unwrap().is_some());
        assert!(matches!(
            d.decode_text("0/abcd,"),
            Err(DecodeError::NamespaceTooLong { max: 4 })
        ));
    }
}
