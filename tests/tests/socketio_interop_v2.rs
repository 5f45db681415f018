//! Interop with the real npm `socket.io-client` 2.5.0 (Engine.IO v3, Socket.IO
//! protocol v4, installed as `socket.io-client-v2`) on a server with `allow_eio3`:
//! connection over polling and over WebSocket after the upgrade, events and acks both
//! ways, binary both ways, a room broadcast reaching a v2 and a v4 client alike, a
//! second namespace whose CONNECT query is the socket's auth, a middleware refusal
//! and an unknown namespace reaching the v2 client's `error` event, the server's ping
//! timeout of a v2 client that stops pinging, and the refusal of v2 clients when the
//! option is off; and the v2 browser bundle in chromium, whose binary travels in v3's
//! binary polling payloads.
//!
//! Scripts: `tests/js/socketio/v2.mjs`, `tests/js/socketio/v2-browser.mjs`.

mod socketio_common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use roomcast_socketio::{AckSender, ConnectError, DisconnectReason, Server, Socket};
use roomcast_testkit::js::{require_chromium, require_js_deps, run_node_file, CHROMIUM_ARGS};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use socketio_common::{eventually, node_ok, serve, step, Log};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    label: String,
    thumb: Bytes,
}

fn server(log: Log<(String, Value)>, ping: Duration) -> Server {
    let io = Server::builder()
        .allow_eio3(true)
        .engine(|e| {
            e.ping_interval = ping;
            e.ping_timeout = ping;
        })
        .build();
    let io2 = io.clone();
    let l = log.clone();
    io.on_connect(move |socket: Socket| {
        let (io, log) = (io2.clone(), l.clone());
        async move {
            log.push((
                "connect".into(),
                json!({
                    "id": socket.id().as_str(),
                    "transport": socket.transport().as_str(),
                    "v": socket.handshake().query("v"),
                    "auth": socket.handshake().auth,
                }),
            ));
            socket.on("echo", |s: Socket, args: (Value, Value, Value), _: AckSender| async move {
                s.emit("echo", &args).unwrap();
            });
            socket.on("sum", |_: Socket, (a, b): (i64, i64), ack: AckSender| async move {
                ack.send(&(a + b)).unwrap();
            });
            socket.on("whoami", |s: Socket, (): (), ack: AckSender| async move {
                ack.send(&s.id().as_str()).unwrap();
            });
            socket.on("ask", |s: Socket, (): (), _: AckSender| async move {
                let answer: String = s
                    .emit_with_ack("question", &"q1", Duration::from_secs(5))
                    .await
                    .unwrap();
                s.emit("answered", &answer).unwrap();
            });
            let lb = log.clone();
            socket.on("bin", move |s: Socket, (data, meta): (Bytes, Meta), ack: AckSender| {
                lb.push((
                    "bin".into(),
                    json!({ "data": data.to_vec(), "label": meta.label, "thumb": meta.thumb.to_vec() }),
                ));
                async move {
                    let mut rev = data.to_vec();
                    rev.reverse();
                    s.emit("bin", &(Bytes::from(rev), "reversed")).unwrap();
                    ack.send(&(meta.thumb, Bytes::from_static(b"ok"))).unwrap();
                }
            });
            socket.on("join", |s: Socket, room: String, ack: AckSender| async move {
                s.join([room.as_str()]);
                ack.send(&()).unwrap();
            });
            socket.on("shout", move |_: Socket, (room, msg): (String, String), _: AckSender| {
                let io = io.clone();
                async move {
                    // One broadcast, with an attachment, to clients of both revisions.
                    io.to([room.as_str()])
                        .emit("news", &(msg, Bytes::from_static(&[0, 1, 255])))
                        .unwrap();
                }
            });
            let ld = log.clone();
            socket.on_disconnect(move |s: Socket, reason: DisconnectReason| {
                ld.push((
                    "disconnect".into(),
                    json!({ "id": s.id().as_str(), "reason": reason.to_string() }),
                ));
                async {}
            });
        }
    });
    let chat = io.of("/chat");
    let l = log.clone();
    chat.use_middleware(move |socket: Socket| {
        let l = l.clone();
        async move {
            let token = socket.handshake().auth.get("token").cloned();
            l.push(("chat-middleware".into(), json!(token)));
            match token.as_ref().and_then(Value::as_str) {
                Some("good") => Ok(()),
                _ => Err(ConnectError::new("not authorized")),
            }
        }
    });
    chat.on_connect(|socket: Socket| async move {
        socket.emit("welcome", &socket.handshake().auth).unwrap();
        socket.on(
            "sum",
            |_: Socket, (a, b): (i64, i64), ack: AckSender| async move {
                ack.send(&(a + b)).unwrap();
            },
        );
    });
    io
}

fn entries(log: &Log<(String, Value)>, kind: &str) -> Vec<Value> {
    log.all()
        .into_iter()
        .filter(|(k, _)| k == kind)
        .map(|(_, v)| v)
        .collect()
}

async fn main_scenario(transports: &str, transport: &str) {
    let log = Log::default();
    let io = server(log.clone(), Duration::from_millis(1000));
    let port = serve(&io).await;
    let lines = node_ok(
        "v2.mjs",
        port,
        &[("TRANSPORTS", transports)],
        Duration::from_secs(40),
    )
    .await;

    let connect = step(&lines, "connect");
    assert_eq!(connect["transport"], transport);
    // The socket of `/` has the engine session's id, which is the v2 client's id.
    assert_eq!(connect["id"], connect["engine_id"]);
    let first = &entries(&log, "connect")[0];
    assert_eq!(first["id"], connect["id"]);
    assert_eq!(first["v"], "2");
    assert_eq!(first["auth"], json!({}));
    assert_eq!(
        step(&lines, "echo")["args"],
        json!([{ "a": 1, "s": "é😀" }, "x", [true, null]])
    );
    assert_eq!(step(&lines, "sum")["reply"], json!([5]));
    assert_eq!(step(&lines, "answered")["args"], json!(["answer:q1"]));
    assert_eq!(
        entries(&log, "bin"),
        vec![json!({ "data": [1, 2, 3, 250], "label": "t", "thumb": [9] })]
    );
    let bin = step(&lines, "bin");
    assert_eq!(
        bin["event"],
        json!([{ "bytes": [250, 3, 2, 1] }, "reversed"])
    );
    assert_eq!(
        bin["ack"],
        json!([{ "bytes": [9] }, { "bytes": [111, 107] }])
    );
    let id = step(&lines, "id");
    assert_eq!(id["server_id"], id["id"]);
    let news = step(&lines, "news");
    let expected = json!(["hello", { "bytes": [0, 1, 255] }]);
    assert_eq!(
        news["v2"], expected,
        "the v2 client's copy of the broadcast"
    );
    assert_eq!(
        news["v4"], expected,
        "the v4 client's copy of the broadcast"
    );
    assert_eq!(
        step(&lines, "chat")["welcome"],
        json!([{ "token": "good", "x": "1" }])
    );
    assert_eq!(step(&lines, "chat-sum")["reply"], json!([9]));
    assert_eq!(step(&lines, "refused")["error"], json!(["not authorized"]));
    assert_eq!(
        step(&lines, "nope")["error"],
        json!([{ "message": "Invalid namespace" }])
    );
    assert_eq!(
        entries(&log, "chat-middleware"),
        vec![json!("good"), json!("bad")]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v2_client_over_polling() {
    if require_js_deps().is_none() {
        return;
    }
    main_scenario("polling", "polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v2_client_upgraded_to_websocket() {
    if require_js_deps().is_none() {
        return;
    }
    main_scenario("polling,websocket", "websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v2_client_that_stops_pinging_times_out() {
    if require_js_deps().is_none() {
        return;
    }
    let log = Log::default();
    let ping = Duration::from_millis(300);
    let io = server(log.clone(), ping);
    let port = serve(&io).await;
    let started = Instant::now();
    let lines = node_ok(
        "v2.mjs",
        port,
        &[("MODE", "ping-timeout"), ("TRANSPORTS", "websocket")],
        Duration::from_secs(20),
    )
    .await;
    let id = step(&lines, "stopped-pinging")["id"].clone();
    eventually("the server's disconnect", || {
        !entries(&log, "disconnect").is_empty()
    })
    .await;
    assert_eq!(
        entries(&log, "disconnect"),
        vec![json!({ "id": id, "reason": "ping timeout" })]
    );
    // Not before a whole window (interval + timeout) without a ping.
    let after = step(&lines, "disconnect")["after_ms"].as_u64().unwrap();
    assert!(after >= 300, "closed after {after} ms");
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_clients_are_refused_unless_allowed() {
    if require_js_deps().is_none() {
        return;
    }
    let io = Server::new();
    let connected = Log::<()>::default();
    let c = connected.clone();
    io.on_connect(move |_: Socket| {
        c.push(());
        async {}
    });
    let port = serve(&io).await;
    for transports in ["polling", "websocket"] {
        let lines = node_ok(
            "v2.mjs",
            port,
            &[("MODE", "refused"), ("TRANSPORTS", transports)],
            Duration::from_secs(20),
        )
        .await;
        assert_eq!(step(&lines, "refused")["connected"], false);
    }
    assert_eq!(connected.len(), 0);
    assert_eq!(io.engine().session_count(), 0);
}

/// The v2 browser bundle in chromium supports binary over XHR: binary then
/// travels in Engine.IO v3's binary payload form, both ways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_v2_browser_bundle_uses_binary_polling_payloads() {
    if require_js_deps().is_none() {
        return;
    }
    let Some(chromium) = require_chromium() else {
        return;
    };
    let log = Log::default();
    let io = server(log.clone(), Duration::from_millis(1000));
    let port = serve(&io).await;
    let env = [
        ("PORT", port.to_string()),
        ("ROOMCAST_CHROMIUM", chromium.display().to_string()),
        (
            "CHROMIUM_ARGS",
            serde_json::to_string(CHROMIUM_ARGS).unwrap(),
        ),
    ];
    let run = run_node_file("socketio/v2-browser.mjs", &env, Duration::from_secs(60)).await;
    run.assert_success();
    let lines = run.json_lines();
    let got = step(&lines, "browser");
    assert_eq!(got["transport"], "polling");
    assert_eq!(got["supports_binary"], true);
    assert_eq!(got["id"], got["engine_id"]);
    assert_eq!(
        entries(&log, "bin"),
        vec![json!({ "data": [1, 2, 3, 250], "label": "t", "thumb": [9] })]
    );
    assert_eq!(got["event"], json!([[250, 3, 2, 1], "reversed"]));
    assert_eq!(got["ack"], json!([[9], [111, 107]]));
    let types = got["content_types"].as_array().unwrap();
    assert!(
        types.iter().any(|t| t == "application/octet-stream"),
        "no binary payload answered: {types:?}"
    );
}
