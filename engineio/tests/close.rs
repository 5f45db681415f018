//! Closing a session, by every path: the client's close packet `1` over
//! polling and over WebSocket, a WebSocket close frame, an abrupt TCP drop
//! of a WebSocket, the server's `Socket::close` and `Engine::close_all`.
//! Each path calls `Handler::on_close` exactly once with the right reason,
//! removes the session (`session_count()` back to 0), and lets the client
//! see the end (a close packet after what was queued before it).

mod common;

use common::*;
use roomcast_core::{CloseReason, Frame};

#[cfg(feature = "polling")]
#[tokio::test]
async fn client_close_packet_over_polling() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    server.expect_open().await;
    let pending = held_get(server.addr, id).await;
    // Packets after the close packet are not delivered.
    let res = post(server.addr, &polling(id), b"4before\x1e1\x1e4after").await;
    assert_eq!((res.status, res.text().as_str()), (200, "ok"));
    server
        .assert_closed_once(id, CloseReason::TransportClose, 0)
        .await;
    assert_eq!(server.messages(id), vec![Frame::text("before")]);
    // The held GET is answered (with the echo of "before").
    let res = answer(pending).await;
    assert_eq!(res.status, 200);
    assert_eq!(decode_payload(&res.body)[0], Frame::text("4before"));
    get(server.addr, &polling(id))
        .await
        .assert_error(400, 1, "Session ID unknown");
}

#[cfg(feature = "polling")]
#[tokio::test]
async fn server_close_over_polling() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    server.expect_open().await;
    let socket = server.socket(id);
    let pending = held_get(server.addr, id).await;
    socket.send(msg("bye")).unwrap();
    socket.close(CloseReason::Forced);
    assert!(socket.is_closed());
    within("Socket::closed", socket.closed()).await;
    assert_eq!(
        socket.send(msg("late")),
        Err(roomcast_core::PushError::Closed)
    );
    // As from the reference server, the close packet comes alone in the
    // next answer (a client handles a close before the rest of a payload).
    assert_eq!(
        decode_payload(&answer(pending).await.body),
        vec![Frame::text("4bye")]
    );
    assert_eq!(poll(server.addr, id).await, vec![Frame::text("1")]);
    server.assert_closed_once(id, CloseReason::Forced, 0).await;
    // Closing again changes nothing.
    socket.close(CloseReason::ServerShutdown);
    assert_eq!(server.close_count(id), 1);
}

#[cfg(feature = "polling")]
#[tokio::test]
async fn server_close_is_delivered_to_the_next_get() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    let socket = server.socket(id);
    socket.send(msg("last words")).unwrap();
    socket.close(CloseReason::Forced);
    server.assert_closed_once(id, CloseReason::Forced, 0).await;
    // No GET was held: the next ones still get what was queued, then the
    // close packet alone (as from the reference server), then the sid is gone.
    assert_eq!(
        poll(server.addr, id).await,
        vec![Frame::text("4last words")]
    );
    assert_eq!(poll(server.addr, id).await, vec![Frame::text("1")]);
    get(server.addr, &polling(id))
        .await
        .assert_error(400, 1, "Session ID unknown");
    assert_eq!(server.close_count(id), 1);
}

#[cfg(feature = "polling")]
#[tokio::test]
async fn an_unfetched_close_is_dropped_after_ping_timeout() {
    let server = TestServer::start(roomcast_engineio::EngineConfig {
        ping_timeout: std::time::Duration::from_millis(200),
        ..roomcast_engineio::EngineConfig::default()
    })
    .await;
    let (id, _) = polling_handshake(server.addr).await;
    server.socket(id).close(CloseReason::Forced);
    server.assert_closed_once(id, CloseReason::Forced, 0).await;
    // Nobody came for the close packet within ping_timeout: the sid is
    // gone for good.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    get(server.addr, &polling(id))
        .await
        .assert_error(400, 1, "Session ID unknown");
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn client_close_packet_over_websocket() {
    let server = TestServer::start_default().await;
    let (mut ws, id, _) = ws_handshake(server.addr).await;
    server.expect_open().await;
    ws_send_text(&mut ws, "4before").await;
    ws_send_text(&mut ws, "1").await;
    server
        .assert_closed_once(id, CloseReason::TransportClose, 0)
        .await;
    assert_eq!(server.messages(id), vec![Frame::text("before")]);
    // The server ends the connection (the echo may come first).
    let rest = ws_until_end(&mut ws).await;
    assert!(
        rest.iter().all(|f| *f == Frame::text("4before")),
        "{rest:?}"
    );
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn client_close_frame_over_websocket() {
    let server = TestServer::start_default().await;
    let (mut ws, id, _) = ws_handshake(server.addr).await;
    server.expect_open().await;
    within("close frame", ws.close(None)).await.unwrap();
    server
        .assert_closed_once(id, CloseReason::TransportClose, 0)
        .await;
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn abrupt_tcp_drop_of_a_websocket() {
    let server = TestServer::start_default().await;
    let (ws, id, _) = ws_handshake(server.addr).await;
    server.expect_open().await;
    // No close frame, no close packet: the TCP connection just ends.
    drop(ws);
    server
        .assert_closed_once(id, CloseReason::TransportClose, 0)
        .await;
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn tcp_reset_of_a_websocket() {
    let server = TestServer::start_default().await;
    let (ws, id, _) = ws_handshake(server.addr).await;
    server.expect_open().await;
    // SO_LINGER 0: closing sends a RST instead of a FIN (and does not
    // block, which is what the deprecation warns about).
    #[allow(deprecated)]
    ws.get_ref()
        .set_linger(Some(std::time::Duration::ZERO))
        .unwrap();
    drop(ws);
    let reason = server.expect_close(id).await;
    assert!(
        matches!(
            reason,
            CloseReason::TransportClose | CloseReason::TransportError
        ),
        "{reason:?}"
    );
    eventually("session removed", || server.engine.session_count() == 0).await;
    assert_eq!(server.close_count(id), 1);
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn server_close_over_websocket() {
    let server = TestServer::start_default().await;
    let (mut ws, id, _) = ws_handshake(server.addr).await;
    server.expect_open().await;
    let socket = server.socket(id);
    socket.send(msg("bye")).unwrap();
    socket.close(CloseReason::Forced);
    assert_eq!(
        ws_until_end(&mut ws).await,
        vec![Frame::text("4bye"), Frame::text("1")]
    );
    server.assert_closed_once(id, CloseReason::Forced, 0).await;
}

#[tokio::test]
async fn close_all_closes_every_session_once() {
    let server = TestServer::start_default().await;
    let mut ids = Vec::new();
    #[cfg(feature = "polling")]
    for _ in 0..3 {
        ids.push(polling_handshake(server.addr).await.0);
    }
    #[cfg(feature = "ws")]
    let mut sockets = Vec::new();
    #[cfg(feature = "ws")]
    for _ in 0..3 {
        let (ws, id, _) = ws_handshake(server.addr).await;
        sockets.push(ws);
        ids.push(id);
    }
    eventually("all open", || server.engine.session_count() == ids.len()).await;
    server.engine.close_all(CloseReason::ServerShutdown);
    eventually("all closed", || server.engine.session_count() == 0).await;
    for id in &ids {
        assert!(server
            .log()
            .contains(&Event::Close(*id, CloseReason::ServerShutdown)));
    }
    #[cfg(feature = "ws")]
    for mut ws in sockets {
        assert_eq!(ws_until_end(&mut ws).await, vec![Frame::text("1")]);
    }
    for id in &ids {
        assert_eq!(server.close_count(*id), 1);
    }
}
