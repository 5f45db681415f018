//! Single-transport builds (cargo features `ws` and `polling`): a transport
//! that is not compiled in is answered like an unknown one (400, code 0),
//! even when the configuration lists it, and is never offered as an
//! upgrade. Run by CI as `cargo test -p roomcast-engineio
//! --no-default-features --features ws` (and `... polling`).

mod common;

#[allow(unused_imports)] // only the single-feature tests use the helpers
use common::*;
use roomcast_engineio::{EngineConfig, TransportKind};

#[test]
fn compiled_transports_follow_the_features() {
    assert_eq!(
        TransportKind::Polling.is_compiled(),
        cfg!(feature = "polling")
    );
    assert_eq!(TransportKind::WebSocket.is_compiled(), cfg!(feature = "ws"));
    let config = EngineConfig::default();
    assert_eq!(
        config.offers(TransportKind::Polling),
        cfg!(feature = "polling")
    );
    assert_eq!(
        config.offers(TransportKind::WebSocket),
        cfg!(feature = "ws")
    );
}

#[cfg(not(feature = "polling"))]
#[tokio::test]
async fn polling_is_an_unknown_transport_without_the_polling_feature() {
    let server = TestServer::start_default().await;
    get(server.addr, &eio("EIO=4&transport=polling"))
        .await
        .assert_error(400, 0, "Transport unknown");
    post(server.addr, &eio("EIO=4&transport=polling"), b"4x")
        .await
        .assert_error(400, 0, "Transport unknown");
    // Also for an existing (WebSocket) session's sid.
    #[cfg(feature = "ws")]
    {
        let (_ws, id, open) = ws_handshake(server.addr).await;
        assert_eq!(open["upgrades"], serde_json::json!([]));
        get(server.addr, &polling(id))
            .await
            .assert_error(400, 0, "Transport unknown");
    }
    assert!(server.engine.session_count() <= 1);
}

#[cfg(not(feature = "ws"))]
#[tokio::test]
async fn websocket_is_an_unknown_transport_without_the_ws_feature() {
    let server = TestServer::start_default().await;
    // A well-formed WebSocket handshake request.
    let upgrade = [
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    http(
        server.addr,
        "GET",
        &eio("EIO=4&transport=websocket"),
        &upgrade,
        b"",
    )
    .await
    .assert_error(400, 0, "Transport unknown");
    assert_eq!(server.engine.session_count(), 0);
    // A polling session is not offered an upgrade, and cannot do one.
    #[cfg(feature = "polling")]
    {
        let (id, open) = polling_handshake(server.addr).await;
        assert_eq!(open["upgrades"], serde_json::json!([]));
        http(
            server.addr,
            "GET",
            &eio(&format!("EIO=4&transport=websocket&sid={id}")),
            &upgrade,
            b"",
        )
        .await
        .assert_error(400, 0, "Transport unknown");
    }
}
