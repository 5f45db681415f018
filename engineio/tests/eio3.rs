//! Engine.IO v3 sessions (`allow_eio3`), byte for byte as the reference
//! server (engine.io 6.x with `allowEIO3`) writes them: the v3 polling
//! payloads in their text form (`<length>:<packet>`, binary as `b4` +
//! base64 when the handshake said `b64`) and binary form (octet-stream),
//! the client-driven heartbeat (`2` → `3`, timeout after `ping_interval +
//! ping_timeout` without a ping, a pong from the client refused), binary
//! WebSocket messages with their type byte, and a session's requests that
//! name another revision refused. The real v2 client is in
//! `tests/tests/socketio_interop_v2.rs`.

#![cfg(all(feature = "polling", feature = "ws"))]

mod common;

use std::time::Duration;

use common::*;
use roomcast_core::{CloseReason, Frame};
use roomcast_engineio::{EngineConfig, Protocol};

fn v3_config() -> EngineConfig {
    EngineConfig {
        allow_eio3: true,
        ..EngineConfig::default()
    }
}

fn v3_polling(sid: roomcast_core::ClientId) -> String {
    eio(&format!("EIO=3&transport=polling&sid={sid}"))
}

/// A v3 polling handshake (`extra` appended to the query): the sid.
async fn v3_handshake(server: &TestServer, extra: &str) -> roomcast_core::ClientId {
    let res = get(
        server.addr,
        &eio(&format!("EIO=3&transport=polling{extra}")),
    )
    .await;
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(
        res.header("content-type"),
        Some("text/plain; charset=UTF-8")
    );
    let text = res.text();
    let (len, packet) = text.split_once(':').expect("a v3 payload");
    assert_eq!(len.parse::<usize>().unwrap(), packet.len());
    let open = parse_open(packet);
    assert_open(&open, &server.engine.config().clone(), &["websocket"]);
    let id = sid(open["sid"].as_str().unwrap());
    assert_eq!(server.expect_open().await, id);
    assert_eq!(server.socket(id).protocol(), Protocol::V3);
    id
}

async fn v3_post(server: &TestServer, id: roomcast_core::ClientId, body: &[u8], binary: bool) {
    let headers: &[(&str, &str)] = if binary {
        &[("Content-Type", "application/octet-stream")]
    } else {
        &[("Content-Type", "text/plain;charset=UTF-8")]
    };
    let res = http(server.addr, "POST", &v3_polling(id), headers, body).await;
    assert_eq!((res.status, res.text().as_str()), (200, "ok"), "{res:?}");
}

#[tokio::test]
async fn polling_text_form_with_base64_and_the_client_driven_ping() {
    let server = TestServer::start(v3_config()).await;
    let id = v3_handshake(&server, "&b64=1").await;
    // A ping is answered with a pong; a text message is echoed in the
    // same answer.
    v3_post(&server, id, "1:23:4hé".as_bytes(), false).await;
    assert_eq!(server.expect_message(id).await, Frame::text("hé"));
    let res = get(server.addr, &v3_polling(id)).await;
    assert_eq!(res.text(), "1:33:4hé");
    // Binary from the client in base64 (`b4`), echoed the same way.
    v3_post(&server, id, b"6:b4AQI=", false).await;
    assert_eq!(server.expect_message(id).await, Frame::binary(vec![1, 2]));
    let res = get(server.addr, &v3_polling(id)).await;
    assert_eq!(
        res.header("content-type"),
        Some("text/plain; charset=UTF-8")
    );
    assert_eq!(res.text(), "6:b4AQI=");
}

#[tokio::test]
async fn polling_binary_form_without_b64() {
    let server = TestServer::start(v3_config()).await;
    let id = v3_handshake(&server, "").await;
    // Text `4hi` and binary [4, 7, 8] in the binary form.
    let body = [0u8, 3, 255, b'4', b'h', b'i', 1, 3, 255, 4, 7, 8];
    v3_post(&server, id, &body, true).await;
    assert_eq!(server.expect_message(id).await, Frame::text("hi"));
    assert_eq!(server.expect_message(id).await, Frame::binary(vec![7, 8]));
    let res = get(server.addr, &v3_polling(id)).await;
    assert_eq!(res.header("content-type"), Some("application/octet-stream"));
    assert_eq!(res.body, body.to_vec());
    // Text only: the text form.
    v3_post(&server, id, b"2:4x", false).await;
    assert_eq!(get(server.addr, &v3_polling(id)).await.text(), "2:4x");
}

#[tokio::test]
async fn a_session_keeps_its_revision_and_bad_v3_input_closes_it() {
    let server = TestServer::start(v3_config()).await;
    let id = v3_handshake(&server, "").await;
    get(server.addr, &polling(id))
        .await
        .assert_error(400, 3, "Bad request");
    // A length that does not match the body: parse error, this session only.
    let res = http(server.addr, "POST", &v3_polling(id), &[], b"9:4x").await;
    assert_eq!(res.status, 400);
    assert_eq!(server.expect_close(id).await, CloseReason::ParseError);
    // A v4 session still refuses a v3 binary body and says EIO=4.
    let (v4, _) = polling_handshake(server.addr).await;
    server.expect_open().await;
    get(server.addr, &v3_polling(v4))
        .await
        .assert_error(400, 3, "Bad request");
}

#[tokio::test]
async fn without_pings_a_v3_session_times_out_after_interval_plus_timeout() {
    let config = EngineConfig {
        ping_interval: Duration::from_millis(150),
        ping_timeout: Duration::from_millis(150),
        ..v3_config()
    };
    let server = TestServer::start(config).await;
    let id = v3_handshake(&server, "&b64=1").await;
    // Pinging every 100 ms keeps it open well past one window (300 ms).
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        v3_post(&server, id, b"1:2", false).await;
    }
    assert!(!server.socket(id).is_closed());
    // Only pongs: the server never pings a v3 client.
    assert_eq!(
        get(server.addr, &v3_polling(id)).await.text(),
        "1:3".repeat(5)
    );
    let stopped = std::time::Instant::now();
    assert_eq!(server.expect_close(id).await, CloseReason::PingTimeout);
    let waited = stopped.elapsed();
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
}

#[tokio::test]
async fn websocket_binary_messages_carry_their_type_byte() {
    let server = TestServer::start(v3_config()).await;
    let mut ws = ws_connect(server.addr, &eio("EIO=3&transport=websocket")).await;
    let open = parse_open(&ws_recv_text(&mut ws).await);
    let id = sid(open["sid"].as_str().unwrap());
    assert_eq!(server.expect_open().await, id);
    ws_send_binary(&mut ws, &[4, 9, 8]).await;
    assert_eq!(server.expect_message(id).await, Frame::binary(vec![9, 8]));
    assert_eq!(ws_recv(&mut ws).await, Some(Frame::binary(vec![4, 9, 8])));
    ws_send_text(&mut ws, "2").await;
    assert_eq!(ws_recv_text(&mut ws).await, "3");
    // A binary packet of another type is refused.
    ws_send_binary(&mut ws, &[2, 1]).await;
    assert_eq!(server.expect_close(id).await, CloseReason::ParseError);
}

#[tokio::test]
async fn a_pong_from_a_v3_client_closes_its_session() {
    let server = TestServer::start(v3_config()).await;
    let mut ws = upgrade_v3(&server).await;
    ws_send_text(&mut ws, "3").await;
    let id = match server.log().first() {
        Some(Event::Open(id)) => *id,
        other => panic!("{other:?}"),
    };
    assert_eq!(server.expect_close(id).await, CloseReason::TransportError);
}

/// A v3 polling session upgraded to WebSocket.
async fn upgrade_v3(server: &TestServer) -> Ws {
    let id = v3_handshake(server, "").await;
    let mut ws = ws_connect(
        server.addr,
        &eio(&format!("EIO=3&transport=websocket&sid={id}")),
    )
    .await;
    ws_send_text(&mut ws, "2probe").await;
    assert_eq!(ws_recv_text(&mut ws).await, "3probe");
    ws_send_text(&mut ws, "5").await;
    eventually("upgraded", || {
        server.socket(id).transport() == roomcast_engineio::TransportKind::WebSocket
    })
    .await;
    ws
}

#[tokio::test]
async fn v3_is_refused_unless_allowed() {
    let server = TestServer::start_default().await;
    for transport in ["polling", "websocket"] {
        get(server.addr, &eio(&format!("EIO=3&transport={transport}")))
            .await
            .assert_error(400, 5, "Unsupported protocol version");
    }
    assert_eq!(server.engine.session_count(), 0);
}
