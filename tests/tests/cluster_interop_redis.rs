//! A mixed cluster on one Redis: two roomcast nodes (the `cluster-node`
//! example, `ADAPTER=redis`) and the Node reference server
//! (`tests/js/cluster/cluster-node.mjs`: socket.io 4.8 +
//! `@socket.io/redis-adapter`), under a key of their own. With real
//! `socket.io-client` clients on every node (WebSocket, then polling), every
//! contract operation is checked in every direction — Rust→Rust, Rust→Node,
//! Node→Rust, and on each node — and `@socket.io/redis-emitter` publishes to
//! the clients of all three (to all, to rooms, except rooms, serverSideEmit,
//! socketsJoin/Leave, disconnectSockets). The failure message sums up the
//! checks per direction and lists each failed one.

use roomcast_tests::cluster::{
    contract_checks, emitter_checks, require_cluster_js, run_checks, wait_subscribed, ClusterNode,
    ClusterSpec,
};
use roomcast_tests::redis::{require_redis, unique_key};

const NAMES: [&str; 3] = ["rust-a", "rust-b", "node"];

struct Mixed {
    spec: ClusterSpec,
    nodes: [ClusterNode; 3],
}

impl Mixed {
    async fn start(test: &str) -> Option<Mixed> {
        Self::start_with(test, &[]).await
    }

    /// With `env` for every node (`PARSER=msgpack`).
    async fn start_with(test: &str, env: &[(&str, &str)]) -> Option<Mixed> {
        require_cluster_js()?;
        let redis = require_redis().await?;
        let spec = ClusterSpec {
            redis,
            key: unique_key(test),
        };
        let (a, b, n) = tokio::join!(
            ClusterNode::rust_with_env(NAMES[0], &spec, "redis", env),
            ClusterNode::rust_with_env(NAMES[1], &spec, "redis", env),
            ClusterNode::node_with_env(NAMES[2], &spec, env)
        );
        wait_subscribed(&spec, &[&a, &b, &n]).await;
        Some(Mixed {
            spec,
            nodes: [a, b, n],
        })
    }

    fn nodes(&self) -> Vec<&ClusterNode> {
        self.nodes.iter().collect()
    }
}

async fn contract(transport: &str) {
    let Some(cluster) = Mixed::start(&format!("mixed-contract-{transport}")).await else {
        return;
    };
    run_checks("contract.mjs", &cluster.nodes(), transport, &[])
        .await
        .assert(&contract_checks(&NAMES));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_cluster_contract_over_websocket() {
    contract("websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_cluster_contract_over_polling() {
    contract("polling").await;
}

/// Every node and client with `socket.io-msgpack-parser`: the Redis wire is
/// the same (MessagePack packet objects), the client wire is MessagePack.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_cluster_contract_with_msgpack_over_websocket() {
    let env = [("PARSER", "msgpack")];
    let Some(cluster) = Mixed::start_with("mixed-contract-msgpack", &env).await else {
        return;
    };
    run_checks(
        "contract.mjs",
        &cluster.nodes(),
        "websocket",
        &[("PARSER", "msgpack".into())],
    )
    .await
    .assert(&contract_checks(&NAMES));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_emitter_reaches_every_node() {
    let Some(cluster) = Mixed::start("mixed-emitter").await else {
        return;
    };
    run_checks(
        "emitter.mjs",
        &cluster.nodes(),
        "polling",
        &[
            ("KEY", cluster.spec.key.clone()),
            ("REDIS_URL", cluster.spec.redis.url()),
        ],
    )
    .await
    .assert(&emitter_checks(&NAMES));
}
