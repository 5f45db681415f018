//! Interop with the real npm `socket.io-client` 4.8.4 and `engine.io-client` 6.6.8
//! around joining a namespace: middleware rejections reach the client's
//! `connect_error` with `err.message` and `err.data` (and the connect handler never
//! runs for them), middlewares run in order, async ones included; the handshake
//! (auth, query, headers, address, transport, url) is visible to handlers; an unknown
//! namespace is refused with "Invalid namespace"; and a bare Engine.IO connection that
//! never joins a namespace is closed after `connect_timeout` (on either transport, and
//! after an upgrade) while a joined one stays.
//!
//! Scripts: `tests/js/socketio/connect.mjs`, `tests/js/socketio/connect-timeout.mjs`.

mod socketio_common;

use std::time::{Duration, SystemTime};

use roomcast_socketio::{AckSender, ConnectError, Server, Socket};
use roomcast_testkit::js::require_js_deps;
use serde_json::{json, Value};
use socketio_common::{node_ok, serve, step, Log};

/// The handshake as the server's handlers see it.
fn handshake_json(s: &Socket) -> Value {
    let h = s.handshake();
    let age = SystemTime::now()
        .duration_since(h.time())
        .unwrap_or(Duration::MAX);
    json!({
        "auth": h.auth,
        "room": h.query("room"),
        "odd": h.query("odd key"),
        "eio": h.query("EIO"),
        "query_transport": h.query("transport"),
        "header": h.headers().get("x-roomcast").and_then(|v| v.to_str().ok()),
        "ip": h.address().map(|a| a.ip().to_string()),
        "transport": h.transport(),
        "now": s.transport().as_str(),
        "url_ok": h.url().starts_with("/socket.io/?"),
        "issued_recently": age < Duration::from_secs(60) && h.issued() > 0,
    })
}

async fn middleware_and_handshake(transport: &str) {
    let Some(_) = require_js_deps() else { return };
    let io = Server::new();
    let log: Log<String> = Log::default();

    let l = log.clone();
    io.use_middleware(move |socket: Socket| {
        let l = l.clone();
        async move {
            let token = socket.handshake().auth.get("token").and_then(Value::as_str);
            l.push(format!("/:{}", token.unwrap_or("none")));
            match token {
                Some("good") => Ok(()),
                _ => Err(ConnectError::new("not authorized")
                    .with_data(json!({ "code": 401, "hint": ["use", "a", "token"] }))),
            }
        }
    });
    let l = log.clone();
    io.on_connect(move |socket: Socket| {
        l.push(format!("connected:{}", socket.id()));
        async move {
            socket.on(
                "handshake",
                |s: Socket, (): (), ack: AckSender| async move {
                    ack.send(&handshake_json(&s)).unwrap();
                },
            );
        }
    });
    let admin = io.of("/admin");
    let l = log.clone();
    admin.use_middleware(move |_: Socket| {
        l.push("/admin:a".into());
        async { Ok(()) }
    });
    let l = log.clone();
    admin.use_middleware(move |_: Socket| {
        let l = l.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            l.push("/admin:b".into());
            Err(ConnectError::new("admins only"))
        }
    });
    let l = log.clone();
    admin.on_connect(move |_: Socket| {
        l.push("admin connected".into());
        async {}
    });

    let port = serve(&io).await;
    let lines = node_ok(
        "connect.mjs",
        port,
        &[("TRANSPORT", transport)],
        Duration::from_secs(40),
    )
    .await;

    let data = json!({ "code": 401, "hint": ["use", "a", "token"] });
    for name in ["bad-token", "no-auth"] {
        let line = step(&lines, name);
        assert_eq!(line["message"], "not authorized", "{name}");
        assert_eq!(line["data"], data, "{name}");
        assert_eq!(line["connected"], false, "{name}");
    }
    let admin = step(&lines, "admin");
    assert_eq!(admin["message"], "admins only");
    assert_eq!(admin["data"], Value::Null, "no data was given");
    assert_eq!(step(&lines, "nope")["message"], "Invalid namespace");

    let good = step(&lines, "good");
    assert_eq!(
        good["seen"],
        json!({
            "auth": { "token": "good", "user": "ada" },
            "room": "lobby",
            "odd": "a&b=c",
            "eio": "4",
            "query_transport": transport,
            "header": "yes",
            "ip": "127.0.0.1",
            "transport": transport,
            "now": transport,
            "url_ok": true,
            "issued_recently": true,
        })
    );
    let id = good["id"].as_str().unwrap();
    assert_eq!(
        log.all(),
        vec![
            "/:bad".to_string(),
            "/:none".into(),
            "/:good".into(),
            format!("connected:{id}"),
            "/admin:a".into(),
            "/admin:b".into(),
        ],
        "middlewares in order; connect handlers only for accepted sockets"
    );
    assert!(io.of("/admin").is_empty());
}

#[tokio::test]
async fn middleware_rejections_and_handshake_over_websocket() {
    middleware_and_handshake("websocket").await;
}

#[tokio::test]
async fn middleware_rejections_and_handshake_over_polling() {
    middleware_and_handshake("polling").await;
}

async fn connect_timeout(transport: &str) {
    let Some(_) = require_js_deps() else { return };
    let timeout = Duration::from_millis(400);
    let io = Server::builder().connect_timeout(timeout).build();
    io.on_connect(|socket: Socket| async move {
        socket.on("alive", |_: Socket, (): (), ack: AckSender| async move {
            ack.send(&"yes").unwrap();
        });
    });
    let port = serve(&io).await;
    let ms = timeout.as_millis().to_string();
    let lines = node_ok(
        "connect-timeout.mjs",
        port,
        &[("TRANSPORT", transport), ("CONNECT_TIMEOUT_MS", &ms)],
        Duration::from_secs(30),
    )
    .await;
    let opened = step(&lines, "bare-open")["at"].as_u64().unwrap();
    let closed = step(&lines, "bare-closed");
    let at = closed["at"].as_u64().unwrap();
    let lived = Duration::from_millis(at - opened);
    // The server's timer starts just before the client's "open": allow for
    // the open packet's trip, but not for an early close.
    assert!(
        lived >= timeout / 2,
        "closed after {lived:?}, before the {timeout:?} timeout"
    );
    assert!(lived < Duration::from_secs(3), "closed after {lived:?}");
    assert_eq!(closed["reason"], "transport close");
    let joined = step(&lines, "joined");
    assert_eq!(joined["connected"], true);
    assert_eq!(joined["answer"], "yes");
}

#[tokio::test]
async fn connect_timeout_closes_a_bare_connection_over_websocket() {
    connect_timeout("websocket").await;
}

#[tokio::test]
async fn connect_timeout_closes_a_bare_connection_over_polling() {
    connect_timeout("polling").await;
}

/// The default client's path: the timeout set on polling still holds
/// after the upgrade to WebSocket.
#[tokio::test]
async fn connect_timeout_closes_a_bare_connection_that_upgraded() {
    connect_timeout("polling,websocket").await;
}
