//! Interop with the real npm `socket.io-client` 4.8.4: connection state recovery
//! on one node (`tests/js/socketio/recovery.mjs`). A client whose transport is cut
//! while the server streams events to its room comes back with the same id, still
//! in its room, `socket.recovered` true, and receives every event exactly once and
//! in order — over WebSocket and over polling. A client away longer than
//! `max_disconnection_duration`, one that disconnected on purpose, and a fresh one
//! are not recovered.

mod socketio_common;

use std::time::Duration;

use bytes::Bytes;
use roomcast_socketio::{AckSender, DisconnectReason, RecoveryConfig, Server, Socket};
use roomcast_testkit::js::require_js_deps;
use serde::Deserialize;
use serde_json::{json, Value};
use socketio_common::{node_ok, step, Log};

#[derive(Deserialize)]
struct Stream {
    from: u64,
    count: u64,
}

/// A server with recovery on: a fresh socket joins the room its auth names (a
/// recovered one must already be in it), every socket is greeted with whether it
/// was recovered, "own" is answered by the socket's own emit, and "stream" sends
/// `count` numbered events to room "r", one every 2 ms, then acks.
/// Every socket that went through the middleware is logged in `middleware`.
fn server(
    max_disconnection: Duration,
    reasons: Log<DisconnectReason>,
    middleware: Log<String>,
    parser: &str,
) -> Server {
    let builder = Server::builder().recovery(RecoveryConfig {
        max_disconnection_duration: max_disconnection,
        ..RecoveryConfig::default()
    });
    let io = match parser {
        "msgpack" => builder.parser(roomcast_socketio::parser::MsgPackParser::new()),
        _ => builder,
    }
    .build();
    io.use_middleware(move |socket: Socket| {
        let middleware = middleware.clone();
        async move {
            middleware.push(socket.id().as_str().to_string());
            Ok(())
        }
    });
    let io2 = io.clone();
    io.on_connect(move |socket: Socket| {
        let io = io2.clone();
        let reasons = reasons.clone();
        async move {
            if !socket.recovered() {
                let room = socket.handshake().auth["room"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                socket.join([room]);
                socket.set_data(&json!({ "since": "fresh" })).unwrap();
            }
            socket
                .emit(
                    "hello",
                    &json!({
                        "recovered": socket.recovered(),
                        "id": socket.id().as_str(),
                        "data": socket.data_json(),
                    }),
                )
                .unwrap();
            socket.on("own", |s: Socket, (): (), _: AckSender| async move {
                s.emit("own", &7).unwrap();
            });
            socket.on("stream", move |_: Socket, s: Stream, ack: AckSender| {
                let io = io.clone();
                async move {
                    for i in s.from..s.from + s.count {
                        io.to(["r"]).emit("n", &i).unwrap();
                        // Stored too, but not for a client in "r" only; and
                        // volatile events are not stored at all.
                        if i % 10 == 0 {
                            io.to(["d"]).emit("n", &(1000 + i)).unwrap();
                            io.except(["r"]).emit("n", &(2000 + i)).unwrap();
                            io.to(["r"]).volatile().emit("v", &i).unwrap();
                        }
                        if i == s.from + s.count / 2 {
                            io.to(["r"])
                                .emit("bin", &(i, Bytes::from_static(&[1, 2, 3])))
                                .unwrap();
                        }
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                    ack.send(&()).ok();
                }
            });
            socket.on_disconnect(move |_: Socket, reason| {
                reasons.push(reason);
                async {}
            });
        }
    });
    io
}

async fn run(
    transport: &str,
    scenario: &str,
    max_disconnection: Duration,
    parser: &str,
) -> (Value, Log<DisconnectReason>, Log<String>) {
    let reasons = Log::default();
    let middleware = Log::default();
    let io = server(
        max_disconnection,
        reasons.clone(),
        middleware.clone(),
        parser,
    );
    let port = socketio_common::serve(&io).await;
    let lines = node_ok(
        "recovery.mjs",
        port,
        &[
            ("TRANSPORT", transport),
            ("SCENARIO", scenario),
            ("AWAY_MS", "1500"),
            ("PARSER", parser),
        ],
        Duration::from_secs(40),
    )
    .await;
    (step(&lines, "result").clone(), reasons, middleware)
}

async fn cut(transport: &str, parser: &str) {
    let Some(_) = require_js_deps() else { return };
    let (r, reasons, middleware) = run(transport, "cut", Duration::from_secs(120), parser).await;
    let n = 200u64;
    assert_eq!(r["fresh"], false, "a fresh socket is not recovered: {r}");
    assert_eq!(r["recovered"], true, "{r}");
    assert_eq!(r["id"], r["firstId"], "the same socket id: {r}");
    assert_eq!(r["hellos"][0]["recovered"], false);
    assert_eq!(
        r["hellos"][1],
        json!({ "recovered": true, "id": r["firstId"], "data": { "since": "fresh" } }),
        "server side: the same id and data: {r}"
    );
    assert_eq!(
        r["bins"],
        json!([[n / 2, { "bytes": [1, 2, 3] }], [n + 1, { "bytes": [1, 2, 3] }]]),
        "binary events, replayed or live: {r}"
    );
    assert_eq!(r["binOffsets"], json!(["string", "string"]));
    let volatiles = r["volatiles"].as_u64().unwrap();
    assert!(
        volatiles < 21,
        "volatile events are not replayed: {volatiles}"
    );
    let expected: Vec<u64> = (0..n + 3).collect();
    assert_eq!(r["seen"], json!(expected), "every event once and in order");
    let before = r["seenBeforeCut"].as_u64().unwrap();
    assert!(
        before < n,
        "the cut came mid-stream ({before} of {n} before it)"
    );
    assert_eq!(
        r["offsetsAreStrings"], true,
        "every event carried its offset"
    );
    assert_eq!(r["distinctOffsets"], n + 3);
    assert!(r["awayId"].is_null());
    assert_eq!(r["ownValue"], 7);
    assert!(
        r["ownOffset"].is_string(),
        "a socket's own emit carries an offset: {r}"
    );
    let passed = middleware.all();
    assert_eq!(
        passed.len(),
        2,
        "the recovered socket skipped the middleware: {passed:?}"
    );
    assert_eq!(passed[0], r["firstId"].as_str().unwrap());
    let reasons = reasons.all();
    assert!(
        matches!(reasons.first(), Some(DisconnectReason::TransportClose)),
        "the cut is a transport close on the server: {reasons:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_mid_stream_over_websocket_recovers_everything() {
    cut("websocket", "json").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_mid_stream_over_polling_recovers_everything() {
    cut("polling", "json").await;
}

/// The offsets are appended to MessagePack packets too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_mid_stream_with_msgpack_over_websocket_recovers_everything() {
    cut("websocket", "msgpack").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_mid_stream_with_msgpack_over_polling_recovers_everything() {
    cut("polling", "msgpack").await;
}

async fn not_recovered(transport: &str, scenario: &str, max_disconnection: Duration) {
    let Some(_) = require_js_deps() else { return };
    let (r, _, middleware) = run(transport, scenario, max_disconnection, "json").await;
    assert_eq!(
        middleware.len(),
        3,
        "a fresh socket goes through the middleware"
    );
    assert_eq!(r["fresh"], false);
    assert_eq!(r["recovered"], false, "{scenario}: {r}");
    assert_ne!(r["id"], r["firstId"], "{scenario}: a new socket id: {r}");
    assert_eq!(r["hellos"][1]["recovered"], false, "server side: {r}");
    // Nothing sent while it was away is replayed; the new socket joined "r" afresh.
    assert_eq!(r["seen"], json!([0]), "{scenario}: {r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn away_longer_than_max_disconnection_duration_is_not_recovered_over_websocket() {
    not_recovered("websocket", "expired", Duration::from_millis(500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn away_longer_than_max_disconnection_duration_is_not_recovered_over_polling() {
    not_recovered("polling", "expired", Duration::from_millis(500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnected_on_purpose_is_not_recovered_over_websocket() {
    not_recovered("websocket", "on-purpose", Duration::from_secs(120)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnected_on_purpose_is_not_recovered_over_polling() {
    not_recovered("polling", "on-purpose", Duration::from_secs(120)).await;
}
