//! MessagePack packet decoding: the input is one binary frame. A packet
//! that decodes is encoded again, has an offset appended (recovery) and is
//! decoded once more: that must succeed (same type, namespace and ack id;
//! the data may differ where the input held a literal placeholder object)
//! and end with the offset.
#![no_main]
use libfuzzer_sys::fuzz_target;
use roomcast_core::Frame;
use roomcast_socketio::parser::{MsgPackParser, Parser};

fuzz_target!(|data: &[u8]| {
    let parser = MsgPackParser::new();
    let mut decoder = parser.decoder();
    let Ok(Some(packet)) = decoder.decode_binary(bytes::Bytes::copy_from_slice(data)) else {
        return;
    };
    let _ = packet.decode_args::<roomcast_socketio::Args<serde_json::Value>>();
    let _ = packet.decode_args::<(Option<String>, Option<bytes::Bytes>)>();
    let msg = parser.encode_value(
        packet.kind,
        &packet.namespace,
        packet.id,
        packet.data.as_ref().and_then(|d| d.as_value()),
        &packet.attachments,
    );
    let [Frame::Binary(frame)] = msg.frames() else {
        panic!("not one binary frame");
    };
    let again = decoder
        .decode_binary(frame.clone())
        .expect("our own encoding decodes")
        .expect("a whole packet");
    assert_eq!(
        (again.kind, &again.namespace, again.id),
        (packet.kind, &packet.namespace, packet.id)
    );
    if packet.kind.is_event() && packet.id.is_none() {
        let with = parser.append_arg(&msg, "e-1").expect("an event takes an offset");
        let [Frame::Binary(frame)] = with.frames() else {
            panic!("not one binary frame");
        };
        let with = decoder.decode_binary(frame.clone()).unwrap().unwrap();
        assert_eq!(with.args().last(), Some(&serde_json::json!("e-1")));
    }
});
