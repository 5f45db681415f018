//! Engine.IO over a raw WebSocket client (tokio-tungstenite over a plain
//! `TcpStream`).

use super::*;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use tokio_tungstenite::WebSocketStream;

/// A client WebSocket over a plain TCP stream.
pub type Ws = WebSocketStream<TcpStream>;

/// The handshake response of a WebSocket connection.
pub type WsResponse = tungstenite::handshake::client::Response;

/// Opens a WebSocket to `target` (path and query), with extra headers.
pub async fn ws_connect_with(
    addr: SocketAddr,
    target: &str,
    headers: &[(&'static str, &str)],
) -> Result<(Ws, WsResponse), tungstenite::Error> {
    within("websocket connect", async {
        let mut req = format!("ws://{addr}{target}")
            .into_client_request()
            .expect("websocket request");
        for (name, value) in headers {
            req.headers_mut()
                .insert(*name, value.parse().expect("header value"));
        }
        let stream = TcpStream::connect(addr).await.expect("connect");
        let _ = stream.set_nodelay(true);
        tokio_tungstenite::client_async(req, stream).await
    })
    .await
}

/// Opens a WebSocket to `target`, panicking on failure.
pub async fn ws_connect(addr: SocketAddr, target: &str) -> Ws {
    ws_connect_with(addr, target, &[])
        .await
        .unwrap_or_else(|e| panic!("websocket to {target} failed: {e}"))
        .0
}

/// The HTTP status and body of a refused WebSocket handshake.
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

/// A WebSocket handshake (`transport=websocket`, no sid): the socket, the
/// sid and the open packet.
pub async fn ws_handshake(addr: SocketAddr) -> (Ws, ClientId, Value) {
    let mut ws = ws_connect(addr, &eio("EIO=4&transport=websocket")).await;
    let first = ws_recv_text(&mut ws).await;
    let open = parse_open(&first);
    let id = sid(open["sid"].as_str().expect("sid"));
    (ws, id, open)
}

/// The upgrade URL of a session.
pub fn websocket(sid: ClientId) -> String {
    eio(&format!("EIO=4&transport=websocket&sid={sid}"))
}

/// The next text or binary frame; `None` once the connection has ended
/// (close frame, EOF or error). Panics after [`DEADLINE`].
pub async fn ws_recv(ws: &mut Ws) -> Option<Frame> {
    within("websocket frame", async {
        loop {
            match ws.next().await {
                Some(Ok(WsMessage::Text(t))) => return Some(Frame::text(t.as_str())),
                Some(Ok(WsMessage::Binary(b))) => return Some(Frame::Binary(b)),
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await
}

/// The next frame, which must be text.
pub async fn ws_recv_text(ws: &mut Ws) -> String {
    match ws_recv(ws).await {
        Some(Frame::Text(t)) => t.as_str().to_string(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// Sends a text frame.
pub async fn ws_send_text(ws: &mut Ws, text: &str) {
    within("websocket send", ws.send(WsMessage::text(text)))
        .await
        .expect("websocket send");
}

/// Sends a binary frame.
pub async fn ws_send_binary(ws: &mut Ws, data: &[u8]) {
    within("websocket send", ws.send(WsMessage::binary(data.to_vec())))
        .await
        .expect("websocket send");
}

/// Reads until the connection ends, returning the data frames seen.
pub async fn ws_until_end(ws: &mut Ws) -> Vec<Frame> {
    let mut frames = Vec::new();
    while let Some(f) = ws_recv(ws).await {
        frames.push(f);
    }
    frames
}

/// Polling session upgraded to WebSocket (probe, `5`), with the polling
/// side idle (no GET held).
pub async fn upgrade(addr: SocketAddr, sid: ClientId) -> Ws {
    let mut ws = ws_connect(addr, &websocket(sid)).await;
    ws_send_text(&mut ws, "2probe").await;
    assert_eq!(ws_recv_text(&mut ws).await, "3probe");
    ws_send_text(&mut ws, "5").await;
    ws
}
