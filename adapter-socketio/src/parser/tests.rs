//! Property tests across the codec: decoding never panics, and encoding then
//! decoding gives back the packet.

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;
use roomcast_core::{Frame, Message};
use serde_json::{Map, Value};

use super::*;

fn config() -> ProptestConfig {
    let default = ProptestConfig::default();
    ProptestConfig {
        cases: default.cases.max(256),
        ..default
    }
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Floats that print and parse back exactly.
        (-4000i32..4000).prop_map(|n| Value::from(f64::from(n) / 8.0)),
        ".{0,12}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec((".{0,8}", inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Value> {
    vec(("[a-z_]{0,6}", json_value()), 0..5).prop_map(|kv| Value::Object(kv.into_iter().collect()))
}

fn placeholder(num: usize) -> Value {
    let mut map = Map::new();
    map.insert("_placeholder".into(), Value::Bool(true));
    map.insert("num".into(), Value::from(num));
    Value::Object(map)
}

prop_compose! {
    fn packet()(
        kind in prop::sample::select(PacketType::ALL.to_vec()),
        namespace in prop::sample::select(vec!["/", "/chat", "/a/b", "/ü-ñ", "/0", "/-"]),
        id in any::<u64>(),
        with_id in any::<bool>(),
        object in json_object(),
        string in ".{0,16}",
        event in ".{0,10}",
        args in vec(json_value(), 0..4),
        attachments in vec(vec(any::<u8>(), 0..16), 1..=3),
        choice in any::<bool>(),
    ) -> Packet {
        let mut args = args;
        let mut binaries = Vec::new();
        if kind.is_binary() {
            binaries = attachments.into_iter().map(Bytes::from).collect();
            for num in 0..binaries.len() {
                args.insert(num.min(args.len()), placeholder(num));
            }
        }
        let (id, data) = match kind {
            PacketType::Connect => (None, choice.then_some(object)),
            PacketType::Disconnect => (None, None),
            PacketType::ConnectError => {
                (None, Some(if choice { object } else { Value::String(string) }))
            }
            PacketType::Event | PacketType::BinaryEvent => {
                args.insert(0, Value::String(event));
                (with_id.then_some(id), Some(Value::Array(args)))
            }
            PacketType::Ack | PacketType::BinaryAck => (Some(id), Some(Value::Array(args))),
        };
        Packet { kind, namespace: namespace.into(), id, data: data.map(Data::from), attachments: binaries }
    }
}

/// Feeds an encoded message to a fresh decoder, stripping the Engine.IO `4`.
fn decode_message(msg: &Message) -> Result<Option<Packet>, DecodeError> {
    let mut decoder = JsonParser::new().decoder();
    let mut result = Ok(None);
    for (i, frame) in msg.frames().iter().enumerate() {
        result = match frame {
            Frame::Text(text) => {
                assert_eq!(i, 0, "text frame after the header");
                let text = text
                    .as_str()
                    .strip_prefix('4')
                    .expect("engine message type");
                decoder.decode_text(text)
            }
            Frame::Binary(data) => decoder.decode_binary(data.clone()),
        };
        if i + 1 < msg.frames().len() {
            assert!(
                matches!(result, Ok(None)),
                "packet complete before its last frame"
            );
        }
    }
    result
}

/// Some types to decode arguments into; the results are irrelevant.
fn decode_all_ways(packet: &Packet) {
    let _ = packet.decode_args::<Args<Value>>();
    let _ = packet.decode_args::<(Option<Bytes>, Option<String>, Option<Vec<Bytes>>)>();
    let _ = packet.decode_args::<std::collections::HashMap<String, Bytes>>();
    let _ = packet.decode_args::<(u8, Option<(i64, f64)>, Args<Bytes>)>();
    let _ = packet.decode_args::<()>();
    if let Some(data) = packet.data.clone().and_then(|d| d.into_value().ok()) {
        let _ = from_value::<Vec<Option<Bytes>>>(&data, &packet.attachments);
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn decode_arbitrary_bytes_never_panics(
        input in vec(any::<u8>(), 0..256),
        binaries in vec(vec(any::<u8>(), 0..8), 0..4),
    ) {
        let text = String::from_utf8_lossy(&input);
        let mut decoder = JsonParser::new().json_decoder();
        for _ in 0..2 {
            if let Ok(Some(p)) = decoder.decode_text(&text) {
                decode_all_ways(&p);
            }
            for b in &binaries {
                if let Ok(Some(p)) = decoder.decode_binary(Bytes::from(b.clone())) {
                    decode_all_ways(&p);
                }
            }
        }
    }

    #[test]
    fn decode_packet_like_text_never_panics(
        head in "[0-79x]?[0-9]{0,3}-?(/[a-z,é]{0,5})?,?[0-9]{0,22}",
        body in prop_oneof![json_value().prop_map(|v| v.to_string()), ".{0,32}"],
        cut in any::<prop::sample::Index>(),
        binaries in vec(vec(any::<u8>(), 0..8), 0..4),
    ) {
        let full = format!("{head}{body}");
        // Also a truncated version (at a char boundary).
        let boundaries: Vec<usize> = full.char_indices().map(|(i, _)| i).chain([full.len()]).collect();
        let truncated = &full[..boundaries[cut.index(boundaries.len())]];
        let mut decoder = JsonParser::new().json_decoder();
        for text in [full.as_str(), truncated] {
            if let Ok(Some(p)) = decoder.decode_text(text) {
                decode_all_ways(&p);
            }
            for b in &binaries {
                if let Ok(Some(p)) = decoder.decode_binary(Bytes::from(b.clone())) {
                    decode_all_ways(&p);
                }
            }
        }
    }

    #[test]
    fn round_trip(packet in packet()) {
        let msg = encode_value(packet.borrowed());
        prop_assert_eq!(msg.frames().len(), 1 + packet.attachments.len());
        let decoded = decode_message(&msg);
        prop_assert!(matches!(&decoded, Ok(Some(p)) if *p == packet), "{:?} -> {:?}", msg, decoded);
        decode_all_ways(&packet);
    }

    #[test]
    fn typed_encoders_match_encode_value(
        namespace in prop::sample::select(vec!["/", "/chat"]),
        event in ".{0,10}",
        args in vec(json_value(), 0..4),
        id in proptest::option::of(any::<u64>()),
        blob in proptest::option::of(vec(any::<u8>(), 0..8)),
    ) {
        let typed = match &blob {
            None => encode_event(namespace, &event, &Args(args.clone()), id).unwrap(),
            // Two arguments: the list as one array, then the bytes.
            Some(blob) => {
                let blob = Bytes::from(blob.clone());
                encode_event(namespace, &event, &(Args(args.clone()), blob), id).unwrap()
            }
        };
        if blob.is_none() {
            let mut data = vec![Value::String(event.clone())];
            data.extend(args.iter().cloned());
            let raw = JsonParser::new().encode_value(PacketType::Event, namespace, id, Some(&Value::Array(data)), &[]);
            prop_assert_eq!(&typed, &raw);
        }
        // Typed output always decodes to its own arguments.
        let decoded = decode_message(&typed).unwrap().unwrap();
        prop_assert_eq!(decoded.event_name(), Some(event.as_str()));
        prop_assert_eq!(decoded.id, id);
        if blob.is_none() {
            let got: Args<Value> = decoded.decode_args().unwrap();
            prop_assert_eq!(&got.0, &args);
        } else {
            let (got, bytes): (Vec<Value>, Bytes) = decoded.decode_args().unwrap();
            prop_assert_eq!(&got, &args);
            prop_assert_eq!(Some(bytes.to_vec()), blob);
        }

        // Acks.
        let id = id.unwrap_or(0);
        let typed = encode_ack(namespace, id, &Args(args.clone())).unwrap();
        let raw = JsonParser::new().encode_value(PacketType::Ack, namespace, Some(id), Some(&Value::Array(args.clone())), &[]);
        prop_assert_eq!(&typed, &raw);
    }
}

proptest! {
    #![proptest_config(config())]

    /// Every packet survives the MessagePack parser: bytes become `bin`
    /// and placeholders again, the binary types their plain ones on the
    /// wire and binary again once decoded.
    #[test]
    fn msgpack_round_trip(packet in packet()) {
        let parser = MsgPackParser::new();
        let msg = parser.encode(packet.borrowed());
        prop_assert!(matches!(msg.frames(), [Frame::Binary(_)]));
        let decoded = decode_frames(&parser, msg.frames());
        prop_assert_eq!(decoded.as_ref(), Some(&packet));
        // Recovery's offset: spliced or not, the event gains a last argument.
        if packet.kind.is_event() && packet.id.is_none() {
            let with = parser.append_arg(&msg, "e-7").expect("an event takes an offset");
            let mut expected = packet.clone();
            if let Some(Data::Value(Value::Array(items))) = expected.data.as_mut() {
                items.push(Value::from("e-7"));
            }
            prop_assert_eq!(decode_frames(&parser, with.frames()), Some(expected));
        } else {
            prop_assert!(parser.append_arg(&msg, "e-7").is_none());
        }
    }

    /// Arbitrary input, and valid frames with one byte changed, never
    /// panic the decoder; what decodes encodes and decodes again.
    #[test]
    fn msgpack_decode_never_panics(
        input in vec(any::<u8>(), 0..256),
        packet in packet(),
        at in any::<usize>(),
        byte in any::<u8>(),
    ) {
        let parser = MsgPackParser::new();
        let valid = parser.encode(packet.borrowed());
        let Frame::Binary(valid) = &valid.frames()[0] else { unreachable!() };
        let mut changed = valid.to_vec();
        let at = at % changed.len();
        changed[at] = byte;
        for frame in [input, changed] {
            let mut decoder = parser.decoder();
            if let Ok(Some(p)) = decoder.decode_binary(Bytes::from(frame)) {
                decode_all_ways(&p);
                let again = parser.encode(p.borrowed());
                let back = decode_frames(&parser, again.frames());
                prop_assert!(back.is_some());
                let back = back.unwrap();
                prop_assert_eq!((back.kind, back.namespace, back.id), (p.kind, p.namespace, p.id));
            }
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// MessagePack: typed arguments (here any JSON values, spread or not)
    /// give the same frame as their JSON value.
    #[test]
    fn msgpack_typed_encoders_match_encode_value(
        args in vec(json_value(), 0..4),
        spread in any::<bool>(),
        id in proptest::option::of(any::<u64>()),
    ) {
        let parser: &dyn Parser = &MsgPackParser::new();
        let fast = if spread {
            parser.encode_event("/c", "ev", &Args(args.clone()), id).unwrap()
        } else {
            parser.encode_event("/c", "ev", &args, id).unwrap()
        };
        let mut data = vec![Value::from("ev")];
        if spread { data.extend(args.iter().cloned()) } else { data.push(Value::Array(args.clone())) }
        let slow = parser.encode_value(PacketType::Event, "/c", id, Some(&Value::Array(data)), &[]);
        prop_assert_eq!(fast, slow);
        let fast = parser.encode_ack("/c", 5, &Args(args.clone())).unwrap();
        let slow = parser.encode_value(PacketType::Ack, "/c", Some(5), Some(&Value::Array(args)), &[]);
        prop_assert_eq!(fast, slow);
    }
}
