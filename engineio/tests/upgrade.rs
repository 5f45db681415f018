//! The upgrade from long-polling to WebSocket, with hand-made requests and
//! frames: `2probe` → `3probe`, a held GET answered with a noop `6`, `5`
//! moves the session; messages queued by the server and posted by the
//! client while the upgrade happens arrive exactly once and in order;
//! polling requests to an upgraded session get 400 (code 3); a second
//! WebSocket for the same sid is accepted, then closed; an upgrade that never sends `5`
//! times out after `upgrade_timeout` and polling goes on.

#![cfg(all(feature = "ws", feature = "polling"))]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use parking_lot::Mutex;
use roomcast_core::{CloseReason, Frame};
use roomcast_engineio::{EngineConfig, TransportKind};

#[tokio::test]
async fn probe_noop_upgrade_then_websocket() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    server.expect_open().await;
    let pending = held_get(server.addr, id).await;

    let mut ws = ws_connect(server.addr, &websocket(id)).await;
    ws_send_text(&mut ws, "2probe").await;
    assert_eq!(ws_recv_text(&mut ws).await, "3probe");
    // The held GET is released with a noop so the client can pause.
    let res = answer(pending).await;
    assert_eq!((res.status, res.text().as_str()), (200, "6"));
    assert_eq!(server.socket(id).transport(), TransportKind::Polling);

    ws_send_text(&mut ws, "5").await;
    eventually("transport is websocket", || {
        server.socket(id).transport() == TransportKind::WebSocket
    })
    .await;
    // The session keeps its sid and handler; messages flow over the socket.
    ws_send_text(&mut ws, "4over ws").await;
    assert_eq!(server.expect_message(id).await, Frame::text("over ws"));
    assert_eq!(ws_recv_text(&mut ws).await, "4over ws");
    server.socket(id).send(msg("from server")).unwrap();
    assert_eq!(ws_recv_text(&mut ws).await, "4from server");
    ws_send_binary(&mut ws, &[9, 8, 7]).await;
    assert_eq!(ws_recv(&mut ws).await, Some(Frame::binary(vec![9, 8, 7])));
    assert_eq!(server.engine.session_count(), 1);
    assert_eq!(server.close_count(id), 0);

    // Polling is over for this session.
    get(server.addr, &polling(id))
        .await
        .assert_error(400, 3, "Bad request");
    post(server.addr, &polling(id), b"4late")
        .await
        .assert_error(400, 3, "Bad request");
    assert_eq!(server.engine.session_count(), 1);

    ws_send_text(&mut ws, "1").await;
    server
        .assert_closed_once(id, CloseReason::TransportClose, 0)
        .await;
}

#[tokio::test]
async fn a_second_websocket_for_the_same_sid_is_accepted_then_closed() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    let mut ws = ws_connect(server.addr, &websocket(id)).await;
    ws_send_text(&mut ws, "2probe").await;
    assert_eq!(ws_recv_text(&mut ws).await, "3probe");
    // While the first one is probing.
    let mut second = ws_connect(server.addr, &websocket(id)).await;
    assert_eq!(ws_until_end(&mut second).await, Vec::<Frame>::new());
    ws_send_text(&mut ws, "5").await;
    eventually("upgraded", || {
        server.socket(id).transport() == TransportKind::WebSocket
    })
    .await;
    // After the upgrade.
    let mut third = ws_connect(server.addr, &websocket(id)).await;
    assert_eq!(ws_until_end(&mut third).await, Vec::<Frame>::new());
    // The first socket is unaffected.
    ws_send_text(&mut ws, "4still here").await;
    assert_eq!(ws_recv_text(&mut ws).await, "4still here");
    assert_eq!(server.close_count(id), 0);
}

#[tokio::test]
async fn polling_request_to_a_websocket_session_is_a_bad_request() {
    let server = TestServer::start_default().await;
    let (mut ws, id, _) = ws_handshake(server.addr).await;
    get(server.addr, &polling(id))
        .await
        .assert_error(400, 3, "Bad request");
    post(server.addr, &polling(id), b"4x")
        .await
        .assert_error(400, 3, "Bad request");
    // A WebSocket session cannot "upgrade" again either: the second
    // WebSocket is closed right after its handshake.
    let mut second = ws_connect(server.addr, &websocket(id)).await;
    assert_eq!(ws_until_end(&mut second).await, Vec::<Frame>::new());
    ws_send_text(&mut ws, "4ok").await;
    assert_eq!(ws_recv_text(&mut ws).await, "4ok");
}

#[tokio::test]
async fn upgrade_is_refused_when_upgrades_are_off() {
    let server = TestServer::start(EngineConfig {
        allow_upgrades: false,
        ..EngineConfig::default()
    })
    .await;
    let (id, open) = polling_handshake(server.addr).await;
    assert_eq!(open["upgrades"], serde_json::json!([]));
    let (status, body) = ws_refused(server.addr, &websocket(id)).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        serde_json::json!({"code": 3, "message": "Bad request"})
    );
    server.socket(id).send(msg("still polling")).unwrap();
    assert_eq!(
        poll(server.addr, id).await,
        vec![Frame::text("4still polling")]
    );
}

#[tokio::test]
async fn an_upgrade_that_never_completes_times_out_and_polling_goes_on() {
    let server = TestServer::start(EngineConfig {
        upgrade_timeout: Duration::from_millis(300),
        ..EngineConfig::default()
    })
    .await;
    let (id, _) = polling_handshake(server.addr).await;
    server.expect_open().await;

    // Probed but never sent `5`.
    let mut ws = ws_connect(server.addr, &websocket(id)).await;
    ws_send_text(&mut ws, "2probe").await;
    assert_eq!(ws_recv_text(&mut ws).await, "3probe");
    assert_eq!(ws_until_end(&mut ws).await, vec![]);
    // Connected but never probed.
    let mut ws = ws_connect(server.addr, &websocket(id)).await;
    assert_eq!(ws_until_end(&mut ws).await, vec![]);

    assert_eq!(server.socket(id).transport(), TransportKind::Polling);
    assert_eq!(server.close_count(id), 0);
    // Polling works: a held GET, a POST, the echo.
    let pending = held_get(server.addr, id).await;
    server.socket(id).send(msg("after")).unwrap();
    assert_eq!(answer(pending).await.text(), "4after");
    send(server.addr, id, &[Frame::text("4posted")]).await;
    assert_eq!(server.expect_message(id).await, Frame::text("posted"));
    assert_eq!(poll(server.addr, id).await, vec![Frame::text("4posted")]);

    // And a later upgrade may still succeed.
    let mut ws = upgrade(server.addr, id).await;
    eventually("upgraded", || {
        server.socket(id).transport() == TransportKind::WebSocket
    })
    .await;
    ws_send_text(&mut ws, "4ws").await;
    assert_eq!(ws_recv_text(&mut ws).await, "4ws");
}

/// Server messages sent continuously from a task, client messages posted
/// continuously, while the client upgrades: each arrives exactly once, in
/// order, across the switch of transport.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_in_flight_during_the_upgrade_arrive_once_and_in_order() {
    const SERVER_MESSAGES: usize = 300;
    const CLIENT_MESSAGES_OVER_WS: usize = 50;
    let server = TestServer::start_default().await;
    let addr = server.addr;
    let (id, _) = polling_handshake(addr).await;
    let socket = server.socket(id);

    let sender = tokio::spawn(async move {
        for i in 0..SERVER_MESSAGES {
            socket.send(msg(&format!("s{i}"))).unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });

    let paused = Arc::new(AtomicBool::new(false));
    let received = Arc::new(Mutex::new(Vec::<Frame>::new()));
    let poller = {
        let (paused, received) = (paused.clone(), received.clone());
        tokio::spawn(async move {
            while !paused.load(Ordering::SeqCst) {
                let frames = poll(addr, id).await;
                received.lock().extend(frames);
            }
        })
    };
    let poster = {
        let paused = paused.clone();
        tokio::spawn(async move {
            let mut posted = 0;
            while !paused.load(Ordering::SeqCst) {
                send(addr, id, &[Frame::text(format!("4c{posted}"))]).await;
                posted += 1;
            }
            posted
        })
    };

    // Let some traffic flow over polling first.
    eventually("polling traffic", || received.lock().len() >= 20).await;
    let mut ws = ws_connect(addr, &websocket(id)).await;
    ws_send_text(&mut ws, "2probe").await;
    assert_eq!(ws_recv_text(&mut ws).await, "3probe");
    // Pause polling as engine.io-client does: let the GET and POST in
    // flight finish, start no new one, then send `5`.
    paused.store(true, Ordering::SeqCst);
    within("poller pauses", poller).await.unwrap();
    let posted = within("poster pauses", poster).await.unwrap();
    ws_send_text(&mut ws, "5").await;
    let total = posted + CLIENT_MESSAGES_OVER_WS;
    for i in posted..total {
        ws_send_text(&mut ws, &format!("4c{i}")).await;
    }

    let is = |f: &Frame, p: &str| matches!(f, Frame::Text(t) if t.as_str().starts_with(p));
    within("every message over the websocket", async {
        loop {
            let (s, c) = {
                let r = received.lock();
                (
                    r.iter().filter(|f| is(f, "4s")).count(),
                    r.iter().filter(|f| is(f, "4c")).count(),
                )
            };
            if s >= SERVER_MESSAGES && c >= total {
                break;
            }
            let frame = ws_recv(&mut ws).await.expect("websocket open");
            received.lock().push(frame);
        }
    })
    .await;
    within("sender done", sender).await.unwrap();

    let received = received.lock().clone();
    let texts = |p: &str| -> Vec<String> {
        received
            .iter()
            .filter(|f| is(f, p))
            .map(|f| match f {
                Frame::Text(t) => t.as_str()[1..].to_string(),
                Frame::Binary(_) => unreachable!(),
            })
            .collect()
    };
    let expected_s: Vec<String> = (0..SERVER_MESSAGES).map(|i| format!("s{i}")).collect();
    let expected_c: Vec<String> = (0..total).map(|i| format!("c{i}")).collect();
    assert_eq!(
        texts("4s"),
        expected_s,
        "server messages, once and in order"
    );
    assert_eq!(texts("4c"), expected_c, "echoes, once and in order");
    let others: Vec<&Frame> = received
        .iter()
        .filter(|f| !is(f, "4s") && !is(f, "4c"))
        .collect();
    assert!(
        others.iter().all(|f| **f == Frame::text("6")),
        "only noops besides messages: {others:?}"
    );
    let delivered: Vec<Frame> = expected_c.iter().map(|c| Frame::text(c.as_str())).collect();
    assert_eq!(
        server.messages(id),
        delivered,
        "client messages, once and in order"
    );
    assert!(posted > 0, "some messages were posted over polling");
    assert_eq!(server.socket(id).transport(), TransportKind::WebSocket);
}
