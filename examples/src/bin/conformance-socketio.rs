//! A Socket.IO v5 server for the official protocol test suite:
//! 127.0.0.1:3000, path `/socket.io/`, pingInterval 300 ms, pingTimeout
//! 200 ms, maxPayload 1 MB, connectTimeout 1 s, CORS for any origin,
//! namespaces `/` and `/custom`. On connect it emits `auth` with the
//! handshake's auth payload; on `/`, `message` is answered with
//! `message-back` (same arguments) and `message-with-ack` is acked with the
//! same arguments (binary included).
//!
//! `cargo run -p roomcast-examples --bin conformance-socketio [port]`

use std::time::Duration;

use bytes::Bytes;
use roomcast_socketio::engineio::Cors;
use roomcast_socketio::{AckSender, Server, Socket};
use serde_json::Value;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    roomcast_examples::init_tracing("info");
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let io = Server::builder()
        .connect_timeout(Duration::from_millis(1000))
        .engine(|e| {
            e.ping_interval = Duration::from_millis(300);
            e.ping_timeout = Duration::from_millis(200);
            e.max_payload = 1_000_000;
            e.cors = Some(Cors::any());
        })
        .build();
    io.on_connect(|socket: Socket| async move {
        socket.emit("auth", &socket.handshake().auth).ok();
        // Raw arguments pass through unchanged, binary attachments included.
        socket.on_raw(
            "message",
            |socket: Socket, args: Vec<Value>, bins: Vec<Bytes>, _: AckSender| async move {
                socket.emit_raw("message-back", &args, &bins).ok();
            },
        );
        socket.on_raw(
            "message-with-ack",
            |_: Socket, args: Vec<Value>, bins: Vec<Bytes>, ack: AckSender| async move {
                ack.send_raw(&args, &bins).ok();
            },
        );
    });
    io.of("/custom").on_connect(|socket: Socket| async move {
        socket.emit("auth", &socket.handshake().auth).ok();
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("conformance-socketio listening on http://127.0.0.1:{port}/socket.io/");
    io.serve(listener).await
}
