//! Raw protocol tests of the adapter's edge paths, with a hand-driven WebSocket
//! client: a panicking handler disconnects only its socket; the connect handler
//! can await an ack from its client; a pending `emit_with_ack` fails with
//! `AckError::Disconnected` when the client leaves;
//! events sent while the connect handler or a middleware is still running wait
//! and are handled in order, up to a bound past which the socket is disconnected
//! (never silently dropped); `io.shutdown(grace)` gives "server shutting down".

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{eventually, serve, within, Got, Raw};
use parking_lot::Mutex;
use roomcast_socketio::{AckError, AckSender, DisconnectReason, Server, Socket};
use serde_json::Value;
use tokio::sync::mpsc;

type Reasons = Arc<Mutex<Vec<(String, DisconnectReason)>>>;

fn record_disconnects(socket: &Socket, reasons: &Reasons) {
    let reasons = reasons.clone();
    socket.on_disconnect(move |s: Socket, reason| {
        reasons.lock().push((s.id().to_string(), reason));
        async {}
    });
}

fn reason(reasons: &Reasons, sid: &str) -> Option<DisconnectReason> {
    reasons
        .lock()
        .iter()
        .find(|(id, _)| id == sid)
        .map(|(_, r)| *r)
}

#[tokio::test]
async fn a_panicking_handler_disconnects_only_its_socket() {
    let io = Server::new();
    let reasons = Reasons::default();
    let r = reasons.clone();
    io.on_connect(move |socket: Socket| {
        record_disconnects(&socket, &r);
        async move {
            socket.on("boom", |_: Socket, now: bool, _: AckSender| async move {
                if !now {
                    tokio::task::yield_now().await;
                }
                panic!("handler panic (expected by the test)");
            });
            socket.on("echo", |_: Socket, v: Value, ack: AckSender| async move {
                ack.send(&v).ok();
            });
        }
    });
    let addr = serve(&io).await;
    let (mut good, good_sid) = Raw::connect(addr, "/").await;
    // A panic in the synchronous part, then in the spawned part.
    for now in ["true", "false"] {
        let (mut bad, bad_sid) = Raw::connect(addr, "/").await;
        bad.send(&format!(r#"42["boom",{now}]"#)).await;
        assert_eq!(bad.text().await, "41", "the client is told (now = {now})");
        eventually("the socket leaves", || reason(&reasons, &bad_sid).is_some()).await;
        assert_eq!(
            reason(&reasons, &bad_sid),
            Some(DisconnectReason::ServerNamespaceDisconnect)
        );
        // Its connection stays open and can join again.
        bad.join("/").await;
        good.send(r#"421["echo","fine"]"#).await;
        assert_eq!(good.text().await, r#"431["fine"]"#);
    }
    assert_eq!(reason(&reasons, &good_sid), None);
}

/// The connect handler awaits an answer from its client, then asks again from
/// an event handler; the client answers the first and leaves instead of
/// answering the second.
#[tokio::test]
async fn acks_inside_the_connect_handler_and_after_the_client_left() {
    let io = Server::new();
    let (tx, mut rx) = mpsc::unbounded_channel();
    io.on_connect(move |socket: Socket| {
        let tx = tx.clone();
        async move {
            // Awaited inside the connect handler: the answer must not wait
            // for the connect handler to return.
            let r: Result<String, AckError> = socket
                .emit_with_ack("first", &(), Duration::from_secs(30))
                .await;
            tx.send(r.map_err(|e| e.to_string())).unwrap();
            let tx = tx.clone();
            socket.on("ask-me", move |s: Socket, (): (), _: AckSender| {
                let tx = tx.clone();
                async move {
                    let r: Result<String, AckError> = s
                        .emit_with_ack("second", &(), Duration::from_secs(30))
                        .await;
                    let left = matches!(r, Err(AckError::Disconnected));
                    tx.send(if left {
                        Ok("disconnected".into())
                    } else {
                        Err(format!("{r:?}"))
                    })
                    .unwrap();
                }
            });
        }
    });
    let addr = serve(&io).await;
    let (mut raw, _) = Raw::connect(addr, "/").await;
    let ask = raw.text().await;
    let id = ask
        .strip_prefix("42")
        .and_then(|r| r.strip_suffix(r#"["first"]"#))
        .unwrap_or_else(|| panic!("{ask}"));
    raw.send(&format!(r#"43{id}["answer"]"#)).await;
    let r = within("the connect handler gets its answer", rx.recv()).await;
    assert_eq!(r.unwrap(), Ok("answer".to_string()));

    raw.send(r#"42["ask-me"]"#).await;
    let ask = raw.text().await;
    assert!(ask.ends_with(r#"["second"]"#), "{ask}");
    raw.send("41").await;
    let r = within("the pending ack fails", rx.recv()).await;
    assert_eq!(r.unwrap(), Ok("disconnected".to_string()));
}

/// A server whose `/` middleware and connect handler each sleep `sleep`, and
/// whose `n` handler records the numbers it gets.
fn slow_server(sleep: Duration, in_middleware: bool) -> (Server, Arc<Mutex<Vec<u64>>>, Reasons) {
    let io = Server::new();
    let seen: Arc<Mutex<Vec<u64>>> = Arc::default();
    let reasons = Reasons::default();
    if in_middleware {
        io.use_middleware(move |_| async move {
            tokio::time::sleep(sleep).await;
            Ok(())
        });
    }
    let (s, r) = (seen.clone(), reasons.clone());
    io.on_connect(move |socket: Socket| {
        record_disconnects(&socket, &r);
        let seen = s.clone();
        async move {
            if !in_middleware {
                tokio::time::sleep(sleep).await;
            }
            socket.on("n", move |_: Socket, n: u64, _: AckSender| {
                seen.lock().push(n);
                async {}
            });
            socket.on("echo", |_: Socket, v: Value, ack: AckSender| async move {
                ack.send(&v).ok();
            });
        }
    });
    (io, seen, reasons)
}

#[tokio::test]
async fn events_wait_for_a_slow_connect_handler_in_order() {
    let (io, seen, _) = slow_server(Duration::from_millis(200), false);
    let addr = serve(&io).await;
    let (mut raw, _) = Raw::connect(addr, "/").await;
    for n in 0..500 {
        raw.send(&format!(r#"42["n",{n}]"#)).await;
    }
    raw.send(r#"421["echo","last"]"#).await;
    assert_eq!(raw.text().await, r#"431["last"]"#);
    assert_eq!(*seen.lock(), (0..500).collect::<Vec<_>>());
}

#[tokio::test]
async fn events_sent_before_the_middleware_finishes_wait_in_order() {
    let (io, seen, _) = slow_server(Duration::from_millis(200), true);
    let addr = serve(&io).await;
    let mut raw = Raw::open(addr).await;
    raw.send("40").await;
    for n in 0..500 {
        raw.send(&format!(r#"42["n",{n}]"#)).await;
    }
    raw.send(r#"421["echo","last"]"#).await;
    assert!(raw.text().await.starts_with(r#"40{"sid":"#));
    assert_eq!(raw.text().await, r#"431["last"]"#);
    assert_eq!(*seen.lock(), (0..500).collect::<Vec<_>>());
}

/// More events than the adapter keeps while the socket is not ready: the
/// socket must not go on with some of them silently missing.
async fn flood_before_ready(in_middleware: bool) {
    let (io, seen, reasons) = slow_server(Duration::from_millis(300), in_middleware);
    let addr = serve(&io).await;
    let mut raw = Raw::open(addr).await;
    raw.send("40").await;
    if !in_middleware {
        assert!(raw.text().await.starts_with(r#"40{"sid":"#));
    }
    const SENT: u64 = 1500;
    for n in 0..SENT {
        raw.send(&format!(r#"42["n",{n}]"#)).await;
    }
    // Whatever the server does, it does it within the sleep plus a margin.
    let mut texts = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while let Ok(got) = tokio::time::timeout_at(deadline, raw.next()).await {
        match got {
            Got::Closed(_) => break,
            Got::Text(t) => texts.push(t),
            Got::Binary(_) => {}
        }
    }
    let handled = seen.lock().len() as u64;
    let disconnected = texts.iter().any(|t| t == "41") || texts.last().is_some_and(|t| t == "1");
    assert!(
        handled == SENT || disconnected,
        "{handled} of {SENT} events handled, yet the socket was not disconnected: {texts:?}"
    );
    assert_eq!(*seen.lock(), (0..handled).collect::<Vec<_>>());
    if disconnected && !in_middleware {
        let sid = io.main().sockets();
        assert!(sid.is_empty());
        assert!(reasons
            .lock()
            .iter()
            .all(|(_, r)| *r == DisconnectReason::ServerNamespaceDisconnect));
    }
}

#[tokio::test]
async fn a_flood_before_the_connect_handler_returns_is_not_silently_dropped() {
    flood_before_ready(false).await;
}

#[tokio::test]
async fn a_flood_before_the_middleware_finishes_is_not_silently_dropped() {
    flood_before_ready(true).await;
}

#[tokio::test]
async fn server_shutdown_gives_server_shutting_down() {
    let io = Server::new();
    let reasons = Reasons::default();
    let connects = Arc::new(AtomicUsize::new(0));
    let (r, c) = (reasons.clone(), connects.clone());
    io.on_connect(move |socket: Socket| {
        record_disconnects(&socket, &r);
        c.fetch_add(1, Ordering::Relaxed);
        async {}
    });
    io.of("/chat").on_connect({
        let r = reasons.clone();
        move |socket: Socket| {
            record_disconnects(&socket, &r);
            async {}
        }
    });
    let addr = serve(&io).await;
    let (mut a, a_sid) = Raw::connect(addr, "/").await;
    let chat_sid = a.join("/chat").await;
    let (mut b, b_sid) = Raw::connect(addr, "/").await;
    within("shutdown", io.shutdown(Duration::from_secs(5))).await;
    // Like the reference: no DISCONNECT packet, the connection just closes.
    assert_eq!(a.until_closed().await.0, vec!["1".to_string()]);
    assert_eq!(b.until_closed().await.0, vec!["1".to_string()]);
    for sid in [&a_sid, &chat_sid, &b_sid] {
        assert_eq!(
            reason(&reasons, sid),
            Some(DisconnectReason::ServerShuttingDown)
        );
    }
    assert_eq!(io.engine().session_count(), 0);
    assert_eq!(connects.load(Ordering::Relaxed), 2);
}
