//! roomcast embedded in an axum app beside REST routes that broadcast to
//! Socket.IO rooms (see `roomcast_examples::embed_axum` for the routes).
//!
//! `cargo run -p roomcast-examples --bin embed-axum` serves
//! <http://localhost:3000> (`PORT`, `HOST` to change it), then e.g.
//! `curl -X POST localhost:3000/rooms/lobby/messages -H 'content-type: application/json' -d '{"text":"hi"}'`.

use std::net::SocketAddr;

use roomcast_examples::embed_axum;
use roomcast_socketio::Server;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    roomcast_examples::init_tracing("info");
    let io = Server::new();
    embed_axum::set_up_socket(&io);
    let app = embed_axum::app(io);

    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    println!("embed-axum listening on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}
