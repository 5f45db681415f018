//! Engine events (`events.rs`): `on_connection_error` is called once per
//! refused request with the code, the reference message, the context and
//! the request; `initial_headers` adds headers to handshake answers only,
//! `headers` to every answer of a session (the upgrade's 101 included),
//! never to refusals; `on_upgrading` / `on_upgrade` fire once, in that
//! order, when a polling session moves to WebSocket.

#![cfg(all(feature = "polling", feature = "ws"))]

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use http::{HeaderValue, Method};
use roomcast_core::ClientId;
use roomcast_engineio::{EngineConfig, ErrorContext, Protocol, TransportKind};

/// What the hook saw of one refusal.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    code: u8,
    message: &'static str,
    context: ErrorContext,
    method: Method,
    path_and_query: String,
    has_addr: bool,
    user_agent: Option<String>,
}

fn recording() -> (EngineConfig, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let config = EngineConfig {
        on_connection_error: Some(Arc::new(move |err| {
            log.lock().unwrap().push(Seen {
                code: err.code as u8,
                message: err.message,
                context: err.context.clone(),
                method: err.req.method.clone(),
                path_and_query: err.req.uri.path_and_query().unwrap().to_string(),
                has_addr: err.req.remote_addr.is_some(),
                user_agent: err
                    .req
                    .headers
                    .get("x-agent")
                    .map(|v| v.to_str().unwrap().to_string()),
            });
        })),
        allow_request: Some(roomcast_engineio::allow_request(|req| {
            match req.query("token").as_deref() {
                Some("bad") => Err("no entry".to_string()),
                _ => Ok(()),
            }
        })),
        ..EngineConfig::default()
    };
    (config, seen)
}

fn take(seen: &Mutex<Vec<Seen>>) -> Seen {
    let mut all = seen.lock().unwrap();
    assert_eq!(all.len(), 1, "one call per refusal: {all:?}");
    all.remove(0)
}

#[tokio::test]
async fn connection_error_is_called_once_per_refusal_with_code_context_and_request() {
    let (config, seen) = recording();
    let server = TestServer::start(config).await;
    let a = server.addr;

    let target = eio("EIO=4&transport=pigeon");
    http(a, "GET", &target, &[("x-agent", "tester")], b"")
        .await
        .assert_error(400, 0, "Transport unknown");
    let s = take(&seen);
    assert_eq!((s.code, s.message), (0, "Transport unknown"));
    assert_eq!(
        s.context,
        ErrorContext::UnknownTransport {
            transport: Some("pigeon".into())
        }
    );
    assert_eq!(s.method, Method::GET);
    assert_eq!(s.path_and_query, target);
    assert!(s.has_addr);
    assert_eq!(s.user_agent.as_deref(), Some("tester"));

    let unknown = ClientId::random().to_string();
    get(a, &eio(&format!("EIO=4&transport=polling&sid={unknown}")))
        .await
        .assert_error(400, 1, "Session ID unknown");
    assert_eq!(
        take(&seen).context,
        ErrorContext::UnknownSid { sid: unknown }
    );

    post(a, &eio("EIO=4&transport=polling"), b"x")
        .await
        .assert_error(400, 2, "Bad handshake method");
    let s = take(&seen);
    assert_eq!(
        s.context,
        ErrorContext::BadHandshakeMethod {
            method: Method::POST
        }
    );
    assert_eq!(s.method, Method::POST);

    get(a, &eio("EIO=4&transport=websocket"))
        .await
        .assert_error(400, 3, "Bad request");
    let s = take(&seen);
    assert_eq!(s.context, ErrorContext::TransportHandshakeError);
    assert_eq!(s.context.name(), Some("TRANSPORT_HANDSHAKE_ERROR"));

    get(a, &eio("EIO=4&transport=polling&token=bad"))
        .await
        .assert_error(403, 4, "no entry");
    let s = take(&seen);
    assert_eq!((s.code, s.message), (4, "Forbidden"));
    assert_eq!(
        s.context,
        ErrorContext::Forbidden {
            message: "no entry".into()
        }
    );

    get(a, &eio("EIO=3&transport=polling")).await.assert_error(
        400,
        5,
        "Unsupported protocol version",
    );
    assert_eq!(
        take(&seen).context,
        ErrorContext::UnsupportedProtocolVersion {
            protocol: Protocol::V3
        }
    );

    // A session's requests: wrong method, wrong revision, wrong transport.
    let (id, _) = polling_handshake(a).await;
    http(a, "PUT", &polling(id), &[], b"")
        .await
        .assert_error(400, 3, "Bad request");
    assert_eq!(
        take(&seen).context,
        ErrorContext::BadMethod {
            method: Method::PUT
        }
    );
    get(a, &eio(&format!("EIO=3&transport=polling&sid={id}")))
        .await
        .assert_error(400, 3, "Bad request");
    assert_eq!(
        take(&seen).context,
        ErrorContext::ProtocolMismatch {
            protocol: Protocol::V3,
            previous: Protocol::V4
        }
    );
    let _ws = upgrade(a, id).await;
    eventually("upgraded", || {
        server.socket(id).transport() == TransportKind::WebSocket
    })
    .await;
    get(a, &polling(id))
        .await
        .assert_error(400, 3, "Bad request");
    let s = take(&seen);
    assert_eq!(
        s.context,
        ErrorContext::TransportMismatch {
            transport: TransportKind::Polling,
            previous: TransportKind::WebSocket
        }
    );
    assert_eq!(s.context.name(), Some("TRANSPORT_MISMATCH"));

    // Accepted requests are not reported.
    polling_handshake(a).await;
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn connection_error_on_a_refused_websocket_handshake() {
    let (config, seen) = recording();
    let server = TestServer::start(config).await;
    let (status, _) = ws_refused(server.addr, &eio("EIO=4&transport=websocket&token=bad")).await;
    assert_eq!(status, 403);
    assert_eq!(take(&seen).code, 4);
    let (status, _) = ws_refused(server.addr, &websocket(ClientId::random())).await;
    assert_eq!(status, 400);
    assert_eq!(take(&seen).code, 1);
}

fn header_config() -> EngineConfig {
    EngineConfig {
        initial_headers: Some(Arc::new(|h, _req, id| {
            h.insert(
                "set-cookie",
                HeaderValue::from_str(&format!("io={id}")).unwrap(),
            );
        })),
        headers: Some(Arc::new(|h, req, _id| {
            let method = HeaderValue::from_str(req.method.as_str()).unwrap();
            h.insert("x-every", method);
            if req.query("ct").is_some() {
                h.insert("content-type", HeaderValue::from_static("text/plain; x=1"));
            }
        })),
        ..EngineConfig::default()
    }
}

#[tokio::test]
async fn headers_hooks_on_handshake_later_requests_and_the_upgrade() {
    let server = TestServer::start(header_config()).await;
    let a = server.addr;
    let res = get(a, &eio("EIO=4&transport=polling")).await;
    let id = parse_open(&res.text())["sid"].as_str().unwrap().to_string();
    assert_eq!(res.header("set-cookie"), Some(format!("io={id}").as_str()));
    assert_eq!(res.header("x-every"), Some("GET"));
    let id = sid(&id);

    // Later requests: `headers` only.
    server.socket(id).send(msg("x")).unwrap();
    let res = get(a, &polling(id)).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("x-every"), Some("GET"));
    assert!(res.header("set-cookie").is_none());
    let res = post(a, &polling(id), b"4hi").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("x-every"), Some("POST"));

    // The upgrade's 101.
    let (_ws, res) = ws_connect_with(a, &websocket(id), &[])
        .await
        .expect("upgrade");
    assert_eq!(res.status(), 101);
    assert_eq!(res.headers().get("x-every").unwrap(), "GET");
    assert!(res.headers().get("set-cookie").is_none());

    // A WebSocket handshake gets both.
    let (_ws, res) = ws_connect_with(a, &eio("EIO=4&transport=websocket"), &[])
        .await
        .expect("websocket");
    assert!(res.headers().get("set-cookie").is_some());
    assert_eq!(res.headers().get("x-every").unwrap(), "GET");

    // Never on refusals; a hook's header replaces the engine's.
    let res = get(a, &eio("EIO=3&transport=polling")).await;
    assert_eq!(res.status, 400);
    assert!(res.header("x-every").is_none());
    let res = get(a, &polling(ClientId::random())).await;
    assert!(res.header("x-every").is_none());
    let res = get(a, &eio("EIO=4&transport=polling&ct=1")).await;
    assert_eq!(res.header_all("content-type"), vec!["text/plain; x=1"]);
}

#[tokio::test]
async fn upgrade_listeners_fire_once_in_order() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    let log = Arc::new(Mutex::new(Vec::new()));
    let socket = server.socket(id);
    for (name, upgrading) in [
        ("upgrading", true),
        ("upgrade", false),
        ("upgrade-2", false),
    ] {
        let log = log.clone();
        let listener = move |t: TransportKind| log.lock().unwrap().push((name, t));
        if upgrading {
            socket.on_upgrading(listener);
        } else {
            socket.on_upgrade(listener);
        }
    }
    let mut ws = upgrade(server.addr, id).await;
    eventually("upgrade listeners", || log.lock().unwrap().len() == 3).await;
    assert_eq!(
        *log.lock().unwrap(),
        vec![
            ("upgrading", TransportKind::WebSocket),
            ("upgrade", TransportKind::WebSocket),
            ("upgrade-2", TransportKind::WebSocket),
        ]
    );
    // The session works on; the listeners are spent, and a late one is
    // dropped uncalled.
    let late = Arc::new(());
    let held = late.clone();
    socket.on_upgrade(move |_| drop(held));
    assert_eq!(Arc::strong_count(&late), 1);
    socket.send(msg("after")).unwrap();
    assert_eq!(ws_recv_text(&mut ws).await, "4after");
    assert_eq!(log.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn an_abandoned_upgrade_fires_no_upgrade() {
    let server = TestServer::start(EngineConfig {
        upgrade_timeout: std::time::Duration::from_millis(100),
        ..EngineConfig::default()
    })
    .await;
    let (id, _) = polling_handshake(server.addr).await;
    let fired = Arc::new(Mutex::new(0));
    let f = fired.clone();
    server
        .socket(id)
        .on_upgrade(move |_| *f.lock().unwrap() += 1);
    let _ws = ws_connect(server.addr, &websocket(id)).await; // never probes
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(server.socket(id).transport(), TransportKind::Polling);
    assert_eq!(*fired.lock().unwrap(), 0);
}
