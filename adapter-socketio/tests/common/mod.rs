//! Helpers for the raw protocol tests: a server on 127.0.0.1:0; the raw
//! Socket.IO client and the deadlines are `roomcast_testkit`'s.

#![allow(dead_code)]

use std::net::SocketAddr;

use roomcast_socketio::Server;
#[allow(unused_imports)] // each test file uses a different part
pub use roomcast_testkit::{eventually, within, Got, Raw};

/// Serves `io` on a fresh local port; returns its address.
pub async fn serve(io: &Server) -> SocketAddr {
    let io = io.clone();
    roomcast_testkit::spawn_server(|l| async move { io.serve(l).await })
        .await
        .0
}
