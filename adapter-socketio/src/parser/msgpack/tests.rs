//! Wire checks against bytes notepack.io 2.2 (the npm parser's encoder)
//! produced for the same packets.

use super::*;
use crate::parser::{decode_frames, DecodeError, Packet};
use serde_json::json;

fn hex(s: &str) -> Bytes {
    let bytes: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect();
    Bytes::from(bytes)
}

fn decode(frame: Bytes) -> Result<Packet, DecodeError> {
    MsgPackDecoder::default()
        .decode_binary(frame)
        .map(|p| p.unwrap())
}

fn binary(msg: &Message) -> Bytes {
    match msg.frames() {
        [Frame::Binary(b)] => b.clone(),
        other => panic!("not one binary frame: {other:?}"),
    }
}

#[test]
fn decodes_what_notepack_writes() {
    // {type:2,data:["ev",Buffer[1,2],{a:1,b:[true,null,-3,1.5]}],
    //  options:{compress:true},nsp:"/chat",id:7}
    let p = decode(hex("85a47479706502a46461746193a26576c402010282a16101a16294c3c0fdcb3ff8000000000000a76f7074696f6e7381a8636f6d7072657373c3a36e7370a52f63686174a2696407")).unwrap();
    assert_eq!(p.kind, PacketType::BinaryEvent);
    assert_eq!(p.namespace, "/chat");
    assert_eq!(p.id, Some(7));
    assert_eq!(p.event_name(), Some("ev"));
    assert_eq!(
        p.data,
        Some(
            json!(["ev", {"_placeholder": true, "num": 0}, {"a": 1, "b": [true, null, -3, 1.5]}])
                .into()
        )
    );
    assert_eq!(p.attachments, vec![Bytes::from_static(&[1, 2])]);
    let (bytes, rest): (Bytes, serde_json::Value) = p.decode_args().unwrap();
    assert_eq!((&bytes[..], rest["a"].as_u64()), (&[1u8, 2][..], Some(1)));

    // {type:3,nsp:"/",id:1,data:[undefined, Uint8Array[9]]}: undefined is
    // null, an ArrayBuffer (ext 0) is bytes.
    let p = decode(hex(
        "84a47479706503a36e7370a12fa2696401a46461746192d40000c7010009",
    ))
    .unwrap();
    assert_eq!(p.kind, PacketType::BinaryAck);
    assert_eq!(
        p.data,
        Some(json!([null, {"_placeholder": true, "num": 0}]).into())
    );
    assert_eq!(p.attachments, vec![Bytes::from_static(&[9])]);
}

#[test]
fn notepack_extensions_as_node_sees_them() {
    // {type:2,nsp:"/",data:["d",new Date(Date.UTC(2024,1,29,13,4,5,678)),new Date(-1)]}
    let p = decode(hex(
        "83a47479706502a36e7370a12fa46461746193a164d7000000018df4f7042ed700ffffffffffffffff",
    ))
    .unwrap();
    assert_eq!(
        p.data,
        Some(json!(["d", "2024-02-29T13:04:05.678Z", "1969-12-31T23:59:59.999Z"]).into())
    );
    // Any other extension is [type, bytes] (fixext 2 of type 5 here).
    let p = decode(hex("83a47479706502a36e7370a12fa46461746192a165d5050102")).unwrap();
    assert_eq!(
        p.data,
        Some(json!(["e", [5, {"_placeholder": true, "num": 0}]]).into())
    );
    assert_eq!(p.attachments, vec![Bytes::from_static(&[1, 2])]);
}

#[test]
fn encodes_what_notepack_writes() {
    let parser = MsgPackParser::new();
    // {type:2,nsp:"/",data:["ev",Buffer[1,2],"x"]}
    let msg = parser.encode_value(
        PacketType::BinaryEvent,
        "/",
        None,
        Some(&json!(["ev", {"_placeholder": true, "num": 0}, "x"])),
        &[Bytes::from_static(&[1, 2])],
    );
    assert_eq!(
        binary(&msg),
        hex("83a47479706502a36e7370a12fa46461746193a26576c4020102a178")
    );
    // {type:0,nsp:"/",data:{sid:"abc"}}
    let msg = parser.encode_value(
        PacketType::Connect,
        "",
        None,
        Some(&json!({"sid": "abc"})),
        &[],
    );
    assert_eq!(
        binary(&msg),
        hex("83a47479706500a36e7370a12fa46461746181a3736964a3616263")
    );
    // Typed arguments: bytes become `bin`, the type stays EVENT.
    let p: &dyn Parser = &parser;
    let msg = p
        .encode_event("/", "ev", &(Bytes::from_static(&[1, 2]), "x"), None)
        .unwrap();
    assert_eq!(
        binary(&msg),
        hex("83a47479706502a36e7370a12fa46461746193a26576c4020102a178")
    );
}

#[test]
fn round_trips_and_rewrites() {
    let parser = MsgPackParser::new();
    let p: &dyn Parser = &parser;
    let msg = p
        .encode_event(
            "/chat",
            "ev",
            &(1, Bytes::from_static(b"\xff"), -2.5, "é"),
            None,
        )
        .unwrap();
    let packet = decode_frames(p, msg.frames()).unwrap();
    assert_eq!(packet.kind, PacketType::BinaryEvent);
    assert_eq!(
        packet.data,
        Some(json!(["ev", 1, {"_placeholder": true, "num": 0}, -2.5, "é"]).into())
    );
    // Recovery's offset, appended as last argument: the splice writes
    // exactly what encoding the longer array writes, also where the array
    // header grows (15 → 16 elements).
    let with = p.append_arg(&msg, "ab-3").unwrap();
    let expected = parser.encode_value(
        PacketType::Event,
        "/chat",
        None,
        Some(&json!(["ev", 1, {"_placeholder": true, "num": 0}, -2.5, "é", "ab-3"])),
        &[Bytes::from_static(b"\xff")],
    );
    assert_eq!(with, expected);
    assert!(
        splice_arg(&binary(&msg), "ab-3").is_some(),
        "spliced, not re-encoded"
    );
    let fourteen = crate::parser::Args((0..14).collect::<Vec<u32>>());
    let long = p.encode_event("/", "ev", &fourteen, None).unwrap();
    let spliced = p.append_arg(&long, "x").unwrap();
    let mut items: Vec<serde_json::Value> = vec![json!("ev")];
    items.extend((0..14).map(|i| json!(i)));
    items.push(json!("x"));
    let data = serde_json::Value::Array(items);
    assert_eq!(
        spliced,
        parser.encode_value(PacketType::Event, "/", None, Some(&data), &[])
    );
    let packet = decode_frames(p, with.frames()).unwrap();
    assert_eq!(packet.args().last(), Some(&json!("ab-3")));
    assert_eq!(packet.attachments, vec![Bytes::from_static(b"\xff")]);
    // An ack id written in (cluster broadcasts with acks), only once.
    let acked = p.with_ack_id(msg.frames().to_vec(), 9).unwrap();
    assert_eq!(decode_frames(p, acked.frames()).unwrap().id, Some(9));
    assert!(p.with_ack_id(acked.frames().to_vec(), 10).is_none());
    assert!(p.append_arg(&acked, "x").is_none());
    // JSON frames from the cluster are adopted as MessagePack.
    let json: &dyn Parser = &crate::parser::JsonParser::new();
    let from_json = json.encode_event("/chat", "ev", &(1, "a"), None).unwrap();
    let adopted = p.adopt(from_json.frames().to_vec()).unwrap();
    let packet = decode_frames(p, adopted.frames()).unwrap();
    assert_eq!(packet.data, Some(json!(["ev", 1, "a"]).into()));
    // A DISCONNECT has no data key.
    let msg = parser.encode_value(PacketType::Disconnect, "/x", None, None, &[]);
    assert_eq!(decode_frames(p, msg.frames()).unwrap().data, None);
}

#[test]
fn refuses_bad_frames_without_panicking() {
    let mut d = MsgPackDecoder::default();
    assert!(matches!(
        d.decode_text("2[\"a\"]"),
        Err(DecodeError::InvalidMessagePack("text frame"))
    ));
    let bad = [
        "",                                                   // nothing
        "c1",                                                 // reserved marker
        "93010203",                                           // an array, not a map
        "82a474797065",                                       // truncated
        "82a47479706505a36e7370a12f",                         // type 5 does not exist on this wire
        "81a474797065",                                       // truncated value
        "82a47479706502a36e7370a12f",                         // event without data
        "83a47479706502a36e7370a12fa46461746190",             // event with empty data
        "83a47479706502a36e7370a12fa464617461dd7fffffff",     // huge announced array
        "82a47479706502a36e737001",                           // namespace not a string
        "83a47479706503a36e7370a12fa46461746190",             // ack without id
        "82a47479706500a36e7370a12fc0",                       // trailing byte
        "83a47479706502a36e7370a12fa46461746192a16581910101", // a map key that is an array
    ];
    for h in bad {
        assert!(d.decode_binary(hex(h)).is_err(), "{h} should not decode");
    }
    // Deep nesting is refused, not a stack overflow.
    let mut deep = hex("83a47479706502a36e7370a12fa464617461").to_vec();
    deep.extend(std::iter::repeat_n(0x91u8, 10_000));
    deep.push(0xc0);
    assert!(d.decode_binary(Bytes::from(deep)).is_err());
}

/// Typed arguments written straight into the frame give the bytes of
/// their JSON value written as MessagePack.
fn same_as_value_path<T: serde::Serialize + ?Sized>(event: Option<&str>, args: &T) {
    let parser = MsgPackParser::new();
    let (data, attachments) = crate::parser::args_to_value(event, args).unwrap();
    let (kind, id) = match event {
        Some(_) => (PacketType::Event, None),
        None => (PacketType::Ack, Some(3)),
    };
    let header = Header::new(kind, "/n", id);
    let slow = parser.encode(PacketRef {
        header,
        data: Some(&data),
        attachments: &attachments,
    });
    let fast = super::encode_args(header, event, args).unwrap();
    assert_eq!(fast, slow, "{data}");
}

#[test]
fn typed_arguments_match_the_value_path() {
    use serde::Serialize;
    #[derive(Serialize)]
    struct File {
        name: &'static str,
        data: Bytes,
        #[serde(skip_serializing_if = "Option::is_none")]
        size: Option<u32>,
        parts: Vec<Bytes>,
    }
    #[derive(Serialize)]
    enum E {
        Unit,
        New(i8),
        Tuple(u8, &'static str),
        Struct { a: bool },
    }
    #[derive(Serialize)]
    struct Pair(u8, f32);
    let file = File {
        name: "f",
        data: Bytes::from_static(&[1, 2]),
        size: None,
        parts: vec![Bytes::new(), Bytes::from(vec![9u8; 300])],
    };
    let mut keys = std::collections::BTreeMap::new();
    keys.insert(7u16, "seven");
    keys.insert(300, "many");
    let long: Vec<u64> = (0..70_000).collect();
    for event in [Some("ev"), None] {
        same_as_value_path(event, &());
        same_as_value_path(event, &("a", 1, -1, -200i64, u64::MAX, i64::MIN, 2.5, true));
        same_as_value_path(event, &file);
        same_as_value_path(
            event,
            &(E::Unit, E::New(-3), E::Tuple(1, "x"), E::Struct { a: true }),
        );
        same_as_value_path(event, &Pair(4, 1.1));
        same_as_value_path(event, &crate::parser::Args((0..20).collect::<Vec<u8>>()));
        same_as_value_path(event, &crate::parser::Args(Vec::<u8>::new()));
        same_as_value_path(event, &vec![1, 2]);
        same_as_value_path(event, &(Some(1), None::<u8>, 'c', f64::NAN, "é".repeat(40)));
        same_as_value_path(event, &keys);
        same_as_value_path(event, &(vec![0u8; 3], [(); 2]));
        same_as_value_path(event, &Bytes::from_static(b"top"));
        same_as_value_path(event, &long);
        same_as_value_path(event, &json!({"z": [1, {"y": null}], "a": "b"}));
    }
    let mut bad = std::collections::HashMap::new();
    bad.insert(vec![1u8], 1);
    let header = Header::new(PacketType::Event, "/", None);
    assert!(super::encode_args(header, Some("e"), &bad).is_err());
}
