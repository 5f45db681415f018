//! A raw WebSocket client: tokio-tungstenite over a plain `TcpStream`,
//! read frame by frame. Nothing is answered on the test's behalf (an
//! Engine.IO ping `2` is just a text frame here; see [`Raw`](crate::Raw)
//! for a client that answers them). Every step is bounded by
//! [`STEP`].

use std::io;
use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

use crate::{within, STEP};

/// A client WebSocket over a plain TCP stream.
pub type Ws = WebSocketStream<TcpStream>;

/// The handshake response of a WebSocket connection.
pub type WsResponse = tungstenite::handshake::client::Response;

/// What a client read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    /// A text frame (a whole Engine.IO packet, e.g. `42["a"]`).
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
    /// A close frame (with its code) or the end of the stream (`None`).
    Closed(Option<u16>),
}

/// A WebSocket handshake for `target` (path and query) over `stream`, with
/// extra request headers; a handshake that takes longer than
/// [`STEP`] is an `Io` error (`TimedOut`).
pub async fn ws_over(
    stream: TcpStream,
    addr: SocketAddr,
    target: &str,
    headers: &[(&'static str, &str)],
) -> Result<(Ws, WsResponse), tungstenite::Error> {
    let mut req = format!("ws://{addr}{target}")
        .into_client_request()
        .expect("websocket request");
    for (name, value) in headers {
        req.headers_mut()
            .insert(*name, value.parse().expect("header value"));
    }
    let _ = stream.set_nodelay(true);
    let handshake = tokio_tungstenite::client_async(req, stream);
    match tokio::time::timeout(STEP, handshake).await {
        Ok(done) => done,
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "websocket handshake").into()),
    }
}

/// Opens a WebSocket to `target` with extra request headers. A failed
/// TCP connect is an `Io` error like any other.
///
/// ```no_run
/// # async fn demo(addr: std::net::SocketAddr) {
/// let origin = [("origin", "http://example.com")];
/// let (ws, res) = roomcast_testkit::ws::ws_connect_with(addr, "/ws", &origin)
///     .await
///     .unwrap();
/// # }
/// ```
pub async fn ws_connect_with(
    addr: SocketAddr,
    target: &str,
    headers: &[(&'static str, &str)],
) -> Result<(Ws, WsResponse), tungstenite::Error> {
    let stream = match tokio::time::timeout(STEP, TcpStream::connect(addr)).await {
        Ok(stream) => stream?,
        Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "tcp connect").into()),
    };
    ws_over(stream, addr, target, headers).await
}

/// Opens a WebSocket to `target`, panicking on failure.
pub async fn ws_connect(addr: SocketAddr, target: &str) -> Ws {
    ws_connect_with(addr, target, &[])
        .await
        .unwrap_or_else(|e| panic!("websocket to {target} failed: {e}"))
        .0
}

/// The HTTP status and JSON body of a refused WebSocket handshake; panics
/// when the handshake is accepted.
pub async fn ws_refused(addr: SocketAddr, target: &str) -> (u16, Value) {
    match ws_connect_with(addr, target, &[]).await {
        Ok(_) => panic!("websocket to {target} was accepted"),
        Err(tungstenite::Error::Http(res)) => {
            let body = res.body().clone().unwrap_or_default();
            let json = serde_json::from_slice(&body).unwrap_or_else(|e| {
                panic!(
                    "error body not JSON ({e}): {}",
                    String::from_utf8_lossy(&body)
                )
            });
            (res.status().as_u16(), json)
        }
        Err(e) => panic!("websocket to {target}: unexpected error {e}"),
    }
}

/// The next text, binary or close frame (WebSocket pings are answered by
/// tungstenite); an error reads as the end of the stream.
pub async fn ws_next(ws: &mut Ws) -> Got {
    within("websocket frame", async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) => return Got::Closed(None),
                Some(Ok(Message::Close(frame))) => {
                    return Got::Closed(frame.map(|f| u16::from(f.code)))
                }
                Some(Ok(Message::Text(t))) => return Got::Text(t.as_str().to_string()),
                Some(Ok(Message::Binary(b))) => return Got::Binary(b.to_vec()),
                Some(Ok(_)) => {}
            }
        }
    })
    .await
}

/// Sends a text frame; panics on failure.
pub async fn ws_send_text(ws: &mut Ws, text: &str) {
    within("websocket send", ws.send(Message::text(text)))
        .await
        .expect("websocket send");
}

/// Sends a binary frame; panics on failure.
pub async fn ws_send_binary(ws: &mut Ws, data: &[u8]) {
    within("websocket send", ws.send(Message::binary(data.to_vec())))
        .await
        .expect("websocket send");
}
