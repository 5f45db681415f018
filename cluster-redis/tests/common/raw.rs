//! Helpers for the raw protocol tests: a server on 127.0.0.1:0 and a bare
//! WebSocket client (tokio-tungstenite) that speaks Engine.IO v4 by hand.

#![allow(dead_code)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use roomcast_socketio::Server;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The longest any single step of a test may take.
pub const STEP: Duration = Duration::from_secs(10);

/// Serves `io` on a fresh local port; returns the port.
pub async fn serve(io: &Server) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let io = io.clone();
    tokio::spawn(async move { io.serve(listener).await });
    port
}

/// Awaits `fut`, failing the test after [`STEP`].
pub async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(STEP, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {STEP:?}: {what}"),
    }
}

/// Polls `cond` every 5 ms until it holds, failing after [`STEP`].
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    within(what, async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
}

/// What the raw client read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    /// An Engine.IO text packet (the whole frame, e.g. `42["a"]`).
    Text(String),
    /// A binary frame (an attachment).
    Binary(Vec<u8>),
    /// A close frame, or the end of the stream.
    Closed,
}

/// A WebSocket Engine.IO client driven by hand. Pings are answered while
/// reading.
pub struct Raw {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The Engine.IO session id from the open packet.
    pub eio_sid: String,
}

impl Raw {
    /// Opens a WebSocket session at `/socket.io/` and reads the open packet.
    pub async fn open(port: u16) -> Raw {
        let url = format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket");
        let (ws, _) = within("websocket connect", tokio_tungstenite::connect_async(url))
            .await
            .expect("websocket connect");
        let mut raw = Raw {
            ws,
            eio_sid: String::new(),
        };
        let open = raw.text().await;
        let body = open.strip_prefix('0').expect("an open packet first");
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        raw.eio_sid = v["sid"].as_str().unwrap().to_string();
        raw
    }

    /// Opens a session and joins namespace `ns` (`/` or `/name`); returns
    /// the client and the socket id from the CONNECT reply.
    pub async fn connect(port: u16, ns: &str) -> (Raw, String) {
        let mut raw = Raw::open(port).await;
        let sid = raw.join(ns).await;
        (raw, sid)
    }

    /// Sends CONNECT for `ns` and returns the sid of the reply.
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

    /// Sends one text frame.
    pub async fn send(&mut self, text: &str) {
        self.ws
            .send(Message::text(text))
            .await
            .expect("websocket send");
    }

    /// Sends one binary frame.
    pub async fn send_binary(&mut self, data: &[u8]) {
        self.ws
            .send(Message::binary(data.to_vec()))
            .await
            .expect("websocket send");
    }

    /// The next frame that is not a ping (pings are answered).
    pub async fn next(&mut self) -> Got {
        within("reading a frame", async {
            loop {
                match self.ws.next().await {
                    None | Some(Err(_)) => return Got::Closed,
                    Some(Ok(Message::Close(_))) => return Got::Closed,
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

    /// The next binary frame; panics on anything else.
    pub async fn binary(&mut self) -> Vec<u8> {
        match self.next().await {
            Got::Binary(b) => b,
            other => panic!("expected a binary frame, got {other:?}"),
        }
    }

    /// Reads until the server closes the connection; returns the text
    /// packets read on the way (e.g. the Engine.IO close packet `1`).
    pub async fn until_closed(&mut self) -> Vec<String> {
        let mut texts = Vec::new();
        loop {
            match self.next().await {
                Got::Closed => return texts,
                Got::Text(t) => texts.push(t),
                Got::Binary(_) => {}
            }
        }
    }
}
