//! Handshake on both transports: the open packet `0{...}` has exactly the
//! keys sid, upgrades, pingInterval, pingTimeout and maxPayload with the
//! configured values; `upgrades` is `["websocket"]` for an upgradable
//! polling session and `[]` over WebSocket (or when upgrades are off); the
//! path works with and without its trailing slash, and at a custom path;
//! a WebSocket handshake whose head comes in two reads opens a session.

mod common;

use std::time::Duration;

use common::*;
use roomcast_engineio::{EngineConfig, TransportKind};

fn custom_config() -> EngineConfig {
    EngineConfig {
        ping_interval: Duration::from_millis(1234),
        ping_timeout: Duration::from_millis(567),
        max_payload: 4321,
        ..EngineConfig::default()
    }
}

#[cfg(feature = "polling")]
#[tokio::test]
async fn polling_handshake_sends_exactly_the_protocol_keys() {
    let config = custom_config();
    let server = TestServer::start(config.clone()).await;
    let res = get(server.addr, &eio("EIO=4&transport=polling")).await;
    assert_eq!(res.status, 200);
    assert!(
        res.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain")),
        "{res:?}"
    );
    let open = parse_open(&res.text());
    let upgrades: &[&str] = if cfg!(feature = "ws") {
        &["websocket"]
    } else {
        &[]
    };
    assert_open(&open, &config, upgrades);
    let id = server.expect_open().await;
    assert_eq!(open["sid"].as_str(), Some(id.as_str()));
    assert_eq!(server.engine.session_count(), 1);
    assert_eq!(server.socket(id).transport(), TransportKind::Polling);
    assert_eq!(
        server.socket(id).handshake().transport,
        TransportKind::Polling
    );
}

#[cfg(feature = "polling")]
#[tokio::test]
async fn polling_handshake_without_upgrades_offers_none() {
    for config in [
        EngineConfig {
            allow_upgrades: false,
            ..EngineConfig::default()
        },
        EngineConfig {
            transports: vec![TransportKind::Polling],
            ..EngineConfig::default()
        },
    ] {
        let server = TestServer::start(config.clone()).await;
        let (_, open) = polling_handshake(server.addr).await;
        assert_open(&open, &config, &[]);
    }
}

#[cfg(feature = "polling")]
#[tokio::test]
async fn sessions_get_distinct_sids() {
    let server = TestServer::start_default().await;
    let (a, _) = polling_handshake(server.addr).await;
    let (b, _) = polling_handshake(server.addr).await;
    assert_ne!(a, b);
    assert_eq!(server.engine.session_count(), 2);
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn websocket_handshake_sends_open_packet_without_upgrades() {
    let config = custom_config();
    let server = TestServer::start(config.clone()).await;
    let (_ws, id, open) = ws_handshake(server.addr).await;
    assert_open(&open, &config, &[]);
    assert_eq!(server.expect_open().await, id);
    assert_eq!(server.socket(id).transport(), TransportKind::WebSocket);
    assert_eq!(server.engine.session_count(), 1);
}

#[cfg(feature = "polling")]
#[tokio::test]
async fn polling_path_with_and_without_trailing_slash() {
    let server = TestServer::start_default().await;
    for target in [
        "/engine.io/?EIO=4&transport=polling",
        "/engine.io?EIO=4&transport=polling",
    ] {
        let res = get(server.addr, target).await;
        assert_eq!(res.status, 200, "{target}: {res:?}");
        let open = parse_open(&res.text());
        let id = sid(open["sid"].as_str().unwrap());
        // The session answers on both forms of the path too.
        server.socket(id).send(msg("x")).unwrap();
        let res = get(
            server.addr,
            &format!("/engine.io?EIO=4&transport=polling&sid={id}"),
        )
        .await;
        assert_eq!(res.text(), "4x");
    }
    let res = get(server.addr, "/engine.iox/?EIO=4&transport=polling").await;
    assert_eq!(res.status, 404);
    let res = get(server.addr, "/other?EIO=4&transport=polling").await;
    assert_eq!(res.status, 404);
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn websocket_path_with_and_without_trailing_slash() {
    let server = TestServer::start_default().await;
    for target in [
        "/engine.io/?EIO=4&transport=websocket",
        "/engine.io?EIO=4&transport=websocket",
    ] {
        let mut ws = ws_connect(server.addr, target).await;
        let open = parse_open(&ws_recv_text(&mut ws).await);
        assert_eq!(open["upgrades"], serde_json::json!([]));
    }
}

#[tokio::test]
async fn custom_path() {
    let config = EngineConfig {
        path: "/rt/live/".to_string(),
        ..EngineConfig::default()
    };
    let server = TestServer::start(config).await;
    let transport = if cfg!(feature = "polling") {
        "polling"
    } else {
        "websocket"
    };
    // The default path is not served.
    let res = get(server.addr, &eio(&format!("EIO=4&transport={transport}"))).await;
    assert_eq!(res.status, 404);
    #[cfg(feature = "polling")]
    for target in [
        "/rt/live/?EIO=4&transport=polling",
        "/rt/live?EIO=4&transport=polling",
    ] {
        let res = get(server.addr, target).await;
        assert_eq!(res.status, 200, "{target}: {res:?}");
        parse_open(&res.text());
    }
    #[cfg(feature = "ws")]
    for target in [
        "/rt/live/?EIO=4&transport=websocket",
        "/rt/live?EIO=4&transport=websocket",
    ] {
        let mut ws = ws_connect(server.addr, target).await;
        parse_open(&ws_recv_text(&mut ws).await);
    }
}

#[cfg(feature = "polling")]
#[tokio::test]
async fn handshake_records_query_and_headers() {
    let server = TestServer::start_default().await;
    let res = http(
        server.addr,
        "GET",
        &eio("EIO=4&transport=polling&token=a%20b&t=xyz"),
        &[("X-Test", "yes")],
        b"",
    )
    .await;
    let open = parse_open(&res.text());
    let hs = recorded(&server, &open);
    assert!(hs.remote_addr.is_some_and(|a| a.ip().is_loopback()));
}

/// The handshake of the session `open` announced, checked for the query
/// parameter `token=a b` and the header `x-test: yes`.
#[cfg(any(feature = "polling", feature = "ws"))]
fn recorded(
    server: &TestServer,
    open: &serde_json::Value,
) -> std::sync::Arc<roomcast_engineio::Handshake> {
    let socket = server.socket(sid(open["sid"].as_str().unwrap()));
    let hs = socket.handshake().clone();
    assert!(hs
        .query()
        .contains(&("token".to_string(), "a b".to_string())));
    assert_eq!(hs.headers().get("x-test").unwrap(), "yes");
    hs
}

/// A WebSocket handshake the standalone server reads itself (not through
/// hyper) records the same: the peer's address, the query and the headers.
#[cfg(feature = "ws")]
#[tokio::test]
async fn a_websocket_handshake_records_the_peer_query_and_headers() {
    let server = TestServer::start_default().await;
    let target = eio("EIO=4&transport=websocket&token=a%20b");
    let (mut ws, res) = ws_connect_with(server.addr, &target, &[("x-test", "yes")])
        .await
        .unwrap();
    assert_eq!(res.status(), 101);
    let open = parse_open(&ws_recv_text(&mut ws).await);
    let hs = recorded(&server, &open);
    let local = ws.get_ref().local_addr().unwrap();
    assert_eq!(hs.remote_addr, Some(local), "the client's own address");
}

/// The standalone server reads a WebSocket handshake itself: a head that
/// comes in two reads is put together, and the `101` and the open packet
/// arrive together.
#[cfg(feature = "ws")]
#[tokio::test]
async fn a_websocket_handshake_split_over_two_reads_opens_a_session() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start_default().await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let head = format!(
        "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {}\r\n\
         Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        server.addr
    );
    let (first, second) = head.as_bytes().split_at(40);
    stream.write_all(first).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    stream.write_all(second).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.windows(10).any(|w| w == b"maxPayload") && got.len() < 4096 {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{text}"
    );
    assert!(text.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{text}");
    server.expect_open().await;
}
