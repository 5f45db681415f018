//! A bare Engine.IO v4 server for the official protocol test suite:
//! 127.0.0.1:3000, path `/engine.io/`, pingInterval 300 ms, pingTimeout
//! 200 ms, maxPayload 1 MB, CORS for any origin; every message is echoed
//! back unchanged (text as text, binary as binary).
//!
//! `cargo run -p roomcast-examples --bin conformance-engine [port]`

use std::sync::Arc;
use std::time::Duration;

use roomcast_core::{CloseReason, Frame, Message};
use roomcast_engineio::{message_frame, Cors, Engine, EngineConfig, Handler, Socket};

struct Echo;

impl Handler for Echo {
    type Session = ();

    fn on_open(&self, socket: &Arc<Socket>) {
        tracing::info!(sid = %socket.id(), "open");
    }

    fn on_message(&self, socket: &Arc<Socket>, _: &(), message: Frame) -> Result<(), CloseReason> {
        let _ = socket.send(Message::from(message_frame(message)));
        Ok(())
    }

    fn on_close(&self, socket: &Arc<Socket>, _: &(), reason: CloseReason) {
        tracing::info!(sid = %socket.id(), %reason, "close");
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    roomcast_examples::init_tracing("info");
    let port = roomcast_examples::port_arg(3000);
    let config = EngineConfig {
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        max_payload: 1_000_000,
        cors: Some(Cors::any()),
        ..EngineConfig::default()
    };
    let engine = Engine::new(config, Echo);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("conformance-engine listening on http://127.0.0.1:{port}/engine.io/");
    engine.serve(listener).await
}
