//! The `cluster-node` example alone (`ADAPTER=memory`, no Redis): the
//! cluster contract on one node, with real `socket.io-client` clients over
//! each transport (`servers` is 1, every room operation stays on the node).

use roomcast_tests::cluster::{
    contract_checks, require_cluster_js, run_checks, ClusterNode, ClusterSpec,
};
use roomcast_tests::redis::{unique_key, Redis};

async fn contract(transport: &str) {
    if require_cluster_js().is_none() {
        return;
    }
    // Never contacted: a memory node has no Redis.
    let spec = ClusterSpec {
        redis: Redis {
            addr: "127.0.0.1:1".into(),
        },
        key: unique_key("memory"),
    };
    let node = ClusterNode::rust("rust", &spec, "memory").await;
    run_checks("contract.mjs", &[&node], transport, &[])
        .await
        .assert(&contract_checks(&["rust"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_node_contract_over_websocket() {
    contract("websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_node_contract_over_polling() {
    contract("polling").await;
}
