//! Behaviours the Engine.IO v4 specification (socketio/engine.io-protocol)
//! and its test suite define, where roomcast once answered differently
//! from the reference server (engine.io 6.x):
//! - a client's close packet POSTed while a GET is held: the GET gets a
//!   noop `6`, the next GET 400;
//! - a second WebSocket for a session: the handshake completes, then that
//!   connection is closed; the session and its first WebSocket go on;
//! - a request of a session without `EIO=4`: 400 (code 3), session kept;
//! - a POST with `Content-Type: application/octet-stream` (a v3 binary
//!   payload): 400, and the session closes.

mod common;

#[allow(unused_imports)]
use common::*;
#[allow(unused_imports)]
use roomcast_core::{CloseReason, Frame};

#[cfg(feature = "polling")]
#[tokio::test]
async fn client_close_while_a_get_is_held_answers_it_with_a_noop() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    server.expect_open().await;
    let pending = held_get(server.addr, id).await;
    let res = post(server.addr, &polling(id), b"1").await;
    assert_eq!((res.status, res.text().as_str()), (200, "ok"));
    let res = answer(pending).await;
    assert_eq!((res.status, res.text().as_str()), (200, "6"));
    server
        .assert_polling_session_gone(id, CloseReason::TransportClose)
        .await;
}

#[cfg(feature = "polling")]
#[tokio::test]
async fn a_server_close_still_answers_the_held_get_with_a_close_packet() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    server.expect_open().await;
    let pending = held_get(server.addr, id).await;
    server.socket(id).close(CloseReason::Forced);
    let res = answer(pending).await;
    assert_eq!((res.status, res.text().as_str()), (200, "1"));
    get(server.addr, &polling(id))
        .await
        .assert_error(400, 1, "Session ID unknown");
}

#[cfg(all(feature = "ws", feature = "polling"))]
#[tokio::test]
async fn a_second_websocket_after_the_upgrade_is_accepted_then_closed() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    server.expect_open().await;
    let mut first = upgrade(server.addr, id).await;
    eventually("upgraded", || {
        server.socket(id).transport() == roomcast_engineio::TransportKind::WebSocket
    })
    .await;

    // The handshake succeeds (no HTTP error), then the server closes it.
    let mut second = ws_connect(server.addr, &websocket(id)).await;
    assert_eq!(ws_until_end(&mut second).await, Vec::<Frame>::new());

    // The first WebSocket and the session are untouched.
    ws_send_text(&mut first, "4still here").await;
    assert_eq!(ws_recv_text(&mut first).await, "4still here");
    assert_eq!(server.close_count(id), 0);
    assert_eq!(server.engine.session_count(), 1);
}

#[cfg(all(feature = "ws", feature = "polling"))]
#[tokio::test]
async fn a_second_websocket_while_the_first_probes_is_accepted_then_closed() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    server.expect_open().await;
    let mut first = ws_connect(server.addr, &websocket(id)).await;
    ws_send_text(&mut first, "2probe").await;
    assert_eq!(ws_recv_text(&mut first).await, "3probe");

    let mut second = ws_connect(server.addr, &websocket(id)).await;
    assert_eq!(ws_until_end(&mut second).await, Vec::<Frame>::new());

    // The first one completes the upgrade.
    ws_send_text(&mut first, "5").await;
    ws_send_text(&mut first, "4over ws").await;
    assert_eq!(ws_recv_text(&mut first).await, "4over ws");
    assert_eq!(server.close_count(id), 0);
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn a_second_websocket_for_a_websocket_session_is_accepted_then_closed() {
    let server = TestServer::start_default().await;
    let (mut first, id, _) = ws_handshake(server.addr).await;
    let mut second = ws_connect(server.addr, &websocket(id)).await;
    assert_eq!(ws_until_end(&mut second).await, Vec::<Frame>::new());
    ws_send_text(&mut first, "4ok").await;
    assert_eq!(ws_recv_text(&mut first).await, "4ok");
    assert_eq!(server.close_count(id), 0);
}

#[cfg(feature = "polling")]
#[tokio::test]
async fn a_session_request_without_eio_4_is_a_bad_request() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    server.expect_open().await;
    for query in [
        format!("transport=polling&sid={id}"),
        format!("EIO=3&transport=polling&sid={id}"),
    ] {
        get(server.addr, &eio(&query))
            .await
            .assert_error(400, 3, "Bad request");
        post(server.addr, &eio(&query), b"4x")
            .await
            .assert_error(400, 3, "Bad request");
    }
    // An unknown sid is still reported as such, whatever the EIO.
    get(
        server.addr,
        &eio("transport=polling&sid=AAAAAAAAAAAAAAAAAAAAAA"),
    )
    .await
    .assert_error(400, 1, "Session ID unknown");
    // The session is untouched.
    assert!(server.messages(id).is_empty());
    server.socket(id).send(msg("still open")).unwrap();
    assert_eq!(
        poll(server.addr, id).await,
        vec![Frame::text("4still open")]
    );
}

#[cfg(feature = "polling")]
#[tokio::test]
async fn a_binary_polling_body_is_refused_and_closes_the_session() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    server.expect_open().await;
    let res = http(
        server.addr,
        "POST",
        &polling(id),
        &[("Content-Type", "application/octet-stream")],
        b"4hello",
    )
    .await;
    assert_eq!(res.status, 400);
    server
        .assert_closed_once(id, CloseReason::TransportError, 0)
        .await;
    assert!(server.messages(id).is_empty());
    get(server.addr, &polling(id))
        .await
        .assert_error(400, 1, "Session ID unknown");
}
