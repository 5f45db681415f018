//! The cluster harness checked against the reference alone: two Node
//! socket.io 4.8 servers with `@socket.io/redis-adapter` (the contract in
//! `tests/js/cluster/cluster-node.mjs`) on one Redis, every contract
//! operation in both directions and on each node, with real
//! `socket.io-client` clients over each transport; and
//! `@socket.io/redis-emitter` publishing to both. If these fail, the harness
//! or the Node server is wrong, not roomcast.

use roomcast_tests::cluster::{
    contract_checks, emitter_checks, require_cluster_js, run_checks, wait_subscribed, ClusterNode,
    ClusterSpec,
};
use roomcast_tests::redis::{require_redis, unique_key};

async fn two_node_servers(test: &str) -> Option<(ClusterSpec, ClusterNode, ClusterNode)> {
    require_cluster_js()?;
    let redis = require_redis().await?;
    let spec = ClusterSpec {
        redis,
        key: unique_key(test),
    };
    let (a, b) = tokio::join!(
        ClusterNode::node("node-a", &spec),
        ClusterNode::node("node-b", &spec)
    );
    wait_subscribed(&spec, &[&a, &b]).await;
    Some((spec, a, b))
}

async fn contract(transport: &str) {
    let Some((_spec, a, b)) = two_node_servers(&format!("node-contract-{transport}")).await else {
        return;
    };
    run_checks("contract.mjs", &[&a, &b], transport, &[])
        .await
        .assert(&contract_checks(&["node-a", "node-b"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_to_node_contract_over_websocket() {
    contract("websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_to_node_contract_over_polling() {
    contract("polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_emitter_reaches_node_servers() {
    let Some((spec, a, b)) = two_node_servers("node-emitter").await else {
        return;
    };
    run_checks(
        "emitter.mjs",
        &[&a, &b],
        "websocket",
        &[("KEY", spec.key.clone()), ("REDIS_URL", spec.redis.url())],
    )
    .await
    .assert(&emitter_checks(&["node-a", "node-b"]));
}
