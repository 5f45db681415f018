//! Hardening: access control (the `access` example, `examples/src/access.rs`)
//! and session ids.
//!
//! - With the real socket.io-client (both transports): a good token from an
//!   allowed origin connects and talks; a bad or missing token gets
//!   `connect_error` "unauthorized" with data `{"reason":"bad token"}`; an
//!   origin not on the allow-list, or none, is refused at the handshake.
//! - Raw HTTP: `allow_request` refuses a handshake by `Origin` with 403 and
//!   `{"code":4,…}` (polling and WebSocket), before any session exists; CORS
//!   is off unless configured, and then only echoes allowed origins.
//! - Session ids have at least 120 bits: an Engine.IO sid (and a socket id)
//!   is 22 URL-safe base64 characters (132 bits of alphabet, 128 random: the
//!   last character carries 2 bits), and 2000 sids are all distinct.

mod hardening_common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use hardening_common::*;
use roomcast_examples::access::{self, AccessConfig};
use roomcast_socketio::Server;
use roomcast_testkit::js::{require_js_deps, run_node_file};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite;

const ALLOWED: &str = "http://app.example";

fn config(cors: bool) -> AccessConfig {
    AccessConfig {
        tokens: vec!["s3cret".into(), "other-token".into()],
        origins: vec![ALLOWED.into(), "https://admin.example".into()],
        allow_missing_origin: false,
        cors,
    }
}

async fn start(cors: bool) -> (Server, SocketAddr) {
    let io = access::server(&config(cors));
    let (addr, _task) = serve(&io).await;
    (io, addr)
}

async fn node_cases(transport: &str) {
    let Some(_) = require_js_deps() else { return };
    let (io, addr) = start(false).await;
    let out = run_node_file(
        "hardening/access.mjs",
        &[
            ("PORT", addr.port().to_string()),
            ("TRANSPORT", transport.to_string()),
            ("ALLOWED_ORIGIN", ALLOWED.to_string()),
        ],
        Duration::from_secs(45),
    )
    .await;
    out.assert_success();
    let lines = out.json_lines();
    let case = |name: &str| -> Value {
        lines
            .iter()
            .find(|l| l["step"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name:?} line in {}", out.describe()))
    };

    let good = case("good");
    assert_eq!(good["connected"], true, "{good}");
    assert_eq!(good["whoami_matches"], true, "{good}");
    for name in ["bad-token", "no-token"] {
        let refused = case(name);
        assert_eq!(
            (&refused["connected"], &refused["message"], &refused["data"]),
            (
                &json!(false),
                &json!("unauthorized"),
                &json!({"reason": "bad token"})
            ),
            "{name}: {refused}"
        );
    }
    for name in ["evil-origin", "no-origin"] {
        let refused = case(name);
        assert_eq!(refused["connected"], false, "{name}: {refused}");
        assert_ne!(
            refused["message"], "unauthorized",
            "{name}: refused at the handshake, not by the middleware"
        );
    }
    eventually("every client is gone", || io.engine().session_count() == 0).await;
    assert!(io.main().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_client_token_and_origin_over_websocket() {
    node_cases("websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_client_token_and_origin_over_polling() {
    node_cases("polling").await;
}

fn handshake_with_origin(origin: Option<&str>) -> Vec<(&str, &str)> {
    origin.map(|o| vec![("Origin", o)]).unwrap_or_default()
}

#[tokio::test]
async fn origin_is_checked_before_any_session_exists() {
    let (io, addr) = start(false).await;
    let target = eio("transport=polling");
    for (origin, status, message) in [
        (
            Some("https://evil.example"),
            403,
            Some("origin not allowed"),
        ),
        (
            Some(ALLOWED.trim_end_matches('e')),
            403,
            Some("origin not allowed"),
        ),
        (None, 403, Some("origin required")),
        (Some(ALLOWED), 200, None),
        (Some("https://admin.example"), 200, None),
    ] {
        let res = http(addr, "GET", &target, &handshake_with_origin(origin), b"").await;
        match message {
            Some(m) => res.assert_error(status, 4, m),
            None => assert_eq!(res.status, status, "{origin:?}: {res:?}"),
        }
        // CORS is off: never an Access-Control header, allowed origin or not.
        assert_eq!(res.header("access-control-allow-origin"), None);
    }
    assert_eq!(
        io.engine().session_count(),
        2,
        "only the allowed handshakes"
    );

    // WebSocket handshakes too.
    for (origin, expected) in [("https://evil.example", 403), (ALLOWED, 101)] {
        let mut req = tungstenite::client::IntoClientRequest::into_client_request(format!(
            "ws://{addr}{}",
            eio("transport=websocket")
        ))
        .unwrap();
        req.headers_mut().insert("origin", origin.parse().unwrap());
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let got = within(
            "websocket handshake",
            tokio_tungstenite::client_async(req, stream),
        )
        .await;
        match got {
            Ok((_, res)) => assert_eq!(res.status().as_u16(), expected, "{origin}"),
            Err(tungstenite::Error::Http(res)) => {
                assert_eq!(res.status().as_u16(), expected, "{origin}");
                let body: Value = serde_json::from_slice(res.body().as_deref().unwrap_or(b""))
                    .expect("JSON error body");
                assert_eq!(body, json!({"code": 4, "message": "origin not allowed"}));
            }
            Err(e) => panic!("{origin}: {e}"),
        }
    }
}

#[tokio::test]
async fn cors_when_configured_echoes_allowed_origins_only() {
    let (_io, addr) = start(true).await;
    let target = eio("transport=polling");
    let res = http(addr, "GET", &target, &[("Origin", ALLOWED)], b"").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("access-control-allow-origin"), Some(ALLOWED));
    let res = http(
        addr,
        "GET",
        &target,
        &[("Origin", "https://evil.example")],
        b"",
    )
    .await;
    assert_eq!(res.status, 403);
    assert_eq!(res.header("access-control-allow-origin"), None);
    let res = http(
        addr,
        "OPTIONS",
        &target,
        &[
            ("Origin", "https://evil.example"),
            ("Access-Control-Request-Method", "GET"),
        ],
        b"",
    )
    .await;
    assert_eq!(res.header("access-control-allow-origin"), None, "{res:?}");
}

/// The checks every id must pass: 22 URL-safe base64 characters whose last
/// one carries only 2 bits (so exactly 128 bits are encoded).
#[track_caller]
fn assert_id_shape(id: &str) {
    assert_eq!(id.len(), 22, "{id:?}");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{id:?} is not URL-safe base64"
    );
    assert!(
        "AQgw".contains(&id[21..]),
        "{id:?}: the last character of 128 bits in base64 carries 2 bits"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_ids_have_128_random_bits_and_do_not_repeat() {
    let io = Server::new();
    io.on_connect(|_| async {});
    let (addr, _task) = serve(&io).await;
    let mut sids = HashSet::new();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..2000 {
        if tasks.len() >= 16 {
            sids.insert(tasks.join_next().await.unwrap().unwrap());
        }
        tasks.spawn(polling_open(addr));
    }
    while let Some(sid) = tasks.join_next().await {
        sids.insert(sid.unwrap());
    }
    assert_eq!(sids.len(), 2000, "two thousand distinct sids");
    for sid in &sids {
        assert_id_shape(sid);
    }
    // Every character position varies (no fixed prefix or counter).
    for i in 0..21 {
        let at: HashSet<u8> = sids.iter().map(|s| s.as_bytes()[i]).collect();
        assert!(at.len() > 32, "position {i} takes only {} values", at.len());
    }
    // Socket ids (the CONNECT reply's sid) are of the same kind, and differ
    // from their connection's sid.
    for _ in 0..20 {
        let (raw, id) = Raw::connect(addr, "/").await;
        assert_id_shape(&id);
        assert_ne!(id, raw.eio_sid);
        assert!(!sids.contains(&id));
    }
}
