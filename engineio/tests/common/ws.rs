//! Engine.IO over a raw WebSocket (`roomcast_testkit::ws`): frames as
//! [`Frame`]s, the WebSocket handshake and the upgrade of a polling session.

use super::*;
#[allow(unused_imports)] // each test file uses a different part
pub use roomcast_testkit::ws::{
    ws_connect, ws_connect_with, ws_refused, ws_send_binary, ws_send_text, Ws, WsResponse,
};
use roomcast_testkit::ws::{ws_next, Got};

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
/// (close frame, EOF or error).
pub async fn ws_recv(ws: &mut Ws) -> Option<Frame> {
    match ws_next(ws).await {
        Got::Text(t) => Some(Frame::text(t)),
        Got::Binary(b) => Some(Frame::binary(b)),
        Got::Closed(_) => None,
    }
}

/// The next frame, which must be text.
pub async fn ws_recv_text(ws: &mut Ws) -> String {
    match ws_recv(ws).await {
        Some(Frame::Text(t)) => t.as_str().to_string(),
        other => panic!("expected a text frame, got {other:?}"),
    }
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
