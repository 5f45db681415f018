//! Options seen on the wire: CORS is off by default (no
//! `Access-Control-Allow-Origin`, no preflight); with
//! `Cors { origins: AllowOrigin::List(..), credentials: true }` an allowed
//! origin is echoed with credentials on every response (handshake, session
//! requests, errors) and a disallowed one gets no CORS header; an OPTIONS
//! preflight gets 204; `initial_headers` adds headers (a `Set-Cookie`
//! with the sid) to the handshake response only.

mod common;

use std::sync::Arc;

use common::*;
use http::HeaderValue;
use roomcast_engineio::{AllowOrigin, Cors, EngineConfig};

const ALLOWED: &str = "https://app.example";
const OTHER: &str = "https://evil.example";

fn handshake_target() -> String {
    eio(&format!("EIO=4&transport={ANY_TRANSPORT}"))
}

fn cors_config() -> EngineConfig {
    EngineConfig {
        cors: Some(Cors {
            origins: AllowOrigin::List(vec![ALLOWED.to_string()]),
            credentials: true,
        }),
        ..EngineConfig::default()
    }
}

#[tokio::test]
async fn cors_is_off_by_default() {
    let server = TestServer::start_default().await;
    let target = handshake_target();
    let res = http(server.addr, "GET", &target, &[("Origin", ALLOWED)], b"").await;
    assert!(
        res.header("access-control-allow-origin").is_none(),
        "{res:?}"
    );
    assert!(res.header("access-control-allow-credentials").is_none());
    // No preflight answer either: OPTIONS is not a handshake.
    let res = http(
        server.addr,
        "OPTIONS",
        &handshake_target(),
        &[
            ("Origin", ALLOWED),
            ("Access-Control-Request-Method", "POST"),
        ],
        b"",
    )
    .await;
    assert_ne!(res.status, 204);
    assert!(res.header("access-control-allow-origin").is_none());
}

#[cfg(feature = "polling")]
#[tokio::test]
async fn allowed_origin_is_echoed_with_credentials() {
    let server = TestServer::start(cors_config()).await;
    let origin = [("Origin", ALLOWED)];
    let res = http(server.addr, "GET", &handshake_target(), &origin, b"").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("access-control-allow-origin"), Some(ALLOWED));
    assert_eq!(res.header("access-control-allow-credentials"), Some("true"));
    assert!(res.header_all("vary").iter().any(|v| v.contains("Origin")));
    let id = sid(parse_open(&res.text())["sid"].as_str().unwrap());

    // Session requests too.
    let res = http(server.addr, "POST", &polling(id), &origin, b"4hi").await;
    assert_eq!(res.text(), "ok");
    assert_eq!(res.header("access-control-allow-origin"), Some(ALLOWED));
    let res = http(server.addr, "GET", &polling(id), &origin, b"").await;
    assert_eq!(res.text(), "4hi");
    assert_eq!(res.header("access-control-allow-origin"), Some(ALLOWED));
    assert_eq!(res.header("access-control-allow-credentials"), Some("true"));

    // And error responses, so a browser can read them.
    let res = http(
        server.addr,
        "GET",
        &eio("EIO=3&transport=polling"),
        &origin,
        b"",
    )
    .await;
    res.assert_error(400, 5, "Unsupported protocol version");
    assert_eq!(res.header("access-control-allow-origin"), Some(ALLOWED));
}

#[tokio::test]
async fn disallowed_origin_gets_no_cors_headers() {
    let server = TestServer::start(cors_config()).await;
    let target = handshake_target();
    for origin in [OTHER, "https://app.example.evil", "null"] {
        let res = http(server.addr, "GET", &target, &[("Origin", origin)], b"").await;
        assert!(
            res.header("access-control-allow-origin").is_none(),
            "{res:?}"
        );
        assert!(res.header("access-control-allow-credentials").is_none());
    }
    // Without an Origin header (same-origin or non-browser): none either.
    let res = get(server.addr, &target).await;
    assert!(res.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn options_preflight_is_204() {
    let server = TestServer::start(cors_config()).await;
    let target = handshake_target();
    let res = http(
        server.addr,
        "OPTIONS",
        &target,
        &[
            ("Origin", ALLOWED),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type, x-token"),
        ],
        b"",
    )
    .await;
    assert_eq!(res.status, 204, "{res:?}");
    assert!(res.body.is_empty());
    assert_eq!(res.header("access-control-allow-origin"), Some(ALLOWED));
    assert_eq!(res.header("access-control-allow-credentials"), Some("true"));
    let methods = res.header("access-control-allow-methods").unwrap_or("");
    for m in ["GET", "POST"] {
        assert!(methods.contains(m), "{methods}");
    }
    assert_eq!(
        res.header("access-control-allow-headers"),
        Some("content-type, x-token")
    );
    // A preflight opens no session.
    assert_eq!(server.engine.session_count(), 0);

    // A disallowed origin's preflight is answered without permission.
    let res = http(
        server.addr,
        "OPTIONS",
        &target,
        &[("Origin", OTHER), ("Access-Control-Request-Method", "POST")],
        b"",
    )
    .await;
    assert_eq!(res.status, 204);
    assert!(res.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn any_origin_is_echoed_without_credentials() {
    let server = TestServer::start(EngineConfig {
        cors: Some(Cors::any()),
        ..EngineConfig::default()
    })
    .await;
    let res = http(
        server.addr,
        "GET",
        &handshake_target(),
        &[("Origin", OTHER)],
        b"",
    )
    .await;
    assert_eq!(res.header("access-control-allow-origin"), Some(OTHER));
    assert!(res.header("access-control-allow-credentials").is_none());
}

fn cookie_config() -> EngineConfig {
    EngineConfig {
        initial_headers: Some(Arc::new(|h, req, id| {
            let cookie = format!("io={id}; Path=/; HttpOnly; SameSite=Lax");
            h.insert("set-cookie", HeaderValue::from_str(&cookie).unwrap());
            if let Some(t) = req.query("t") {
                h.insert("x-seen-query", HeaderValue::from_str(&t).unwrap());
            }
        })),
        ..EngineConfig::default()
    }
}

#[cfg(feature = "polling")]
#[tokio::test]
async fn initial_headers_set_a_cookie_on_the_polling_handshake() {
    let server = TestServer::start(cookie_config()).await;
    let res = get(server.addr, &eio("EIO=4&transport=polling&t=abc")).await;
    assert_eq!(res.status, 200);
    let id = parse_open(&res.text())["sid"].as_str().unwrap().to_string();
    assert_eq!(
        res.header_all("set-cookie"),
        vec![format!("io={id}; Path=/; HttpOnly; SameSite=Lax")]
    );
    assert_eq!(res.header("x-seen-query"), Some("abc"));
    // Only on the handshake.
    server.socket(sid(&id)).send(msg("x")).unwrap();
    let res = get(server.addr, &polling(sid(&id))).await;
    assert!(res.header("set-cookie").is_none());
    // Not on rejected handshakes.
    let res = get(server.addr, &eio("EIO=3&transport=polling")).await;
    assert!(res.header("set-cookie").is_none());
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn initial_headers_set_a_cookie_on_the_websocket_handshake() {
    let server = TestServer::start(cookie_config()).await;
    let (mut ws, res) = ws_connect_with(server.addr, &eio("EIO=4&transport=websocket"), &[])
        .await
        .expect("websocket");
    assert_eq!(res.status(), 101);
    let open = parse_open(&ws_recv_text(&mut ws).await);
    let cookie = res.headers().get("set-cookie").expect("set-cookie");
    assert_eq!(
        cookie.to_str().unwrap(),
        format!(
            "io={}; Path=/; HttpOnly; SameSite=Lax",
            open["sid"].as_str().unwrap()
        )
    );
}
