//! Interop with the real npm `socket.io-client` 4.8.4: events both ways with mixed
//! argument types (strings, numbers, booleans, null, nested objects, arrays, several
//! arguments, none, spread `Args`), acks both ways (client `emitWithAck` → `AckSender`,
//! server `emit_with_ack` → client callback, an unanswered one → `AckError::Timeout`),
//! binary both ways (`Bytes` nested in typed structs, binary acks), over websocket and
//! over polling; and several namespaces multiplexed on one connection (static, dynamic
//! through `of_matching`, and a refused `/nope`).
//!
//! Scripts: `tests/js/socketio/events.mjs`, `tests/js/socketio/namespaces.mjs`.

mod socketio_common;

use std::time::Duration;

use bytes::Bytes;
use roomcast_socketio::{AckError, AckSender, Args, DisconnectReason, Namespace, Server, Socket};
use roomcast_testkit::js::require_js_deps;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use socketio_common::{node_ok, serve, step, steps, Log};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Address {
    city: String,
    zip: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Profile {
    name: String,
    age: u32,
    tags: Vec<String>,
    address: Address,
    nick: Option<String>,
}

/// `"mixed"`: string, negative integer, float, bool, null, object, heterogeneous array.
type Mixed = (String, i64, f64, bool, Option<String>, Profile, Vec<Value>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Meta {
    label: String,
    thumb: Bytes,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Upload {
    name: String,
    data: Bytes,
    parts: Vec<Bytes>,
    meta: Meta,
}

fn reversed(b: &Bytes) -> Bytes {
    let mut v = b.to_vec();
    v.reverse();
    Bytes::from(v)
}

/// The server of `events.mjs`; what its handlers decoded goes to `log`.
fn events_server(log: Log<(String, Value)>) -> Server {
    let io = Server::new();
    io.on_connect(move |socket: Socket| {
        let log = log.clone();
        async move {
            log.push((
                "connect".into(),
                json!({ "id": socket.id().as_str(), "transport": socket.transport().as_str() }),
            ));
            // The connect handler awaits an answer before registering its
            // handlers; the client's first events wait meanwhile.
            let greeting: Result<String, AckError> = socket
                .emit_with_ack("greet", &"server", Duration::from_secs(10))
                .await;
            log.push(("greet".into(), json!(greeting.unwrap())));
            let l = log.clone();
            socket.on("mixed", move |s: Socket, m: Mixed, ack: AckSender| {
                l.push((
                    "mixed".into(),
                    json!({ "args": m, "ack_expected": ack.expected() }),
                ));
                async move {
                    s.emit("mixed", &m).unwrap();
                }
            });
            socket.on("no-args", |s: Socket, (): (), _: AckSender| async move {
                s.emit("none", &()).unwrap();
            });
            socket.on(
                "spread",
                |s: Socket, Args(mut v): Args<i64>, _: AckSender| async move {
                    v.reverse();
                    s.emit("spread", &Args(v)).unwrap();
                },
            );
            socket.on(
                "sum",
                |_: Socket, (a, b): (i64, i64), ack: AckSender| async move {
                    assert!(ack.expected());
                    ack.send(&(a + b)).unwrap();
                },
            );
            socket.on(
                "multi-ack",
                |_: Socket, (): (), ack: AckSender| async move {
                    ack.send(&("two", 2, json!({ "k": [true, null] }))).unwrap();
                },
            );
            let l = log.clone();
            socket.on(
                "bin",
                move |s: Socket, (up, extra): (Upload, Bytes), _: AckSender| {
                    l.push((
                        "bin".into(),
                        json!({
                            "name": up.name,
                            "data": up.data.to_vec(),
                            "parts": up.parts.iter().map(|p| p.to_vec()).collect::<Vec<_>>(),
                            "label": up.meta.label,
                            "thumb": up.meta.thumb.to_vec(),
                            "extra": String::from_utf8_lossy(&extra),
                        }),
                    ));
                    async move {
                        let mut parts = up.parts.clone();
                        parts.push(extra);
                        let reply = Upload {
                            name: format!("re:{}", up.name),
                            data: reversed(&up.data),
                            parts,
                            meta: Meta {
                                label: up.meta.label.to_uppercase(),
                                thumb: reversed(&up.meta.thumb),
                            },
                        };
                        s.emit("bin", &(reply, Bytes::from_static(b"tail")))
                            .unwrap();
                    }
                },
            );
            socket.on(
                "bin-ack",
                |_: Socket, data: Bytes, ack: AckSender| async move {
                    ack.send(&(reversed(&data), data.len())).unwrap();
                },
            );
            let l = log.clone();
            socket.on("ask-me", move |s: Socket, (): (), ack: AckSender| {
                let l = l.clone();
                async move {
                    let answer: Result<(String, u32), AckError> = s
                        .emit_with_ack("question", &("what", 21), Duration::from_secs(10))
                        .await;
                    l.push(("question".into(), json!(answer.unwrap())));
                    let answer: Result<Bytes, AckError> = s
                        .emit_with_ack(
                            "bin-question",
                            &Bytes::from_static(&[0, 1, 255]),
                            Duration::from_secs(10),
                        )
                        .await;
                    l.push(("bin-question".into(), json!(answer.unwrap().to_vec())));
                    let answer: Result<Value, AckError> = s
                        .emit_with_ack("never", &"x", Duration::from_millis(300))
                        .await;
                    l.push((
                        "never".into(),
                        json!(matches!(answer, Err(AckError::Timeout))),
                    ));
                    ack.send(&"done").unwrap();
                }
            });
        }
    });
    io
}

fn logged(log: &Log<(String, Value)>, key: &str) -> Value {
    let all = log.all();
    let found: Vec<_> = all.iter().filter(|(k, _)| k == key).collect();
    assert_eq!(found.len(), 1, "expected one {key:?} entry in {all:#?}");
    found[0].1.clone()
}

async fn events_roundtrip(transport: &str) {
    let Some(_) = require_js_deps() else { return };
    let log = Log::default();
    let io = events_server(log.clone());
    let port = serve(&io).await;
    let lines = node_ok(
        "events.mjs",
        port,
        &[("TRANSPORT", transport)],
        Duration::from_secs(40),
    )
    .await;

    assert_eq!(logged(&log, "greet"), "hi server");
    let connected = step(&lines, "connected");
    assert_eq!(connected["transport"], transport);
    assert_eq!(
        logged(&log, "connect"),
        json!({ "id": connected["id"], "transport": transport })
    );

    let mixed = json!([
        "héllo ✓ \"quoted\"\n",
        -42,
        3.25,
        true,
        null,
        {
            "name": "Ada", "age": 36, "tags": ["math", "engines"],
            "address": { "city": "London", "zip": null }, "nick": null
        },
        [1, "two", { "three": 3 }, [4], null]
    ]);
    assert_eq!(
        logged(&log, "mixed"),
        json!({ "args": mixed, "ack_expected": false })
    );
    assert_eq!(step(&lines, "mixed")["args"], mixed);
    assert_eq!(step(&lines, "no-args")["args"], json!([]));
    assert_eq!(step(&lines, "spread")["args"], json!([5, 4, 3, 2, 1]));
    assert_eq!(step(&lines, "sum")["result"], 42);
    assert_eq!(
        step(&lines, "multi-ack")["args"],
        json!(["two", 2, { "k": [true, null] }])
    );

    assert_eq!(
        logged(&log, "bin"),
        json!({
            "name": "file.bin", "data": [1, 2, 3], "parts": [[4], [5, 6], []],
            "label": "m", "thumb": [255, 0], "extra": "extra"
        })
    );
    let b = |v: &[u8]| json!({ "bytes": v });
    assert_eq!(
        step(&lines, "bin")["args"],
        json!([
            {
                "name": "re:file.bin",
                "data": b(&[3, 2, 1]),
                "parts": [b(&[4]), b(&[5, 6]), b(&[]), b(b"extra")],
                "meta": { "label": "M", "thumb": b(&[0, 255]) }
            },
            b(b"tail")
        ])
    );
    assert_eq!(
        step(&lines, "bin-ack")["args"],
        json!([b(&[250, 3, 2, 1]), 4])
    );

    let ask = step(&lines, "ask-me");
    assert_eq!(ask["result"], "done");
    assert_eq!(
        ask["asked"],
        json!([
            { "event": "question", "args": ["what", 21], "cb": "function" },
            { "event": "bin-question", "args": [b(&[0, 1, 255])], "cb": "function" },
            { "event": "never", "args": ["x"], "cb": "function" }
        ])
    );
    assert_eq!(logged(&log, "question"), json!(["answer:what", 42]));
    assert_eq!(logged(&log, "bin-question"), json!([255, 1, 0]));
    assert_eq!(logged(&log, "never"), json!(true), "AckError::Timeout");
}

#[tokio::test]
async fn events_acks_and_binary_over_websocket() {
    events_roundtrip("websocket").await;
}

#[tokio::test]
async fn events_acks_and_binary_over_polling() {
    events_roundtrip("polling").await;
}

/// The handlers of every namespace of the namespaces test. `poke` emits to
/// each namespace once, then acks.
fn setup_namespace(
    io: &Server,
    ns: &Namespace,
    log: Log<(String, String, Option<DisconnectReason>)>,
) {
    let io = io.clone();
    ns.on_connect(move |socket: Socket| {
        let log = log.clone();
        let io = io.clone();
        async move {
            let name = socket.ns().name().to_string();
            log.push((name.clone(), socket.id().to_string(), None));
            socket.emit("welcome", &name).unwrap();
            socket.on("where", |s: Socket, (): (), ack: AckSender| async move {
                ack.send(&json!({ "ns": s.ns().name(), "id": s.id().as_str() }))
                    .unwrap();
            });
            socket.on("poke", move |_: Socket, (): (), ack: AckSender| {
                let io = io.clone();
                async move {
                    io.of("/chat").emit("chat-only", &1).unwrap();
                    io.namespace("/room-42")
                        .expect("created on its first connection")
                        .emit("dyn-only", &2)
                        .unwrap();
                    io.emit("main-only", &3).unwrap();
                    ack.send(&"poked").unwrap();
                }
            });
            socket.on_disconnect(move |s: Socket, reason| {
                log.push((s.ns().name().to_string(), s.id().to_string(), Some(reason)));
                async {}
            });
        }
    });
}

#[tokio::test]
async fn namespaces_share_one_connection_and_stay_apart() {
    let Some(_) = require_js_deps() else { return };
    let log = Log::default();
    let io = Server::new();
    setup_namespace(&io, &io.main(), log.clone());
    setup_namespace(&io, &io.of("/chat"), log.clone());
    setup_namespace(
        &io,
        &io.of_matching(|n| n.starts_with("/room-")),
        log.clone(),
    );
    let port = serve(&io).await;
    let lines = node_ok("namespaces.mjs", port, &[], Duration::from_secs(40)).await;

    let ids = &step(&lines, "ids")["ids"];
    assert_eq!(
        step(&lines, "refused"),
        &json!({ "step": "refused", "message": "Invalid namespace", "connected": false })
    );
    let wheres = steps(&lines, "where");
    assert_eq!(wheres.len(), 3);
    for (w, (name, ns)) in
        wheres
            .iter()
            .zip([("main", "/"), ("chat", "/chat"), ("dyn", "/room-42")])
    {
        assert_eq!(w["name"], name);
        assert_eq!(w["answer"], json!({ "ns": ns, "id": ids[name] }));
    }
    let logs = &step(&lines, "logs")["logs"];
    assert_eq!(logs["main"], json!([["welcome", "/"], ["main-only", 3]]));
    assert_eq!(
        logs["chat"],
        json!([["welcome", "/chat"], ["chat-only", 1]])
    );
    assert_eq!(
        logs["dyn"],
        json!([["welcome", "/room-42"], ["dyn-only", 2]])
    );
    assert_eq!(logs["other"], json!([["welcome", "/"], ["main-only", 3]]));
    assert_eq!(
        step(&lines, "after-leave")["answer"],
        json!({ "ns": "/", "id": ids["main"] })
    );

    // Server side: the dynamic namespace was created with its own name, and
    // leaving /chat was a client namespace disconnect.
    let chat_id = ids["chat"].as_str().unwrap().to_string();
    let dyn_id = ids["dyn"].as_str().unwrap().to_string();
    let entries = log.all();
    assert!(entries.contains(&("/chat".into(), chat_id.clone(), None)));
    assert!(entries.contains(&("/room-42".into(), dyn_id, None)));
    let left = log
        .wait_for("the /chat socket's disconnect", |(ns, id, r)| {
            ns == "/chat" && *id == chat_id && r.is_some()
        })
        .await;
    assert_eq!(left.2, Some(DisconnectReason::ClientNamespaceDisconnect));
    assert!(io.namespace("/room-42").is_some());
    assert!(io.namespace("/nope").is_none());
}
