//! The codec against messages captured from Node's redis adapter 8.3.0
//! and redis emitter 5.1.0 (`tests/fixtures`, see its README): what Node
//! publishes decodes into the right requests and frames, and what we
//! publish for the same operation is byte for byte what Node publishes.

use std::collections::HashMap;
use std::time::Duration;

use roomcast_core::cluster::{Request, Response};
use roomcast_core::{Flags, Frame, Room, Target};

use crate::incoming::{encode_reply, parse_request, remote_client, ReplyAs};
use crate::packet::{field, to_frames, to_node};
use crate::wire::{self, kind};

/// Messages by operation: (channel, bytes).
fn captured() -> HashMap<String, Vec<(String, Vec<u8>)>> {
    let mut all: HashMap<String, Vec<(String, Vec<u8>)>> = HashMap::new();
    let mut mark = String::new();
    for line in include_str!("../tests/fixtures/node-8.3.0.jsonl").lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(m) = v["mark"].as_str() {
            mark = m.to_string();
            continue;
        }
        let hex = v["hex"].as_str().unwrap();
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        all.entry(mark.clone())
            .or_default()
            .push((v["channel"].as_str().unwrap().to_string(), bytes));
    }
    all
}

fn text(frames: &[Frame]) -> &str {
    match &frames[0] {
        Frame::Text(t) => t.as_str(),
        Frame::Binary(_) => panic!("binary first"),
    }
}

fn rooms(names: &[&str]) -> Vec<Room> {
    names.iter().map(|r| Room::from(*r)).collect()
}

#[test]
fn node_broadcasts_decode_and_we_encode_the_same_bytes() {
    let all = captured();
    let cases: [(&str, &str, &str, Target, bool, usize); 5] = [
        (
            "emit-all",
            "fixture#/#",
            r#"42["ev",1,"two",{"three":[true,null]}]"#,
            Target::all(),
            false,
            0,
        ),
        (
            "emit-binary",
            "fixture#/#",
            r#"452-["bin",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]"#,
            Target::all(),
            false,
            2,
        ),
        (
            "emit-room",
            "fixture#/#room1#",
            r#"42["ev","r"]"#,
            Target::to(["room1"]),
            false,
            0,
        ),
        (
            "emit-rooms-except",
            "fixture#/#",
            r#"42["ev","x"]"#,
            Target::to(["room1", "room2"]).except(["room3"]),
            true,
            0,
        ),
        (
            "emit-namespace",
            "fixture#/chat#",
            r#"42/chat,["ev","c"]"#,
            Target::all(),
            false,
            0,
        ),
    ];
    for (mark, channel, frame, target, volatile, attachments) in cases {
        let (ch, bytes) = &all[mark][0];
        assert_eq!(ch, channel, "{mark}");
        let b = wire::decode_broadcast(bytes).unwrap();
        assert_eq!(b.target, target, "{mark}");
        assert_eq!(b.flags.volatile, volatile, "{mark}");
        let (_, frames) = to_frames(&b.packet).unwrap();
        assert_eq!(text(&frames), frame, "{mark}");
        assert_eq!(frames.len(), 1 + attachments, "{mark}");
        // Our encoding of the same broadcast, with Node's uid.
        let ours = wire::broadcast(
            &b.uid,
            to_node(&frames).unwrap(),
            &target,
            Flags {
                volatile,
                local: false,
            },
        );
        if !volatile {
            assert_eq!(&ours, bytes, "{mark}: byte for byte");
        }
    }
    let (_, bin) = &all["emit-binary"][0];
    let (_, frames) = to_frames(&wire::decode_broadcast(bin).unwrap().packet).unwrap();
    assert_eq!(frames[1], Frame::binary(vec![1, 2, 3]));
    assert_eq!(frames[2], Frame::binary(vec![4]));
}

#[test]
fn node_requests_become_our_requests() {
    let all = captured();
    let parse = |mark: &str, i: usize| {
        let (ch, bytes) = &all[mark][i];
        assert!(ch.starts_with("fixture-request#/#"), "{mark}: {ch}");
        parse_request("/", &wire::decode(bytes).unwrap(), 42).unwrap()
    };
    let (r, reply) = parse("emit-with-ack", 0);
    let Request::BroadcastWithAck {
        frames,
        target,
        timeout,
        ..
    } = r
    else {
        panic!("{r:?}")
    };
    assert_eq!(
        timeout,
        Some(Duration::from_secs(1)),
        "Node's flags.timeout"
    );
    // Ours for the same broadcast, with Node's uid and request id.
    let (_, node) = &all["emit-with-ack"][0];
    let msg = wire::decode(node).unwrap();
    let ours = wire::broadcast_with_ack(
        wire::str_of(&msg, "uid").unwrap(),
        &wire::request_id_of(&msg).unwrap(),
        to_node(&frames).unwrap(),
        &target,
        Flags::default(),
        timeout,
    );
    assert_eq!(&ours, node, "BROADCAST request byte for byte");
    assert_eq!(
        text(&frames),
        r#"42["q"]"#,
        "no ack id: each node picks its own"
    );
    assert_eq!(target, Target::all());
    assert_eq!(reply.unwrap().0, ReplyAs::Acks);

    let (r, reply) = parse("fetch-sockets", 0);
    assert_eq!(
        r,
        Request::FetchClients {
            request: 42,
            target: Target::to(["room1"])
        }
    );
    assert_eq!(reply.unwrap().0, ReplyAs::Fetch);
    assert_eq!(
        parse("sockets-join", 0).0,
        Request::AddRooms {
            target: Target::to(["room1"]),
            rooms: rooms(&["j1", "j2"])
        }
    );
    assert_eq!(
        parse("sockets-leave", 0).0,
        Request::RemoveRooms {
            target: Target::to(["room1"]),
            rooms: rooms(&["j1"])
        }
    );
    assert_eq!(parse("all-rooms", 0).0, Request::FetchRooms { request: 42 });
    assert_eq!(
        parse("server-side-emit", 0),
        (
            Request::ServerMessage {
                request: None,
                payload: br#"["hello","world",1]"#.to_vec()
            },
            None
        )
    );
    assert_eq!(
        parse("server-side-emit-binary", 0).0,
        Request::ServerMessage {
            request: None,
            payload: br#"["bin",{"type":"Buffer","data":[1,2,3]},{"nested":{"type":"Buffer","data":[4]}}]"#
                .to_vec()
        },
        "Node writes a Buffer as JSON here, not as MessagePack bin"
    );
    let (r, reply) = parse("server-side-emit-ack", 0);
    assert_eq!(
        r,
        Request::ServerMessage {
            request: Some(42),
            payload: br#"["whoami"]"#.to_vec()
        }
    );
    assert_eq!(reply.unwrap().0, ReplyAs::ServerMessage);
    assert_eq!(
        parse("disconnect-sockets", 0).0,
        Request::Disconnect {
            target: Target::to(["j2"]),
            close_connection: true
        }
    );
    // The emitter's: no uid, no requestId.
    assert_eq!(
        parse("emitter-disconnect", 0).0,
        Request::Disconnect {
            target: Target::to(["nobody"]),
            close_connection: false
        }
    );
    assert!(matches!(
        parse("emitter-server-side", 0).0,
        Request::ServerMessage { request: None, .. }
    ));
}

#[test]
fn emitter_broadcasts_decode() {
    let all = captured();
    let (_, bytes) = &all["emitter-emit"][0];
    let b = wire::decode_broadcast(bytes).unwrap();
    assert_eq!(b.uid, "emitter");
    assert_eq!(
        text(&to_frames(&b.packet).unwrap().1),
        r#"42["from-emitter",{"a":1}]"#
    );
    let (ch, bytes) = &all["emitter-room-except"][0];
    assert_eq!(ch, "fixture#/#room1#");
    let b = wire::decode_broadcast(bytes).unwrap();
    assert_eq!(b.target, Target::to(["room1"]).except(["room9"]));
    let (_, frames) = to_frames(&b.packet).unwrap();
    assert_eq!(text(&frames), r#"451-["e2",{"_placeholder":true,"num":0}]"#);
    assert_eq!(frames[1], Frame::binary(vec![9]));
}

#[test]
fn node_responses_decode_and_ours_match_them() {
    let all = captured();
    let acks = &all["emit-with-ack"];
    let (_, count) = &acks[1];
    let request_id = wire::request_id_of(&wire::decode(count).unwrap()).unwrap();
    let ours = encode_reply(
        ReplyAs::Acks,
        &request_id,
        Response::AckCount {
            request: 0,
            count: 1,
        },
    )
    .unwrap();
    assert_eq!(&ours, count, "BROADCAST_CLIENT_COUNT byte for byte");
    let (_, ack) = &acks[2];
    let ours = encode_reply(
        ReplyAs::Acks,
        &request_id,
        Response::Ack {
            request: 0,
            payload: br#"["answer",{"_placeholder":true,"num":0}]"#.to_vec(),
            attachments: vec![bytes::Bytes::from_static(&[7])],
        },
    )
    .unwrap();
    assert_eq!(
        &ours, ack,
        "BROADCAST_ACK (first argument only) byte for byte"
    );
    let decoded = wire::decode(ack).unwrap();
    assert_eq!(wire::u64_of(&decoded, "type"), Some(kind::BROADCAST_ACK));

    let (_, fetch) = &all["fetch-sockets"][1];
    let msg = wire::decode(fetch).unwrap();
    let rmpv::Value::Array(sockets) = field(&msg, "sockets").unwrap() else {
        panic!()
    };
    let client = remote_client(&sockets[0]).unwrap();
    assert_eq!(client.id.len(), 20, "a Node socket id keeps its form");
    assert!(client.rooms.contains(&Room::from("room1")));
    let data: serde_json::Value = serde_json::from_slice(&client.data).unwrap();
    assert_eq!(data, serde_json::json!({"user": "ada", "n": 1}));
    let handshake: serde_json::Value = serde_json::from_slice(&client.handshake).unwrap();
    assert_eq!(handshake["auth"], serde_json::json!({"token": "t"}));

    let (_, rooms) = &all["all-rooms"][1];
    let msg = wire::decode(rooms).unwrap();
    assert!(wire::rooms_of(field(&msg, "rooms")).contains(&Room::from("room1")));

    let (_, sse) = &all["server-side-emit-ack"][1];
    let id = wire::request_id_of(&wire::decode(sse).unwrap()).unwrap();
    let ours = encode_reply(
        ReplyAs::ServerMessage,
        &id,
        Response::ServerMessage {
            request: 0,
            payload: br#""node-b""#.to_vec(),
        },
    )
    .unwrap();
    assert_eq!(&ours, sse, "server-side emit answer byte for byte");
}
