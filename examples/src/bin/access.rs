//! Access control: handshakes from browser pages of other sites are refused
//! by Origin (HTTP 403), sockets without a valid token by a namespace
//! middleware (CONNECT_ERROR "unauthorized"); CORS stays off unless asked.
//! See `roomcast_examples::access`.
//!
//! ```sh
//! ACCESS_TOKENS=s3cret ALLOWED_ORIGINS=http://localhost:8000 \
//!     cargo run -p roomcast-examples --bin access [port]
//! ```
//!
//! `ALLOW_NO_ORIGIN=1` lets non-browser clients (no `Origin` header) in;
//! `CORS=1` answers CORS for the allowed origins. A client then connects
//! with `io("http://127.0.0.1:3000", { auth: { token: "s3cret" } })`.

use roomcast_examples::access::{self, AccessConfig};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    roomcast_examples::init_tracing("info");
    let config = AccessConfig::from_env();
    if config.tokens.is_empty() {
        eprintln!("no ACCESS_TOKENS: every socket will be refused");
    }
    if config.origins.is_empty() && !config.allow_missing_origin {
        eprintln!("no ALLOWED_ORIGINS and no ALLOW_NO_ORIGIN=1: every handshake will be refused");
    }
    let port = roomcast_examples::port_arg(3000);
    let io = access::server(&config);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "access listening on http://127.0.0.1:{port}/socket.io/ (origins {:?}, no-origin clients {}, CORS {})",
        config.origins,
        if config.allow_missing_origin { "allowed" } else { "refused" },
        if config.cors { "on" } else { "off" },
    );
    io.serve(listener).await
}
