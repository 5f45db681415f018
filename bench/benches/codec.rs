//! Packet codec micro-benchmarks: Socket.IO event encode (typed arguments
//! straight into the frame), the JSON decoder, and the Engine.IO
//! long-polling payload encode.
//!
//! `cargo bench -p roomcast-bench --bench codec`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use roomcast_core::Frame;
use roomcast_socketio::parser::{encode_event, Decoder, JsonParser};
use serde_json::json;

mod common;

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode_event");
    g.throughput(Throughput::Elements(1));
    g.bench_function("small tuple", |b| {
        b.iter(|| {
            encode_event(
                "/",
                "echo",
                black_box(&(123_456_u64, "xxxxxxxxxxxxxxxx")),
                None,
            )
        })
    });
    let value = json!({"room": "bench", "count": 10, "payload": [1, 123_456, "xxxxxxxxxxxxxxxx"]});
    g.bench_function("json value", |b| {
        b.iter(|| encode_event("/", "fanout", black_box(&value), Some(7)))
    });
    g.finish();
}

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("JsonDecoder");
    g.throughput(Throughput::Elements(1));
    let parser = JsonParser::new();
    let mut decoder = parser.json_decoder();
    let event = r#"2["echo",123456,"xxxxxxxxxxxxxxxx"]"#;
    g.bench_function("event", |b| {
        b.iter(|| decoder.decode_text(black_box(event)).ok())
    });
    let fanout =
        r#"27["fanout",{"room":"bench","count":10,"payload":[1,123456,"xxxxxxxxxxxxxxxx"]}]"#;
    g.bench_function("event with ack and object", |b| {
        b.iter(|| decoder.decode_text(black_box(fanout)).ok())
    });
    g.finish();
}

/// A typed listener's arguments: an event decoded into values and then
/// into the type (how every event was read before), against the event's
/// text read straight into the type (how a typed listener reads it now).
fn typed_args(c: &mut Criterion) {
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Chat {
        room: String,
        text: String,
        n: u32,
    }
    let mut g = c.benchmark_group("typed arguments");
    g.throughput(Throughput::Elements(1));
    let mut decoder = JsonParser::new().json_decoder();
    let chat = r#"2["chat",{"room":"lobby","text":"hello there, how is it going?","n":3}]"#;
    g.bench_function("through values", |b| {
        b.iter(|| {
            let mut packet = decoder.decode_text(black_box(chat)).ok()??;
            packet.decode_data().ok()?;
            packet.decode_args::<Chat>().ok()
        })
    });
    g.bench_function("from the text", |b| {
        b.iter(|| {
            let packet = decoder.decode_text(black_box(chat)).ok()??;
            packet.check_data().ok()?;
            packet.decode_args::<Chat>().ok()
        })
    });
    g.finish();
}

fn payload(c: &mut Criterion) {
    let mut g = c.benchmark_group("polling payload encode");
    let frames: Vec<Frame> = (0..10)
        .map(|i| Frame::text(format!("42[\"echo\",{i},\"xxxxxxxxxxxxxxxx\"]")))
        .collect();
    g.throughput(Throughput::Elements(frames.len() as u64));
    g.bench_function("10 text frames", |b| {
        b.iter(|| roomcast_transport_polling::payload::encode(black_box(&frames)))
    });
    let mixed = vec![
        Frame::text("451-[\"bin\",{\"_placeholder\":true,\"num\":0}]"),
        Frame::binary(vec![7u8; 256]),
    ];
    g.throughput(Throughput::Elements(mixed.len() as u64));
    g.bench_function("text + 256-byte binary", |b| {
        b.iter(|| roomcast_transport_polling::payload::encode(black_box(&mixed)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = encode, decode, typed_args, payload
}
criterion_main!(benches);
