//! Hardening: graceful shutdown.
//!
//! Clients on WebSocket and on long-polling are in `/`; the server emits N
//! messages, then `io.shutdown(2 s)`. The server runs on its own runtime,
//! dropped as soon as `shutdown` returns (as when `main` returns), so what
//! `shutdown` did not flush is lost. Checked:
//! - every client receives all N messages, in order, before the Engine.IO
//!   close packet (and, on WebSocket, the end of the connection);
//! - every socket's `on_disconnect` sees "server shutting down";
//! - `shutdown` returns within its bound (also when some clients never read
//!   again: then it returns about when the bound is reached, not later);
//! - afterwards `serve()` has returned, a new TCP connection is refused (or
//!   gets no answer), and no session, socket or room remains.

mod hardening_common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hardening_common::*;
use roomcast_socketio::{DisconnectReason, Server, Socket};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const N: usize = 200;
/// Each message's padding: 200 × 64 KiB per client, more than the socket
/// buffers hold, so flushing to a slow reader takes the server a while.
static PAD: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| "p".repeat(64 * 1024));
const GRACE: Duration = Duration::from_secs(2);
/// Scheduling slack on a loaded machine.
const SLACK: Duration = Duration::from_millis(1500);

/// What the server thread reports once `shutdown` returned.
struct Report {
    took: Duration,
    /// `serve()` returned (Ok) within a second of `shutdown` returning.
    serve_returned: bool,
}

/// A server on its own runtime and thread, as in a process whose `main`
/// runs `serve`, then, on a signal, emits N messages, calls
/// `io.shutdown(GRACE)` and returns: the runtime is dropped right after
/// `shutdown` returns, so whatever it did not flush by then is lost.
struct ServerThread {
    io: Server,
    addr: SocketAddr,
    reasons: Reasons,
    go: tokio::sync::oneshot::Sender<()>,
    report: tokio::sync::oneshot::Receiver<Report>,
}

fn start() -> ServerThread {
    let io = Server::new();
    let reasons = Reasons::default();
    let r = reasons.clone();
    io.on_connect(move |socket: Socket| {
        record_disconnect(&socket, &r);
        socket.join(["all"]);
        async {}
    });
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (go, go_rx) = tokio::sync::oneshot::channel::<()>();
    let (report_tx, report) = tokio::sync::oneshot::channel();
    let server = io.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            let io = server.clone();
            let serving = tokio::spawn(async move { io.serve(listener).await });
            if go_rx.await.is_err() {
                return;
            }
            for i in 0..N {
                server.emit("n", &(i, &*PAD)).expect("emit");
            }
            let started = Instant::now();
            server.shutdown(GRACE).await;
            let took = started.elapsed();
            let serve_returned = matches!(
                tokio::time::timeout(Duration::from_secs(1), serving).await,
                Ok(Ok(Ok(())))
            );
            let _ = report_tx.send(Report {
                took,
                serve_returned,
            });
        });
        drop(rt);
    });
    let addr = addr_rx.recv_timeout(STEP).expect("server thread started");
    ServerThread {
        io,
        addr,
        reasons,
        go,
        report,
    }
}

impl ServerThread {
    /// Emits, shuts down, and returns the report (the runtime is gone).
    async fn emit_and_shut_down(self) -> (Server, SocketAddr, Reasons, Report) {
        assert!(self.go.send(()).is_ok(), "server thread alive");
        let report = within("the server thread's shutdown", self.report)
            .await
            .expect("server thread report");
        (self.io, self.addr, self.reasons, report)
    }
}

/// A polling client that polls until the session ends; returns the packets.
fn polling_reader(addr: SocketAddr, sid: String) -> tokio::task::JoinHandle<Vec<String>> {
    tokio::spawn(async move {
        let mut packets = Vec::new();
        loop {
            let res = get(addr, &polling(&sid)).await;
            if res.status != 200 {
                packets.push(format!("HTTP {}", res.status));
                return packets;
            }
            for p in res.text().split('\x1e') {
                if p == "2" {
                    send_polling(addr, &sid, &["3"]).await;
                    continue;
                }
                packets.push(p.to_string());
                if p == "1" {
                    return packets;
                }
            }
        }
    })
}

/// A WebSocket client that reads until the end, taking 5 ms per message (so
/// the server still has plenty to flush when `shutdown` starts).
fn slow_reader(mut raw: Raw) -> tokio::task::JoinHandle<Vec<String>> {
    tokio::spawn(async move {
        let mut packets = Vec::new();
        loop {
            match raw.next().await {
                Got::Text(t) => packets.push(t),
                Got::Binary(_) => packets.push("binary".into()),
                Got::Closed(_) => return packets,
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
}

/// Asserts the N messages in order, then the close packet, nothing else.
#[track_caller]
fn assert_all_then_close(who: &str, packets: &[String]) {
    let expected: Vec<String> = (0..N)
        .map(|i| format!("42[\"n\",{i},\"{}\"]", *PAD))
        .chain(["1".to_string()])
        .collect();
    assert_eq!(packets, expected, "{who}");
}

/// After shutdown: `serve` returned, new connections get nowhere, nothing
/// remains.
async fn assert_stopped(io: &Server, addr: SocketAddr, report: &Report) {
    assert!(
        report.took < GRACE + SLACK,
        "shutdown took {:?}",
        report.took
    );
    assert!(report.serve_returned, "serve() did not return");
    match tokio::net::TcpStream::connect(addr).await {
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused),
        Ok(mut stream) => {
            let req = format!(
                "GET {} HTTP/1.1\r\nHost: {addr}\r\n\r\n",
                eio("transport=polling")
            );
            let _ = stream.write_all(req.as_bytes()).await;
            let mut buf = [0u8; 64];
            let read =
                tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buf)).await;
            assert!(
                !matches!(read, Ok(Ok(n)) if n > 0),
                "a new connection was answered after shutdown"
            );
        }
    }
    assert_eq!(io.engine().session_count(), 0);
    assert!(io.main().is_empty());
    assert_eq!(io.main().hub().room_count(), 0);
    assert!(io.engine().is_closing());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_gets_everything_before_the_close() {
    let server = start();
    let (io, addr) = (server.io.clone(), server.addr);
    let mut ws_clients = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..5 {
        let (raw, id) = Raw::connect_small_buffer(addr, 64 * 1024).await;
        ids.push(id);
        ws_clients.push(slow_reader(raw));
    }
    let mut pollers = Vec::new();
    for _ in 0..5 {
        let (sid, id) = polling_connect(addr).await;
        ids.push(id);
        pollers.push(polling_reader(addr, sid));
    }
    eventually("all joined", || io.main().len() == 10).await;

    let (io, addr, reasons, report) = server.emit_and_shut_down().await;

    for (i, reader) in ws_clients.into_iter().enumerate() {
        let packets = within("websocket reader ends", reader).await.unwrap();
        assert_all_then_close(&format!("websocket client {i}"), &packets);
    }
    for (i, poller) in pollers.into_iter().enumerate() {
        let packets = within("poller ends", poller).await.unwrap();
        assert_all_then_close(&format!("polling client {i}"), &packets);
    }
    for id in &ids {
        assert_eq!(reasons.of(id).await, DisconnectReason::ServerShuttingDown);
    }
    assert_eq!(reasons.len(), 10);
    assert_eq!(
        DisconnectReason::ServerShuttingDown.as_str(),
        "server shutting down"
    );
    assert_stopped(&io, addr, &report).await;
    eprintln!(
        "shutdown with 10 clients (5 websocket, 5 polling) took {:?}",
        report.took
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_is_bounded_when_clients_never_read() {
    let server = start();
    let (io, addr) = (server.io.clone(), server.addr);
    // A polling client that never polls again, a WebSocket that never reads,
    // and a well-behaved WebSocket.
    let (_silent_sid, silent_id) = polling_connect(addr).await;
    let (_deaf, deaf_id) = Raw::connect(addr, "/").await;
    let (good, good_id) = Raw::connect_small_buffer(addr, 64 * 1024).await;
    let good = slow_reader(good);
    eventually("all joined", || io.main().len() == 3).await;
    let (io, addr, reasons, report) = server.emit_and_shut_down().await;
    let packets = within("the reader ends", good).await.unwrap();
    assert_all_then_close("the reading client", &packets);
    for id in [&silent_id, &deaf_id, &good_id] {
        assert_eq!(reasons.of(id).await, DisconnectReason::ServerShuttingDown);
    }
    assert_stopped(&io, addr, &report).await;
    eprintln!(
        "shutdown with a client that never polls took {:?} (bound {GRACE:?})",
        report.took
    );
}
