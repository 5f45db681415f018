//! Interop with the real npm `socket.io-client` 4.8 configured with
//! `parser: require("socket.io-msgpack-parser")` (3.0.2) against a server
//! built with `MsgPackParser`: events and acks both ways with binary nested
//! and on top (Node gets `Buffer`s), rooms, broadcasts to all and to others,
//! over websocket and over polling (binary frames as `b` + base64); and a
//! frame that is not a MessagePack packet closes only its own connection.
//!
//! Script: `tests/js/socketio/msgpack.mjs` (run with `PARSER=msgpack`).

mod socketio_common;

use std::time::Duration;

use bytes::Bytes;
use roomcast_socketio::parser::MsgPackParser;
use roomcast_socketio::{AckError, AckSender, DisconnectReason, Server, Socket};
use roomcast_testkit::js::require_js_deps;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use socketio_common::{node_ok, serve, step, Log};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct File {
    name: String,
    data: Bytes,
    parts: Vec<Bytes>,
}

fn reversed(b: &[u8]) -> Bytes {
    let mut v = b.to_vec();
    v.reverse();
    Bytes::from(v)
}

fn server(log: Log<(String, Value)>) -> Server {
    let io = Server::builder().parser(MsgPackParser::new()).build();
    let io2 = io.clone();
    io.on_connect(move |socket: Socket| {
        let log = log.clone();
        let io = io2.clone();
        async move {
            socket.on(
                "echo",
                |_: Socket, (text, n, file): (String, u32, File), ack: AckSender| async move {
                    let mut parts = file.parts.clone();
                    parts.push(Bytes::from_static(b"!"));
                    let reply = File {
                        name: format!("re:{}", file.name),
                        data: reversed(&file.data),
                        parts,
                    };
                    ack.send(&(reply, format!("re:{text}"), n + 1)).unwrap();
                },
            );
            let l = log.clone();
            socket.on("ask-me", move |s: Socket, (): (), ack: AckSender| {
                let l = l.clone();
                async move {
                    let answer: Result<(String, Bytes), AckError> = s
                        .emit_with_ack(
                            "question",
                            &("what", Bytes::from_static(&[0, 1, 255])),
                            Duration::from_secs(10),
                        )
                        .await;
                    let (text, data) = answer.unwrap();
                    l.push(("question".into(), json!([text, data.to_vec()])));
                    ack.send(&"done").unwrap();
                }
            });
            socket.on(
                "join",
                |s: Socket, room: String, ack: AckSender| async move {
                    s.join([room]);
                    ack.send(&()).unwrap();
                },
            );
            socket.on(
                "to-room",
                |s: Socket, (room, data): (String, Bytes), ack: AckSender| async move {
                    s.to([room.clone()])
                        .emit("room-msg", &(room, data))
                        .unwrap();
                    ack.send(&()).unwrap();
                },
            );
            socket.on("to-all", move |_: Socket, n: u32, ack: AckSender| {
                let io = io.clone();
                async move {
                    io.emit(
                        "all-msg",
                        &(n, Bytes::from_static(&[9, 9]), json!({"k": [1.5, null]})),
                    )
                    .unwrap();
                    ack.send(&()).unwrap();
                }
            });
            socket.on(
                "to-others",
                |s: Socket, v: Value, _: AckSender| async move {
                    s.broadcast().emit("others-msg", &v).unwrap();
                },
            );
            socket.on_disconnect(move |s: Socket, reason| {
                log.push((
                    "disconnect".into(),
                    json!([s.id().as_str(), format!("{reason:?}")]),
                ));
                async {}
            });
        }
    });
    io
}

async fn roundtrip(transport: &str) {
    let Some(_) = require_js_deps() else { return };
    let log = Log::default();
    let io = server(log.clone());
    let port = serve(&io).await;
    let lines = node_ok(
        "msgpack.mjs",
        port,
        &[("TRANSPORT", transport), ("PARSER", "msgpack")],
        Duration::from_secs(40),
    )
    .await;
    let b = |v: &[u8]| json!({ "bytes": v });

    assert_eq!(step(&lines, "connected")["transport"], transport);
    let echo = step(&lines, "echo");
    assert_eq!(
        echo["args"],
        json!([
            { "name": "re:f", "data": b(&[3, 2, 1]), "parts": [b(&[7, 8]), b(b"!")] },
            "re:héllo",
            42
        ])
    );
    assert_eq!(echo["isBuffer"], true, "bytes arrive as a Node Buffer");
    assert_eq!(step(&lines, "ask-me")["result"], "done");
    let question: Vec<_> = log
        .all()
        .into_iter()
        .filter(|(k, _)| k == "question")
        .collect();
    assert_eq!(question[0].1, json!(["answer:what", [255, 1, 0]]));
    assert_eq!(step(&lines, "room")["a"], json!(["r", b(b"hi r")]));
    assert_eq!(
        step(&lines, "all")["args"],
        json!([
            [5, b(&[9, 9]), { "k": [1.5, null] }],
            [5, b(&[9, 9]), { "k": [1.5, null] }]
        ])
    );
    assert_eq!(step(&lines, "others")["a"], 3000);
    assert_eq!(
        step(&lines, "b-room"),
        &json!({ "step": "b-room", "count": 0, "others": 0 }),
        "b is neither in the room nor among the others"
    );

    // The bad frame: the server closes that connection (a parse error), the
    // client sees its transport go, the two others carry on.
    let bad = step(&lines, "bad");
    assert!(
        bad["reason"] == "transport close" || bad["reason"] == "transport error",
        "{bad}"
    );
    let after = step(&lines, "after-bad");
    assert_eq!(after["aConnected"], true);
    assert_eq!(after["bConnected"], true);
    assert_eq!(after["args"][1], "re:still");
    let disconnects: Vec<_> = log
        .all()
        .into_iter()
        .filter(|(k, _)| k == "disconnect")
        .collect();
    assert!(
        disconnects
            .first()
            .is_some_and(|(_, v)| v[1] == format!("{:?}", DisconnectReason::ParseError)),
        "the first socket to go is the bad one, for a parse error: {disconnects:?}"
    );
}

#[tokio::test]
async fn msgpack_events_acks_binary_rooms_over_websocket() {
    roundtrip("websocket").await;
}

#[tokio::test]
async fn msgpack_events_acks_binary_rooms_over_polling() {
    roundtrip("polling").await;
}
