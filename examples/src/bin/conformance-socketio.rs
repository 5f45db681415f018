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

use roomcast_examples::echo;
use roomcast_socketio::engineio::Cors;
use roomcast_socketio::{Server, Socket};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    roomcast_examples::init_tracing("info");
    let port = roomcast_examples::port_arg(3000);
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
        echo::emit_back(&socket, "message", "message-back");
        echo::ack_back(&socket, "message-with-ack");
    });
    io.of("/custom").on_connect(|socket: Socket| async move {
        socket.emit("auth", &socket.handshake().auth).ok();
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("conformance-socketio listening on http://127.0.0.1:{port}/socket.io/");
    io.serve(listener).await
}
