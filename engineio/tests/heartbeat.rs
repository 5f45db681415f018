//! Heartbeat, with a small ping interval and timeout: the server pings
//! (`2`) every `ping_interval`; a client that answers (`3`) keeps its
//! session through many intervals, on polling and on WebSocket; one that
//! does not is closed with `CloseReason::PingTimeout` and the engine's
//! session count returns to 0.

mod common;

use std::time::Duration;

use common::*;
use roomcast_core::{CloseReason, Frame};
use roomcast_engineio::EngineConfig;

const PINGS: usize = 5;

fn fast() -> EngineConfig {
    EngineConfig {
        ping_interval: Duration::from_millis(100),
        ping_timeout: Duration::from_millis(500),
        ..EngineConfig::default()
    }
}

#[cfg(feature = "polling")]
#[tokio::test]
async fn polling_client_that_answers_pings_stays() {
    let server = TestServer::start(fast()).await;
    let (id, open) = polling_handshake(server.addr).await;
    assert_eq!(open["pingInterval"], 100);
    assert_eq!(open["pingTimeout"], 500);
    let mut pings = 0;
    within("pings over polling", async {
        while pings < PINGS {
            for frame in poll(server.addr, id).await {
                assert_eq!(frame, Frame::text("2"), "only pings are sent");
                pings += 1;
                send(server.addr, id, &[Frame::text("3")]).await;
            }
        }
    })
    .await;
    // Several intervals (and more than one timeout) later, still open.
    assert!(server.engine.socket(id).is_some());
    assert_eq!(server.close_count(id), 0);
    send(server.addr, id, &[Frame::text("1")]).await;
    server
        .assert_closed_once(id, CloseReason::TransportClose, 0)
        .await;
}

#[cfg(feature = "polling")]
#[tokio::test]
async fn polling_client_that_never_polls_times_out() {
    let server = TestServer::start(fast()).await;
    let (id, _) = polling_handshake(server.addr).await;
    assert_eq!(server.engine.session_count(), 1);
    server
        .assert_polling_session_gone(id, CloseReason::PingTimeout)
        .await;
}

#[cfg(feature = "polling")]
#[tokio::test]
async fn polling_client_that_reads_the_ping_but_does_not_answer_times_out() {
    let server = TestServer::start(fast()).await;
    let (id, _) = polling_handshake(server.addr).await;
    assert_eq!(poll(server.addr, id).await, vec![Frame::text("2")]);
    // The next GET is held until the timeout, then answered with a close.
    let res = get(server.addr, &polling(id)).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "1");
    server
        .assert_closed_once(id, CloseReason::PingTimeout, 0)
        .await;
}

#[cfg(feature = "polling")]
#[tokio::test]
async fn only_the_silent_session_times_out() {
    let server = TestServer::start(fast()).await;
    let (alive, _) = polling_handshake(server.addr).await;
    let (silent, _) = polling_handshake(server.addr).await;
    assert_eq!(server.engine.session_count(), 2);
    let addr = server.addr;
    let keeper = tokio::spawn(async move {
        loop {
            let res = get(addr, &polling(alive)).await;
            if res.status != 200 || decode_payload(&res.body).contains(&Frame::text("1")) {
                return;
            }
            post(addr, &polling(alive), b"3").await;
        }
    });
    server
        .assert_closed_once(silent, CloseReason::PingTimeout, 1)
        .await;
    assert!(server.engine.socket(alive).is_some());
    server.socket(alive).close(CloseReason::Forced);
    within("keeper ends", keeper).await.unwrap();
    server
        .assert_closed_once(alive, CloseReason::Forced, 0)
        .await;
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn websocket_client_that_answers_pings_stays() {
    let server = TestServer::start(fast()).await;
    let (mut ws, id, _) = ws_handshake(server.addr).await;
    for _ in 0..PINGS {
        assert_eq!(ws_recv_text(&mut ws).await, "2");
        ws_send_text(&mut ws, "3").await;
    }
    assert!(server.engine.socket(id).is_some());
    assert_eq!(server.close_count(id), 0);
    ws_send_text(&mut ws, "1").await;
    server
        .assert_closed_once(id, CloseReason::TransportClose, 0)
        .await;
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn websocket_client_that_does_not_answer_times_out() {
    let server = TestServer::start(fast()).await;
    let (mut ws, id, _) = ws_handshake(server.addr).await;
    // The ping arrives; no pong is sent; the server ends the connection
    // without a close packet.
    assert_eq!(ws_until_end(&mut ws).await, vec![Frame::text("2")]);
    server
        .assert_closed_once(id, CloseReason::PingTimeout, 0)
        .await;
}
