//! A TCP chat on roomcast-core alone: no HTTP, no Socket.IO; the transport
//! (newline-delimited JSON) is `roomcast_examples::core_chat`, whose docs
//! give the line protocol.
//!
//! `cargo run -p roomcast-examples --bin core-chat` listens on
//! 127.0.0.1:7000 (`PORT`, `HOST` to change it). In two other terminals run
//! `nc 127.0.0.1 7000`, type `{"join":"lobby"}` in both, then
//! `{"say":"hello","to":"lobby"}` in one; plain lines go to everyone.

use roomcast_examples::core_chat;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    roomcast_examples::init_tracing("info");
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(7000);
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    println!("core-chat listening on {}", listener.local_addr()?);
    core_chat::serve(listener).await
}
