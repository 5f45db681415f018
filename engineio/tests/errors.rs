//! Error responses, as the reference (Node engine.io 6.x) server sends
//! them: HTTP 400 with `{"code":N,"message":"…"}` for code 0 (transport
//! unknown), 1 (session id unknown), 2 (bad handshake method), 3 (bad
//! request) and 5 (unsupported protocol version, including a missing `EIO`);
//! HTTP 403 with code 4 and the hook's message when `allow_request` rejects;
//! HTTP 413 for a polling POST over `max_payload`. A rejected handshake
//! opens no session.

mod common;

use common::*;
use roomcast_core::ClientId;
use roomcast_engineio::{EngineConfig, ErrorCode};

#[test]
fn error_messages_are_the_reference_servers() {
    let all = [
        (ErrorCode::UnknownTransport, 0, "Transport unknown"),
        (ErrorCode::UnknownSid, 1, "Session ID unknown"),
        (ErrorCode::BadHandshakeMethod, 2, "Bad handshake method"),
        (ErrorCode::BadRequest, 3, "Bad request"),
        (ErrorCode::Forbidden, 4, "Forbidden"),
        (
            ErrorCode::UnsupportedProtocolVersion,
            5,
            "Unsupported protocol version",
        ),
    ];
    for (code, n, message) in all {
        assert_eq!(code as u8, n);
        assert_eq!(code.message(), message);
    }
}

#[tokio::test]
async fn code_0_transport_unknown() {
    let server = TestServer::start_default().await;
    for target in [
        eio("EIO=4&transport=carrier-pigeon"),
        eio("EIO=4"),
        eio("EIO=4&transport=Polling"),
        eio(&format!(
            "EIO=4&transport=carrier-pigeon&sid={}",
            ClientId::random()
        )),
    ] {
        get(server.addr, &target)
            .await
            .assert_error(400, 0, "Transport unknown");
    }
    assert_eq!(server.engine.session_count(), 0);
}

#[cfg(all(feature = "polling", feature = "ws"))]
#[tokio::test]
async fn code_0_for_a_transport_that_is_not_offered() {
    let server = TestServer::start(EngineConfig {
        transports: vec![roomcast_engineio::TransportKind::WebSocket],
        ..EngineConfig::default()
    })
    .await;
    get(server.addr, &eio("EIO=4&transport=polling"))
        .await
        .assert_error(400, 0, "Transport unknown");
}

#[tokio::test]
async fn code_1_unknown_sid() {
    let server = TestServer::start_default().await;
    let unknown = ClientId::random().to_string();
    // (An empty `sid=` is left out: Node treats it as absent.)
    for sid in [unknown.as_str(), "not-a-sid"] {
        let target = eio(&format!("EIO=4&transport={ANY_TRANSPORT}&sid={sid}"));
        get(server.addr, &target)
            .await
            .assert_error(400, 1, "Session ID unknown");
        post(server.addr, &target, b"4hi")
            .await
            .assert_error(400, 1, "Session ID unknown");
    }
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn code_1_unknown_sid_on_websocket() {
    let server = TestServer::start_default().await;
    let (status, body) = ws_refused(server.addr, &websocket(ClientId::random())).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        serde_json::json!({"code": 1, "message": "Session ID unknown"})
    );
}

#[tokio::test]
async fn code_2_post_handshake() {
    let server = TestServer::start_default().await;
    let target = eio(&format!("EIO=4&transport={ANY_TRANSPORT}"));
    post(server.addr, &target, b"4hi")
        .await
        .assert_error(400, 2, "Bad handshake method");
    http(server.addr, "PUT", &target, &[], b"x")
        .await
        .assert_error(400, 2, "Bad handshake method");
    assert_eq!(server.engine.session_count(), 0);
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn code_3_websocket_handshake_without_upgrade_headers() {
    let server = TestServer::start_default().await;
    let target = eio("EIO=4&transport=websocket");
    get(server.addr, &target)
        .await
        .assert_error(400, 3, "Bad request");
    // Upgrade headers without a key are not a WebSocket handshake either.
    http(
        server.addr,
        "GET",
        &target,
        &[("Connection", "Upgrade"), ("Upgrade", "websocket")],
        b"",
    )
    .await
    .assert_error(400, 3, "Bad request");
    assert_eq!(server.engine.session_count(), 0);
}

#[cfg(feature = "polling")]
#[tokio::test]
async fn code_3_unsupported_method_on_a_polling_session() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    http(server.addr, "PUT", &polling(id), &[], b"4x")
        .await
        .assert_error(400, 3, "Bad request");
}

#[tokio::test]
async fn code_4_allow_request_rejects_with_its_message() {
    let config = EngineConfig {
        allow_request: Some(roomcast_engineio::allow_request(|req| {
            match req.query("token").as_deref() {
                Some("good") => Ok(()),
                _ => Err("no entry without a token".to_string()),
            }
        })),
        ..EngineConfig::default()
    };
    let server = TestServer::start(config).await;
    #[cfg(feature = "polling")]
    {
        get(server.addr, &eio("EIO=4&transport=polling"))
            .await
            .assert_error(403, 4, "no entry without a token");
        let res = get(server.addr, &eio("EIO=4&transport=polling&token=good")).await;
        assert_eq!(res.status, 200);
        parse_open(&res.text());
    }
    #[cfg(feature = "ws")]
    {
        let (status, body) = ws_refused(server.addr, &eio("EIO=4&transport=websocket")).await;
        assert_eq!(status, 403);
        assert_eq!(
            body,
            serde_json::json!({"code": 4, "message": "no entry without a token"})
        );
        let mut ws = ws_connect(server.addr, &eio("EIO=4&transport=websocket&token=good")).await;
        parse_open(&ws_recv_text(&mut ws).await);
    }
    // Only the accepted handshakes opened sessions.
    let expected = usize::from(cfg!(feature = "polling")) + usize::from(cfg!(feature = "ws"));
    let opens = || {
        server
            .log()
            .iter()
            .filter(|e| matches!(e, Event::Open(_)))
            .count()
    };
    eventually("accepted sessions open", || opens() == expected).await;
    assert_eq!(server.engine.session_count(), expected);
}

#[tokio::test]
async fn code_5_unsupported_protocol_version() {
    let server = TestServer::start_default().await;
    for query in [
        format!("EIO=3&transport={ANY_TRANSPORT}"),
        format!("transport={ANY_TRANSPORT}"),
        format!("EIO=5&transport={ANY_TRANSPORT}"),
        format!("EIO=&transport={ANY_TRANSPORT}"),
    ] {
        get(server.addr, &eio(&query))
            .await
            .assert_error(400, 5, "Unsupported protocol version");
    }
    #[cfg(feature = "ws")]
    {
        let (status, body) = ws_refused(server.addr, &eio("EIO=3&transport=websocket")).await;
        assert_eq!(status, 400);
        assert_eq!(
            body,
            serde_json::json!({"code": 5, "message": "Unsupported protocol version"})
        );
    }
    assert_eq!(server.engine.session_count(), 0);
}

#[cfg(feature = "polling")]
#[tokio::test]
async fn polling_post_over_max_payload_is_413() {
    use roomcast_core::Frame;
    let config = EngineConfig {
        max_payload: 100,
        ..EngineConfig::default()
    };
    let server = TestServer::start(config).await;
    let (id, _) = polling_handshake(server.addr).await;
    server.expect_open().await;

    // Declared by Content-Length.
    let big = format!("4{}", "x".repeat(200));
    let res = post(server.addr, &polling(id), big.as_bytes()).await;
    assert_eq!(res.status, 413, "{res:?}");

    // Chunked, so only counted while reading.
    let chunk = "y".repeat(80);
    let chunked = format!("1\r\n4\r\n50\r\n{chunk}\r\n50\r\n{chunk}\r\n0\r\n\r\n");
    let res = http(
        server.addr,
        "POST",
        &polling(id),
        &[("Transfer-Encoding", "chunked")],
        chunked.as_bytes(),
    )
    .await;
    assert_eq!(res.status, 413, "{res:?}");
    assert!(server.messages(id).is_empty());

    // Exactly max_payload is accepted; the session is still usable.
    let fits = format!("4{}", "z".repeat(99));
    send(server.addr, id, &[Frame::text(fits.as_str())]).await;
    assert_eq!(server.expect_message(id).await, Frame::text(&fits[1..]));
    assert_eq!(
        poll(server.addr, id).await,
        vec![Frame::text(fits.as_str())]
    );
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn websocket_message_over_max_payload_closes_with_1009() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message as WsMessage;
    let server = TestServer::start(EngineConfig {
        max_payload: 100,
        ..EngineConfig::default()
    })
    .await;
    let (mut ws, id, _) = ws_handshake(server.addr).await;
    server.expect_open().await;
    ws_send_text(&mut ws, &format!("4{}", "x".repeat(200))).await;
    let close = within("close frame", async {
        loop {
            match ws.next().await {
                Some(Ok(WsMessage::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    })
    .await;
    assert_eq!(close.map(|f| u16::from(f.code)), Some(1009));
    server
        .assert_closed_once(id, roomcast_core::CloseReason::TransportError, 0)
        .await;
    assert!(server.messages(id).is_empty());
}

/// An asynchronous `allow_request` (Node's `allowRequest` calling back
/// later): the verdict comes after an await, and decides as the sync one.
#[cfg(feature = "polling")]
#[tokio::test]
async fn code_4_async_allow_request_decides_after_an_await() {
    let config = EngineConfig {
        allow_request: Some(roomcast_engineio::allow_request_async(|req| {
            let token = req.query("token");
            async move {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                match token.as_deref() {
                    Some("good") => Ok(()),
                    _ => Err("looked up: unknown token".to_string()),
                }
            }
        })),
        ..EngineConfig::default()
    };
    let server = TestServer::start(config).await;
    get(server.addr, &eio("EIO=4&transport=polling&token=bad"))
        .await
        .assert_error(403, 4, "looked up: unknown token");
    let res = get(server.addr, &eio("EIO=4&transport=polling&token=good")).await;
    assert_eq!(res.status, 200);
    parse_open(&res.text());
}
