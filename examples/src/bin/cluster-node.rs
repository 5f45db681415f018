//! One node of a Socket.IO cluster, answering the cluster contract (see
//! `roomcast_examples::cluster_node`) on `127.0.0.1:PORT`, both transports.
//!
//! ```sh
//! cargo run -p roomcast-examples --bin cluster-node 3001
//! REDIS_URL=redis://127.0.0.1:6379 KEY=socket.io cargo run -p roomcast-examples --bin cluster-node 3002
//! ADAPTER=memory cargo run -p roomcast-examples --bin cluster-node 3003
//! ```
//!
//! `ADAPTER=redis` (default) joins the cluster at `REDIS_URL` (default
//! `redis://127.0.0.1:6379`) with the key prefix `KEY` (default `socket.io`),
//! speaking `@socket.io/redis-adapter`'s protocol, so Node socket.io servers
//! with that adapter can share the cluster; `ADAPTER=streams` joins through
//! one Redis stream named `KEY`, speaking `@socket.io/redis-streams-adapter`'s
//! protocol, with recovery sessions kept in Redis (a client recovers on any
//! node); `ADAPTER=memory` is one node
//! without Redis. `NAME` is what it answers to a server-side `whoami`
//! (default `rust-<port>`). `RECOVERY=1` turns connection state recovery
//! on (sessions kept 30 s; on this node only, except with `ADAPTER=streams`). Port 0 picks a free port. Once it serves it
//! prints one JSON line: `{"listening": <port>, "name": "<name>"}`.

use roomcast_examples::cluster_node::{self, ClusterNodeConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    roomcast_examples::init_tracing("info");
    let port: u16 = match std::env::args().nth(1) {
        Some(p) => p.parse().map_err(|_| format!("PORT {p:?} is not a port"))?,
        None => 3000,
    };
    let config = ClusterNodeConfig::from_env(port)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let port = listener.local_addr()?.port();
    let config = if std::env::var_os("NAME").is_none() {
        ClusterNodeConfig {
            name: format!("rust-{port}"),
            ..config
        }
    } else {
        config
    };
    let io = cluster_node::server(&config).await?;
    tracing::info!(
        "cluster-node {} on http://127.0.0.1:{port}/socket.io/ (adapter {:?}, key {:?}, recovery {})",
        config.name,
        config.adapter,
        config.key,
        config.recovery
    );
    println!(
        "{}",
        serde_json::json!({"listening": port, "name": config.name})
    );
    io.serve(listener).await?;
    Ok(())
}
