//! Shared helpers for the Engine.IO integration tests.
//!
//! - [`TestServer`]: an [`Engine`] served with [`Engine::serve`] on
//!   127.0.0.1:0 from a spawned task, with a [`Recorder`] handler that
//!   records open / message / close (with reasons) and echoes every message.
//! - Engine.IO polling payload helpers ([`encode_payload`],
//!   [`decode_payload`], [`polling_handshake`], [`poll`], [`send`]).
//! - Engine.IO over a raw WebSocket (`ws.rs`, feature `ws`).
//!
//! The deadlines, the raw HTTP client and the raw WebSocket client are
//! `roomcast_testkit`'s.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use parking_lot::Mutex;
use roomcast_core::{ClientId, CloseReason, Frame, Message};
use roomcast_engineio::{message_frame, message_text, Engine, EngineConfig, Handler, Socket};
#[allow(unused_imports)] // each test file uses a different part
pub use roomcast_testkit::http::{get, http, post, HttpResponse};
pub use roomcast_testkit::{eventually, within};
use serde_json::Value;
use tokio::sync::mpsc;

// ---------------------------------------------------------------------------
// Server and recording handler
// ---------------------------------------------------------------------------

/// What the handler saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Open(ClientId),
    Message(ClientId, Frame),
    Close(ClientId, CloseReason),
}

/// Records every call into a channel and a log; echoes every message
/// (text as a `4…` text frame, binary as binary).
pub struct Recorder {
    tx: mpsc::UnboundedSender<Event>,
    log: Arc<Mutex<Vec<Event>>>,
}

impl Recorder {
    fn record(&self, event: Event) {
        self.log.lock().push(event.clone());
        let _ = self.tx.send(event);
    }
}

impl Handler for Recorder {
    type Session = ();

    fn on_open(&self, socket: &Arc<Socket>) {
        self.record(Event::Open(socket.id()));
    }

    fn on_message(&self, socket: &Arc<Socket>, _: &(), message: Frame) -> Result<(), CloseReason> {
        self.record(Event::Message(socket.id(), message.clone()));
        let _ = socket.send(Message::from(message_frame(message)));
        Ok(())
    }

    fn on_close(&self, socket: &Arc<Socket>, _: &(), reason: CloseReason) {
        self.record(Event::Close(socket.id(), reason));
    }
}

/// An engine served on 127.0.0.1:0; the server task is aborted on drop.
pub struct TestServer {
    pub engine: Engine,
    pub addr: SocketAddr,
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<Event>>,
    log: Arc<Mutex<Vec<Event>>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The engine and the recorder's channel and log, before serving (for
/// embedding tests that serve the engine themselves).
pub fn recording_engine(
    config: EngineConfig,
) -> (
    Engine,
    mpsc::UnboundedReceiver<Event>,
    Arc<Mutex<Vec<Event>>>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let log = Arc::new(Mutex::new(Vec::new()));
    let engine = Engine::new(
        config,
        Recorder {
            tx,
            log: log.clone(),
        },
    );
    (engine, rx, log)
}

impl TestServer {
    /// Serves an engine with `config` and a recording echo handler.
    pub async fn start(config: EngineConfig) -> TestServer {
        let (engine, rx, log) = recording_engine(config);
        let (addr, task) = roomcast_testkit::spawn_server(|l| engine.clone().serve(l)).await;
        TestServer {
            engine,
            addr,
            events: tokio::sync::Mutex::new(rx),
            log,
            task,
        }
    }

    /// [`TestServer::start`] with the default options.
    pub async fn start_default() -> TestServer {
        Self::start(EngineConfig::default()).await
    }

    /// The next handler event.
    pub async fn next_event(&self) -> Event {
        let mut rx = self.events.lock().await;
        within("next handler event", rx.recv())
            .await
            .expect("the handler is gone")
    }

    /// Waits for the next `on_open` and returns its sid.
    pub async fn expect_open(&self) -> ClientId {
        match self.next_event().await {
            Event::Open(id) => id,
            other => panic!("expected an open event, got {other:?}"),
        }
    }

    /// Waits for the next message event of `sid` (other sessions' events
    /// and `sid`'s opens are skipped; a close of `sid` panics).
    pub async fn expect_message(&self, sid: ClientId) -> Frame {
        loop {
            match self.next_event().await {
                Event::Message(id, frame) if id == sid => return frame,
                Event::Close(id, reason) if id == sid => {
                    panic!("expected a message of {sid}, the session closed: {reason:?}")
                }
                _ => {}
            }
        }
    }

    /// Waits for `sid`'s close event and returns its reason.
    pub async fn expect_close(&self, sid: ClientId) -> CloseReason {
        loop {
            if let Event::Close(id, reason) = self.next_event().await {
                if id == sid {
                    return reason;
                }
            }
        }
    }

    /// Waits for `sid` to close with `reason`, then checks that it is gone
    /// from the engine, that `session_count()` drops to `remaining`, and
    /// (after a short grace period) that `on_close` ran exactly once.
    pub async fn assert_closed_once(&self, sid: ClientId, reason: CloseReason, remaining: usize) {
        assert_eq!(
            self.expect_close(sid).await,
            reason,
            "close reason of {sid}"
        );
        assert!(self.engine.socket(sid).is_none(), "{sid} still registered");
        eventually("session_count() drops", || {
            self.engine.session_count() == remaining
        })
        .await;
        // Negative check: give a duplicate close a chance to show up.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(self.close_count(sid), 1, "on_close calls for {sid}");
    }

    /// [`TestServer::assert_closed_once`] with no session left, then a GET
    /// for the polling session `sid` is refused as unknown.
    #[cfg(feature = "polling")]
    pub async fn assert_polling_session_gone(&self, sid: ClientId, reason: CloseReason) {
        self.assert_closed_once(sid, reason, 0).await;
        get(self.addr, &polling(sid))
            .await
            .assert_error(400, 1, "Session ID unknown");
    }

    /// Every event so far.
    pub fn log(&self) -> Vec<Event> {
        self.log.lock().clone()
    }

    /// How many times `on_close` ran for `sid`.
    pub fn close_count(&self, sid: ClientId) -> usize {
        self.log
            .lock()
            .iter()
            .filter(|e| matches!(e, Event::Close(id, _) if *id == sid))
            .count()
    }

    /// The messages the handler received from `sid`, in order.
    pub fn messages(&self, sid: ClientId) -> Vec<Frame> {
        self.log
            .lock()
            .iter()
            .filter_map(|e| match e {
                Event::Message(id, f) if *id == sid => Some(f.clone()),
                _ => None,
            })
            .collect()
    }

    /// The engine's session for `sid` (panics when absent).
    pub fn socket(&self, sid: ClientId) -> Arc<Socket> {
        self.engine.socket(sid).expect("session is registered")
    }
}

/// A message packet with a text payload (`4` + `payload`), for `Socket::send`.
pub fn msg(payload: &str) -> Message {
    Message::from(message_text(payload))
}

/// A binary message, for `Socket::send`.
pub fn bin(data: &[u8]) -> Message {
    Message::from(Frame::binary(data.to_vec()))
}

/// Parses a sid string.
pub fn sid(s: &str) -> ClientId {
    s.parse().expect("sid is a ClientId")
}

// ---------------------------------------------------------------------------
// Engine.IO over long-polling
// ---------------------------------------------------------------------------

/// The transport compiled into this build (polling when both are).
pub const ANY_TRANSPORT: &str = if cfg!(feature = "polling") {
    "polling"
} else {
    "websocket"
};

/// The default engine path with a query.
pub fn eio(query: &str) -> String {
    format!("/engine.io/?{query}")
}

/// The polling URL of a session.
pub fn polling(sid: ClientId) -> String {
    eio(&format!("EIO=4&transport=polling&sid={sid}"))
}

/// Encodes packets as a polling payload (`\x1e`-separated, binary as `b` +
/// base64).
pub fn encode_payload(frames: &[Frame]) -> Vec<u8> {
    let parts: Vec<Vec<u8>> = frames
        .iter()
        .map(|f| match f {
            Frame::Text(t) => t.as_str().as_bytes().to_vec(),
            Frame::Binary(b) => format!("b{}", B64.encode(b)).into_bytes(),
        })
        .collect();
    parts.join(&0x1e_u8)
}

/// Decodes a polling payload.
pub fn decode_payload(body: &[u8]) -> Vec<Frame> {
    body.split(|&b| b == 0x1e)
        .map(|p| match p.first() {
            Some(b'b') => Frame::binary(B64.decode(&p[1..]).expect("base64 packet")),
            _ => Frame::text(std::str::from_utf8(p).expect("UTF-8 packet")),
        })
        .collect()
}

/// Parses an open packet `0{...}`.
pub fn parse_open(packet: &str) -> Value {
    let json = packet
        .strip_prefix('0')
        .unwrap_or_else(|| panic!("not an open packet: {packet:?}"));
    serde_json::from_str(json).expect("open packet JSON")
}

/// Asserts the open packet has exactly the protocol's keys with these values.
#[track_caller]
pub fn assert_open(open: &Value, config: &EngineConfig, upgrades: &[&str]) {
    let obj = open.as_object().expect("open packet is an object");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "maxPayload",
            "pingInterval",
            "pingTimeout",
            "sid",
            "upgrades"
        ],
        "open packet keys: {open}"
    );
    let sid = open["sid"].as_str().expect("sid is a string");
    assert!(sid.parse::<ClientId>().is_ok(), "sid {sid:?}");
    assert_eq!(open["upgrades"], serde_json::json!(upgrades));
    assert_eq!(
        open["pingInterval"].as_u64(),
        Some(config.ping_interval.as_millis() as u64)
    );
    assert_eq!(
        open["pingTimeout"].as_u64(),
        Some(config.ping_timeout.as_millis() as u64)
    );
    assert_eq!(open["maxPayload"].as_u64(), Some(config.max_payload as u64));
}

/// A polling handshake: the sid and the open packet.
pub async fn polling_handshake(addr: SocketAddr) -> (ClientId, Value) {
    let res = get(addr, &eio("EIO=4&transport=polling")).await;
    assert_eq!(res.status, 200, "handshake: {res:?}");
    let open = parse_open(&res.text());
    (sid(open["sid"].as_str().expect("sid")), open)
}

/// One polling GET, decoded (asserts 200).
pub async fn poll(addr: SocketAddr, sid: ClientId) -> Vec<Frame> {
    let res = get(addr, &polling(sid)).await;
    assert_eq!(res.status, 200, "poll: {res:?}");
    decode_payload(&res.body)
}

/// Starts a polling GET on a task and checks that the server holds it
/// (no answer within 150 ms), which also gives it time to reach the server.
pub async fn held_get(addr: SocketAddr, sid: ClientId) -> tokio::task::JoinHandle<HttpResponse> {
    let mut pending = tokio::spawn(async move { get(addr, &polling(sid)).await });
    if let Ok(res) = tokio::time::timeout(Duration::from_millis(150), &mut pending).await {
        panic!("the GET was not held: {res:?}");
    }
    pending
}

/// Awaits a held GET's response.
pub async fn answer(pending: tokio::task::JoinHandle<HttpResponse>) -> HttpResponse {
    within("held GET answered", pending)
        .await
        .expect("GET task")
}

/// Polls until the concatenated packets satisfy `done`; returns them all.
pub async fn poll_until(
    addr: SocketAddr,
    sid: ClientId,
    mut done: impl FnMut(&[Frame]) -> bool,
) -> Vec<Frame> {
    within("poll_until", async {
        let mut all = Vec::new();
        while !done(&all) {
            all.extend(poll(addr, sid).await);
        }
        all
    })
    .await
}

/// One polling POST of `frames` (asserts 200 `ok`).
pub async fn send(addr: SocketAddr, sid: ClientId, frames: &[Frame]) {
    let res = post(addr, &polling(sid), &encode_payload(frames)).await;
    assert_eq!(
        (res.status, res.text().as_str()),
        (200, "ok"),
        "post: {res:?}"
    );
}

#[cfg(feature = "ws")]
mod ws;
#[cfg(feature = "ws")]
#[allow(unused_imports)]
pub use self::ws::*;
