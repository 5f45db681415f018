//! What roomcast's tests share, in one place.
//!
//! - [`wait`]: every waiting step of a test is bounded by one deadline,
//!   [`STEP`]: [`within`] awaits a future, [`eventually`] polls a condition,
//!   [`Log`] collects what handlers saw. A step that takes longer fails the
//!   test with what it was waiting for; nothing hangs.
//! - [`http`]: a raw HTTP/1.1 client, one request per connection read to
//!   the end, so a test sees exactly the bytes the server sent.
//! - [`frame`]: WebSocket client frames written byte by byte.
//! - [`ws`]: a raw WebSocket client (tokio-tungstenite over a plain
//!   `TcpStream`), frame by frame, Engine.IO pings left to the test.
//! - [`client`]: [`Raw`], an Engine.IO/Socket.IO client over that WebSocket
//!   driven by hand (open packet, namespace CONNECT, pings answered).
//! - [`js`]: the harness that runs real JavaScript clients (node,
//!   the pinned npm packages, headless chromium). Without them a test is
//!   skipped loudly, and under `CI=true` it fails.
//! - [`process`]: workspace binaries built with cargo for a test to run,
//!   and a child's output captured line by line.
//! - [`spawn_server`]: a server on 127.0.0.1:0 (test servers bind loopback
//!   only).
//!
//! The kit speaks the protocols by hand and depends on no roomcast crate.
//!
//! ```no_run
//! use roomcast_testkit::{eventually, within, Raw};
//! # async fn demo(addr: std::net::SocketAddr, joined: impl Fn() -> bool) {
//! let (mut raw, sid) = Raw::connect(addr, "/").await;
//! eventually("the socket joined", joined).await;
//! raw.send(r#"42["ping"]"#).await;
//! let reply = within("a reply", raw.text()).await;
//! # }
//! ```

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub mod client;
pub mod frame;
pub mod http;
pub mod js;
pub mod process;
pub mod wait;
pub mod ws;

pub use client::{Got, Raw};
pub use http::{get, post, HttpResponse};
pub use wait::{eventually, within, Log, STEP};

/// Binds 127.0.0.1:0 and spawns `serve(listener)`; returns the address and
/// the server's task.
///
/// ```no_run
/// # async fn demo() {
/// let (addr, task) = roomcast_testkit::spawn_server(|listener| async move {
///     let _ = listener.accept().await;
/// })
/// .await;
/// # }
/// ```
pub async fn spawn_server<F, Fut>(serve: F) -> (SocketAddr, JoinHandle<Fut::Output>)
where
    F: FnOnce(TcpListener) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    (addr, tokio::spawn(serve(listener)))
}
