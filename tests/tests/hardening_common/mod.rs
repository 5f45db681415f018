//! Shared helpers for the hardening tests (`tests/tests/hardening_*.rs`): a
//! server on 127.0.0.1:0, deadlines and polling, a raw HTTP/1.1 client (one
//! request per connection, read to EOF), Engine.IO long-polling by hand, and a
//! hand-driven WebSocket client (tokio-tungstenite over a plain `TcpStream`)
//! that reports the close code the server sent.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use parking_lot::Mutex;
use roomcast_socketio::{DisconnectReason, Server, Socket};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

#[allow(unused_imports)] // each test file uses a different part
pub use roomcast_tests::wait::{eventually, within, Log, STEP};

/// Serves `io` on a fresh local port; returns the address and the task.
pub async fn serve(io: &Server) -> (SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let io = io.clone();
    let task = tokio::spawn(async move { io.serve(listener).await });
    (addr, task)
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

/// `/socket.io/?EIO=4&{query}`.
pub fn eio(query: &str) -> String {
    format!("/socket.io/?EIO=4&{query}")
}

// ---------------------------------------------------------------------------
// Raw HTTP
// ---------------------------------------------------------------------------

/// A response as read off the wire.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    /// Names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.text()))
    }

    /// Asserts an Engine.IO error: `status` and `{"code":code,"message":message}`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: u8, message: &str) {
        assert_eq!(self.status, status, "status of {self:?}");
        assert_eq!(
            self.json(),
            serde_json::json!({ "code": code, "message": message }),
            "error body"
        );
    }
}

/// Writes `bytes` on a new connection and reads until the server closes it.
pub async fn raw_exchange(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    within("raw exchange", async {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        // The server may answer and close before reading everything.
        let _ = stream.write_all(bytes).await;
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw).await;
        raw
    })
    .await
}

/// One HTTP/1.1 request on a new connection (`Connection: close`).
pub async fn http(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    let raw = raw_exchange(addr, &bytes).await;
    parse_response(&raw)
}

pub async fn get(addr: SocketAddr, target: &str) -> HttpResponse {
    http(addr, "GET", target, &[], b"").await
}

pub async fn post(addr: SocketAddr, target: &str, body: &[u8]) -> HttpResponse {
    http(addr, "POST", target, &[], body).await
}

/// Parses a raw response (panics when there is no HTTP head).
pub fn parse_response(raw: &[u8]) -> HttpResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &raw[split + 4..];
    let len = headers
        .iter()
        .find(|(h, _)| h == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let body = match len {
        Some(len) => rest[..len.min(rest.len())].to_vec(),
        None => rest.to_vec(),
    };
    HttpResponse {
        status,
        headers,
        body,
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

// ---------------------------------------------------------------------------
// A WebSocket client driven by hand
// ---------------------------------------------------------------------------

/// What the raw client read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    /// A text frame (the whole Engine.IO packet, e.g. `42["a"]`).
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
    /// A close frame (with its code) or the end of the stream (`None`).
    Closed(Option<u16>),
}

/// A WebSocket Engine.IO client. Pings (`2`) are answered while reading.
pub struct Raw {
    pub ws: WebSocketStream<TcpStream>,
    /// The Engine.IO session id from the open packet (empty for upgrades).
    pub sid: String,
}

/// A WebSocket to `target` over `stream`.
pub async fn ws_over(
    stream: TcpStream,
    addr: SocketAddr,
    target: &str,
) -> Result<WebSocketStream<TcpStream>, tokio_tungstenite::tungstenite::Error> {
    let req = format!("ws://{addr}{target}")
        .into_client_request()
        .expect("websocket request");
    let _ = stream.set_nodelay(true);
    within(
        "websocket handshake",
        tokio_tungstenite::client_async(req, stream),
    )
    .await
    .map(|(ws, _)| ws)
}

impl Raw {
    /// A WebSocket to `target`, without reading anything.
    pub async fn at(addr: SocketAddr, target: &str) -> Raw {
        let stream = within("tcp connect", TcpStream::connect(addr))
            .await
            .expect("connect");
        let ws = ws_over(stream, addr, target)
            .await
            .unwrap_or_else(|e| panic!("websocket to {target} failed: {e}"));
        Raw {
            ws,
            sid: String::new(),
        }
    }

    /// Wraps an open WebSocket and reads the open packet.
    pub async fn opened(ws: WebSocketStream<TcpStream>) -> Raw {
        let mut raw = Raw {
            ws,
            sid: String::new(),
        };
        let open = raw.text().await;
        let v: serde_json::Value =
            serde_json::from_str(open.strip_prefix('0').expect("an open packet first")).unwrap();
        raw.sid = v["sid"].as_str().unwrap().to_string();
        raw
    }

    /// A WebSocket session joined to `/` whose receive buffer is `rcvbuf`
    /// bytes (no kernel autotuning: a slow or stalled reader backs up fast).
    pub async fn connect_small_buffer(addr: SocketAddr, rcvbuf: u32) -> (Raw, String) {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(rcvbuf).unwrap();
        let stream = within("tcp connect", socket.connect(addr))
            .await
            .expect("connect");
        let ws = ws_over(stream, addr, &eio("transport=websocket"))
            .await
            .expect("websocket");
        let mut raw = Raw::opened(ws).await;
        let id = raw.join("/").await;
        (raw, id)
    }

    /// A WebSocket session (no namespace yet).
    pub async fn open(addr: SocketAddr) -> Raw {
        let raw = Raw::at(addr, &eio("transport=websocket")).await;
        Raw::opened(raw.ws).await
    }

    /// A WebSocket session joined to `ns`; returns it and the socket id.
    pub async fn connect(addr: SocketAddr, ns: &str) -> (Raw, String) {
        let mut raw = Raw::open(addr).await;
        let sid = raw.join(ns).await;
        (raw, sid)
    }

    /// Sends CONNECT for `ns` (`/` or `/name`) and returns the socket id.
    pub async fn join(&mut self, ns: &str) -> String {
        let prefix = if ns == "/" {
            String::new()
        } else {
            format!("{ns},")
        };
        self.send(&format!("40{prefix}")).await;
        let reply = self.text().await;
        let body = reply
            .strip_prefix(&format!("40{prefix}"))
            .unwrap_or_else(|| panic!("expected a CONNECT reply for {ns}, got {reply:?}"));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        v["sid"].as_str().unwrap().to_string()
    }

    /// Sends one frame; errors are ignored (the server may have closed).
    pub async fn send_message(&mut self, m: Message) {
        let _ = within("websocket send", self.ws.send(m)).await;
    }

    pub async fn send(&mut self, text: &str) {
        self.send_message(Message::text(text)).await;
    }

    pub async fn send_binary(&mut self, data: &[u8]) {
        self.send_message(Message::binary(data.to_vec())).await;
    }

    /// The next frame that is not a ping.
    pub async fn next(&mut self) -> Got {
        within("reading a frame", async {
            loop {
                match self.ws.next().await {
                    None | Some(Err(_)) => return Got::Closed(None),
                    Some(Ok(Message::Close(frame))) => {
                        return Got::Closed(frame.map(|f| u16::from(f.code)))
                    }
                    Some(Ok(Message::Text(t))) if t.as_str() == "2" => {
                        let _ = self.ws.send(Message::text("3")).await;
                    }
                    Some(Ok(Message::Text(t))) => return Got::Text(t.as_str().to_string()),
                    Some(Ok(Message::Binary(b))) => return Got::Binary(b.to_vec()),
                    Some(Ok(_)) => {}
                }
            }
        })
        .await
    }

    /// The next text packet; panics on anything else.
    pub async fn text(&mut self) -> String {
        match self.next().await {
            Got::Text(t) => t,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    /// Reads until the server ends the connection; returns the text packets
    /// read on the way and the close code, if a close frame came.
    pub async fn until_closed(&mut self) -> (Vec<String>, Option<u16>) {
        let mut texts = Vec::new();
        loop {
            match self.next().await {
                Got::Closed(code) => return (texts, code),
                Got::Text(t) => texts.push(t),
                Got::Binary(_) => {}
            }
        }
    }

    /// Emits `42[event, arg]` with ack id `id` and waits for `43<id>[...]`;
    /// returns the ack's arguments.
    pub async fn ack_roundtrip(&mut self, event: &str, arg: &serde_json::Value, id: u64) -> String {
        let packet = serde_json::json!([event, arg]);
        self.send(&format!("42{id}{packet}")).await;
        loop {
            let t = self.text().await;
            if let Some(rest) = t.strip_prefix(&format!("43{id}")) {
                return rest.to_string();
            }
        }
    }
}
