//! Shared helpers for the hardening tests (`tests/tests/hardening_*.rs`): a
//! server on 127.0.0.1:0, disconnect reasons and server logs recorded, and
//! Engine.IO long-polling by hand. The deadlines, the raw HTTP client and the
//! hand-driven WebSocket client are `roomcast_testkit`'s.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use parking_lot::Mutex;
use roomcast_socketio::{DisconnectReason, Server, Socket};

#[allow(unused_imports)] // each test file uses a different part
pub use roomcast_testkit::client::eio;
#[allow(unused_imports)]
pub use roomcast_testkit::http::{get, http, post, raw_exchange, HttpResponse};
#[allow(unused_imports)]
pub use roomcast_testkit::ws::ws_connect_with;
#[allow(unused_imports)]
pub use roomcast_testkit::{eventually, within, Got, Log, Raw, STEP};

/// Serves `io` on a fresh local port; returns the address and the task.
pub async fn serve(io: &Server) -> (SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>) {
    let io = io.clone();
    roomcast_testkit::spawn_server(|l| async move { io.serve(l).await }).await
}

/// Socket ids and the reasons they disconnected with.
#[derive(Clone, Default)]
pub struct Reasons(Log<(String, DisconnectReason)>);

impl std::ops::Deref for Reasons {
    type Target = Log<(String, DisconnectReason)>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// Records `socket`'s disconnect reason in `reasons`.
pub fn record_disconnect(socket: &Socket, reasons: &Reasons) {
    let reasons = reasons.clone();
    socket.on_disconnect(move |s: Socket, reason| {
        reasons.push((s.id().to_string(), reason));
        async {}
    });
}

impl Reasons {
    /// Waits for the disconnect of socket `sid`; returns its reason.
    pub async fn of(&self, sid: &str) -> DisconnectReason {
        self.wait_for(&format!("disconnect of {sid}"), |(id, _)| id == sid)
            .await
            .1
    }
}

/// A tracing fmt writer into memory: what the server logged.
#[derive(Clone, Default)]
pub struct LogBuf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuf {
    type Writer = LogBuf;
    fn make_writer(&'a self) -> LogBuf {
        self.clone()
    }
}

impl LogBuf {
    pub fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock())
            .lines()
            .map(str::to_string)
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Engine.IO long-polling by hand
// ---------------------------------------------------------------------------

/// A polling handshake; returns the Engine.IO sid.
pub async fn polling_open(addr: SocketAddr) -> String {
    let res = get(addr, &eio("transport=polling")).await;
    assert_eq!(res.status, 200, "handshake: {res:?}");
    let open = res.text();
    let v: serde_json::Value =
        serde_json::from_str(open.strip_prefix('0').expect("an open packet")).unwrap();
    v["sid"].as_str().unwrap().to_string()
}

/// The polling URL of a session.
pub fn polling(sid: &str) -> String {
    eio(&format!("transport=polling&sid={sid}"))
}

/// One GET; the text packets of the payload (asserts 200).
pub async fn poll(addr: SocketAddr, sid: &str) -> Vec<String> {
    let res = get(addr, &polling(sid)).await;
    assert_eq!(res.status, 200, "poll: {res:?}");
    res.text().split('\x1e').map(str::to_string).collect()
}

/// One POST of text packets.
pub async fn send_polling(addr: SocketAddr, sid: &str, packets: &[&str]) -> HttpResponse {
    post(addr, &polling(sid), packets.join("\x1e").as_bytes()).await
}

/// A polling session joined to namespace `/`; returns (eio sid, socket id).
/// Pings seen on the way are answered.
pub async fn polling_connect(addr: SocketAddr) -> (String, String) {
    let sid = polling_open(addr).await;
    let res = send_polling(addr, &sid, &["40"]).await;
    assert_eq!(res.status, 200, "CONNECT: {res:?}");
    loop {
        for p in poll(addr, &sid).await {
            if let Some(body) = p.strip_prefix("40") {
                let v: serde_json::Value = serde_json::from_str(body).unwrap();
                return (sid, v["sid"].as_str().unwrap().to_string());
            }
            if p == "2" {
                send_polling(addr, &sid, &["3"]).await;
            }
        }
    }
}
