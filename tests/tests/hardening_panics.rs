//! Hardening: handlers that panic.
//!
//! A panic in an event handler — in its synchronous part or after an
//! `.await` — in a connect handler, in a middleware or in a disconnect hook
//! is caught: the socket concerned is disconnected (an event or connect
//! handler: "server namespace disconnect", with a DISCONNECT packet to the
//! client; a middleware: the connection is refused with CONNECT_ERROR), the
//! namespace forgets it, and the server keeps serving: another client's
//! events still work, and the panicking client can even join again on the
//! same connection. Each panic is logged by the server, not propagated.

mod hardening_common;

use std::net::SocketAddr;
use std::time::Duration;

use hardening_common::*;
use roomcast_socketio::{AckSender, ConnectError, DisconnectReason, Server, Socket};
use serde_json::{json, Value};

/// Keeps the default panic hook quiet for the panics this test causes.
fn quiet_expected_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let expected = info
            .payload()
            .downcast_ref::<&str>()
            .is_some_and(|m| m.contains("expected by the test"));
        if !expected {
            default(info);
        }
    }));
}

fn middleware_panic() -> Result<(), ConnectError> {
    panic!("middleware panic (expected by the test)");
}

fn handlers(socket: &Socket, reasons: &Reasons) {
    record_disconnect(socket, reasons);
    socket.on("echo", |_: Socket, v: Value, ack: AckSender| async move {
        ack.send(&v).ok();
    });
    socket.on(
        "boom",
        |_: Socket, after_await: bool, _: AckSender| async move {
            if after_await {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            panic!("event handler panic (expected by the test)");
        },
    );
}

async fn start() -> (Server, SocketAddr, Reasons) {
    quiet_expected_panics();
    let io = Server::new();
    let reasons = Reasons::default();
    let r = reasons.clone();
    io.on_connect(move |socket: Socket| {
        handlers(&socket, &r);
        async {}
    });
    for (name, after_await) in [("/connect-sync", false), ("/connect-async", true)] {
        let r = reasons.clone();
        io.of(name).on_connect(move |socket: Socket| {
            handlers(&socket, &r);
            async move {
                if after_await {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                panic!("connect handler panic (expected by the test)");
            }
        });
    }
    for (name, after_await) in [("/mw-sync", false), ("/mw-async", true)] {
        let ns = io.of(name);
        ns.use_middleware(move |_: Socket| async move {
            if after_await {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            middleware_panic()
        });
        ns.on_connect(|_: Socket| async {});
    }
    let r = reasons.clone();
    io.of("/hook").on_connect(move |socket: Socket| {
        handlers(&socket, &r);
        socket.on_disconnect(|_: Socket, _| async {
            panic!("disconnect hook panic (expected by the test)");
        });
        async {}
    });
    let (addr, _task) = serve(&io).await;
    (io, addr, reasons)
}

async fn assert_echo(client: &mut Raw, n: u64) {
    let answer = client.ack_roundtrip("echo", &json!(n), n).await;
    assert_eq!(answer, format!("[{n}]"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_event_handler_disconnects_its_socket_only() {
    let (io, addr, reasons) = start().await;
    let (mut other, _) = Raw::connect(addr, "/").await;
    let mut clients = Vec::new();
    for (n, after_await) in [(1u64, false), (2, true)] {
        let (mut client, id) = Raw::connect(addr, "/").await;
        client.send(&format!("42[\"boom\",{after_await}]")).await;
        assert_eq!(client.text().await, "41", "DISCONNECT of `/`");
        assert_eq!(
            reasons.of(&id).await,
            DisconnectReason::ServerNamespaceDisconnect
        );
        eventually("the socket left `/`", || {
            io.main().socket(id.parse().unwrap()).is_none()
        })
        .await;
        // The server goes on, for the others and for this connection.
        assert_echo(&mut other, n).await;
        let again = client.join("/").await;
        assert_ne!(again, id);
        assert_echo(&mut client, 10 + n).await;
        clients.push(client);
    }
    assert_eq!(io.main().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_connect_handler_disconnects_the_new_socket() {
    let (io, addr, reasons) = start().await;
    let (mut other, _) = Raw::connect(addr, "/").await;
    for (n, ns) in [(1u64, "/connect-sync"), (2, "/connect-async")] {
        let mut client = Raw::open(addr).await;
        let id = client.join(ns).await;
        assert_eq!(client.text().await, format!("41{ns},"));
        assert_eq!(
            reasons.of(&id).await,
            DisconnectReason::ServerNamespaceDisconnect
        );
        assert!(io.of(ns).is_empty());
        assert_echo(&mut other, n).await;
        client.join("/").await;
        assert_echo(&mut client, 10 + n).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_middleware_refuses_the_connection() {
    let (io, addr, _reasons) = start().await;
    let (mut other, _) = Raw::connect(addr, "/").await;
    for (n, ns) in [(1u64, "/mw-sync"), (2, "/mw-async")] {
        let mut client = Raw::open(addr).await;
        client.send(&format!("40{ns},")).await;
        let reply = client.text().await;
        let body = reply
            .strip_prefix(&format!("44{ns},"))
            .unwrap_or_else(|| panic!("expected CONNECT_ERROR, got {reply:?}"));
        let err: Value = serde_json::from_str(body).unwrap();
        assert_eq!(err, json!({"message": "server error"}));
        assert!(io.of(ns).is_empty());
        assert_echo(&mut other, n).await;
        // The connection is still usable.
        client.join("/").await;
        assert_echo(&mut client, 10 + n).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_disconnect_hook_does_not_stop_the_disconnect() {
    let (io, addr, reasons) = start().await;
    let (mut other, _) = Raw::connect(addr, "/").await;
    let mut client = Raw::open(addr).await;
    let id = client.join("/hook").await;
    assert_eq!(io.of("/hook").len(), 1);
    client.send("41/hook,").await;
    assert_eq!(
        reasons.of(&id).await,
        DisconnectReason::ClientNamespaceDisconnect
    );
    eventually("the socket left /hook", || io.of("/hook").is_empty()).await;
    assert_echo(&mut other, 1).await;
    client.join("/hook").await;
    assert_eq!(io.of("/hook").len(), 1);
    // And when the whole connection goes.
    drop(client);
    eventually("the session is gone", || io.engine().session_count() == 1).await;
    eventually("the socket left /hook", || io.of("/hook").is_empty()).await;
    assert_echo(&mut other, 2).await;
}
