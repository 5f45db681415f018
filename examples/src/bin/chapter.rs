//! The "07 - Socket.IO" chapter of *JavaScript Stack from Scratch* on
//! roomcast: the chapter's `src/server/index.js`, with axum in place of
//! Express and roomcast in place of the `socket.io` package. The page
//! (`examples/chapter/public/`) runs the chapter's client in the browser
//! console; this server logs its side on stdout.
//!
//! ```text
//! bash scripts/chapter.sh            # installs the client bundle, then runs this
//! cargo run -p roomcast-examples --bin chapter
//! ```
//!
//! Then open <http://localhost:8000> and its browser console. `PORT`
//! changes the port (`0`: any free one), `HOST` the address (default
//! `127.0.0.1`, loopback only; `0.0.0.0` to open it to the network).

use std::net::IpAddr;

use roomcast_examples::chapter::{self, config::WEB_PORT, socket::set_up_socket, ClientBundle};
use roomcast_socketio::Server;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    roomcast_examples::init_tracing("warn");

    let io = Server::new();
    set_up_socket(&io);

    let dir = chapter::chapter_dir();
    if !dir.join("public/index.html").is_file() {
        eprintln!(
            "chapter: no page at {}/public (set CHAPTER_DIR to examples/chapter)",
            dir.display()
        );
        std::process::exit(1);
    }
    let client = ClientBundle::find(&dir);
    match &client {
        Some(c) => println!(
            "Serving socket.io-client {} at /socket.io/socket.io.js from {}.",
            c.version,
            c.dist.display()
        ),
        None => println!(
            "socket.io-client is not installed in {}/node_modules (run `npm ci` there): \
             the page will load it from the CDN.",
            dir.display()
        ),
    }
    let mut app = chapter::app(&io, &dir, client);
    if chapter::admin::enabled() {
        app = chapter::admin::mount(&io, app, &dir).unwrap_or_else(|e| {
            eprintln!("chapter: {e}");
            std::process::exit(2);
        });
    }

    let host: String = env_or("HOST", "127.0.0.1".to_string());
    let port: u16 = env_or("PORT", WEB_PORT);
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    let addr = listener.local_addr()?;
    let port = addr.port();
    let url_host = match addr.ip() {
        ip if ip.is_loopback() || ip.is_unspecified() => "localhost".to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    // stdout is line-buffered: each line reaches a pipe as soon as printed.
    println!(
        "Server running on port {port}. Open http://{url_host}:{port} in your browser \
         and look at its console."
    );
    axum::serve(listener, app).await
}

/// The parsed value of an environment variable, or `default` when unset.
fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v.parse().unwrap_or_else(|_| {
            eprintln!("chapter: invalid {name}={v:?}");
            std::process::exit(2);
        }),
        _ => default,
    }
}
