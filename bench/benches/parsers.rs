//! The two Socket.IO parsers side by side, through the server's seam
//! (`&dyn Parser`): encoding typed arguments (a small event, an object
//! event with an ack id, a binary event with a 1 KiB attachment) and
//! decoding the same packets as a client sends them.
//!
//! `cargo bench -p roomcast-bench --bench parsers`

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use roomcast_core::{Frame, Message};
use roomcast_socketio::parser::{JsonParser, MsgPackParser, Parser};
use serde_json::json;

mod common;

fn parsers() -> [(&'static str, Box<dyn Parser>); 2] {
    [
        ("json", Box::new(JsonParser::new())),
        ("msgpack", Box::new(MsgPackParser::new())),
    ]
}

/// The three packets, as `parser` encodes them.
fn packets(parser: &dyn Parser) -> [(&'static str, Message); 3] {
    let value = json!({"room": "bench", "count": 10, "payload": [1, 123_456, "xxxxxxxxxxxxxxxx"]});
    let blob = Bytes::from(vec![7u8; 1024]);
    [
        (
            "small event",
            parser
                .encode_event("/", "echo", &(123_456_u64, "xxxxxxxxxxxxxxxx"), None)
                .unwrap(),
        ),
        (
            "object event with ack",
            parser.encode_event("/", "fanout", &value, Some(7)).unwrap(),
        ),
        (
            "binary event (1 KiB)",
            parser
                .encode_event("/", "file", &("name.bin", blob), None)
                .unwrap(),
        ),
    ]
}

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("parser encode");
    g.throughput(Throughput::Elements(1));
    let value = json!({"room": "bench", "count": 10, "payload": [1, 123_456, "xxxxxxxxxxxxxxxx"]});
    let blob = Bytes::from(vec![7u8; 1024]);
    for (name, parser) in parsers() {
        let p = &*parser;
        g.bench_function(format!("{name}/small event"), |b| {
            b.iter(|| {
                p.encode_event(
                    "/",
                    "echo",
                    black_box(&(123_456_u64, "xxxxxxxxxxxxxxxx")),
                    None,
                )
            })
        });
        g.bench_function(format!("{name}/object event with ack"), |b| {
            b.iter(|| p.encode_event("/", "fanout", black_box(&value), Some(7)))
        });
        g.bench_function(format!("{name}/binary event (1 KiB)"), |b| {
            b.iter(|| p.encode_event("/", "file", black_box(&("name.bin", blob.clone())), None))
        });
    }
    g.finish();
}

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("parser decode");
    g.throughput(Throughput::Elements(1));
    for (name, parser) in parsers() {
        let mut decoder = parser.decoder();
        for (packet, message) in packets(&*parser) {
            // As the engine hands them over: text without the `4`.
            let frames: Vec<Frame> = message.frames().to_vec();
            g.bench_function(format!("{name}/{packet}"), |b| {
                b.iter(|| {
                    let mut out = None;
                    for frame in black_box(&frames) {
                        out = match frame {
                            Frame::Text(t) => decoder.decode_text(&t.as_str()[1..]),
                            Frame::Binary(b) => decoder.decode_binary(b.clone()),
                        }
                        .unwrap();
                    }
                    out.unwrap()
                })
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = encode, decode
}
criterion_main!(benches);
