//! [`Raw`]: an Engine.IO v4 / Socket.IO v5 client over a raw WebSocket,
//! driven by hand. It reads the open packet, sends namespace CONNECTs and
//! events as the test writes them, and answers Engine.IO pings (`2` with
//! `3`) while reading, so a test sees only the packets it is about. Sends
//! ignore errors (a test may well be writing to a server that is closing
//! the connection); reads report the close. Every step is bounded by
//! [`STEP`](crate::STEP).

use std::net::SocketAddr;

use futures_util::SinkExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;

use crate::within;
pub use crate::ws::Got;
use crate::ws::{ws_connect, ws_next, ws_over, Ws};

/// `/socket.io/?EIO=4&{query}`: the default Socket.IO path.
pub fn eio(query: &str) -> String {
    format!("/socket.io/?EIO=4&{query}")
}

/// A WebSocket Engine.IO client. Pings (`2`) are answered while reading.
///
/// ```no_run
/// # async fn demo(addr: std::net::SocketAddr) {
/// use roomcast_testkit::Raw;
/// let (mut raw, sid) = Raw::connect(addr, "/").await;
/// raw.send(r#"421["echo","hi"]"#).await;
/// assert_eq!(raw.text().await, r#"431["hi"]"#);
/// # }
/// ```
pub struct Raw {
    /// The WebSocket.
    pub ws: Ws,
    /// The Engine.IO session id from the open packet (empty when none was
    /// read, e.g. for an upgrade).
    pub eio_sid: String,
}

impl Raw {
    /// A WebSocket to `target`, without reading anything.
    pub async fn at(addr: SocketAddr, target: &str) -> Raw {
        Raw {
            ws: ws_connect(addr, target).await,
            eio_sid: String::new(),
        }
    }

    /// Wraps an open WebSocket and reads the open packet.
    pub async fn opened(ws: Ws) -> Raw {
        let mut raw = Raw {
            ws,
            eio_sid: String::new(),
        };
        let open = raw.text().await;
        let body = open.strip_prefix('0').expect("an open packet first");
        let v: serde_json::Value = serde_json::from_str(body).expect("open packet JSON");
        raw.eio_sid = v["sid"].as_str().expect("sid").to_string();
        raw
    }

    /// A WebSocket session at `/socket.io/` (no namespace yet).
    pub async fn open(addr: SocketAddr) -> Raw {
        let raw = Raw::at(addr, &eio("transport=websocket")).await;
        Raw::opened(raw.ws).await
    }

    /// A WebSocket session joined to `ns` (`/` or `/name`); returns it and
    /// the socket id from the CONNECT reply.
    pub async fn connect(addr: SocketAddr, ns: &str) -> (Raw, String) {
        let mut raw = Raw::open(addr).await;
        let sid = raw.join(ns).await;
        (raw, sid)
    }

    /// A WebSocket session joined to `/` whose receive buffer is `rcvbuf`
    /// bytes (no kernel autotuning: a slow or stalled reader backs up fast).
    pub async fn connect_small_buffer(addr: SocketAddr, rcvbuf: u32) -> (Raw, String) {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(rcvbuf).expect("SO_RCVBUF");
        let stream: TcpStream = within("tcp connect", socket.connect(addr))
            .await
            .expect("connect");
        let (ws, _) = ws_over(stream, addr, &eio("transport=websocket"), &[])
            .await
            .expect("websocket");
        let mut raw = Raw::opened(ws).await;
        let id = raw.join("/").await;
        (raw, id)
    }

    /// Sends CONNECT for `ns` (`/` or `/name`) and returns the socket id of
    /// the reply; panics on any other reply.
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
        let v: serde_json::Value = serde_json::from_str(body).expect("CONNECT reply JSON");
        v["sid"].as_str().expect("sid").to_string()
    }

    /// Sends one frame; errors are ignored (the server may have closed).
    pub async fn send_message(&mut self, m: Message) {
        let _ = within("websocket send", self.ws.send(m)).await;
    }

    /// Sends one text frame.
    pub async fn send(&mut self, text: &str) {
        self.send_message(Message::text(text)).await;
    }

    /// Sends one binary frame.
    pub async fn send_binary(&mut self, data: &[u8]) {
        self.send_message(Message::binary(data.to_vec())).await;
    }

    /// The next frame that is not an Engine.IO ping (pings are answered).
    pub async fn next(&mut self) -> Got {
        within("reading a frame", async {
            loop {
                match ws_next(&mut self.ws).await {
                    Got::Text(t) if t == "2" => {
                        let _ = self.ws.send(Message::text("3")).await;
                    }
                    got => return got,
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

    /// Reads until the server ends the connection; returns the text packets
    /// read on the way (e.g. the Engine.IO close packet `1`) and the close
    /// code, if a close frame came.
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

    /// Emits `42<id>[event, arg]` and waits for its ack `43<id>[...]`;
    /// returns the ack's arguments (other packets are skipped).
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
