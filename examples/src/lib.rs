//! Runnable examples of roomcast (see `src/bin/`), and the parts of them
//! that tests drive in-process.
//!
//! - [`chapter`]: the "07 - Socket.IO" tutorial chapter in an axum app
//!   (`--bin chapter`).
//! - [`embed_axum`]: roomcast beside REST routes sharing app state
//!   (`--bin embed-axum`).
//! - [`access`]: a token-checking middleware and an Origin allow-list
//!   (`--bin access`).
//! - [`cluster_node`]: one node of a cluster (Redis, or alone in memory)
//!   answering the cluster contract the tests share with a Node server
//!   (`--bin cluster-node`).
//! - [`core_chat`]: roomcast-core alone under a line-based TCP chat
//!   (`--bin core-chat`).
//! - [`echo`]: handlers that send a socket's arguments back unchanged
//!   (the benchmark, conformance and cluster servers).

pub mod access;
pub mod chapter;
pub mod cluster_node;
pub mod core_chat;
pub mod echo;
pub mod embed_axum;

/// The port given as the first command-line argument, else `default`.
///
/// ```no_run
/// let port = roomcast_examples::port_arg(3000);
/// ```
pub fn port_arg(default: u16) -> u16 {
    std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(default)
}

/// Logs to stderr at `default` level unless `RUST_LOG` says otherwise.
pub fn init_tracing(default: &str) {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default.into()),
        )
        .init();
}
