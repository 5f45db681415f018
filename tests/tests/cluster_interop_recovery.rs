//! The `cluster-node` example with `RECOVERY=1` (memory adapter, one node)
//! recovers a client whose transport was cut: same id, still in its room,
//! every event sent meanwhile received once, in order; without `RECOVERY`
//! the client comes back as a new socket (`tests/js/socketio/recovery-cluster-node.mjs`).

use std::time::Duration;

use roomcast_testkit::js::run_node_file;
use roomcast_tests::cluster::{require_cluster_js, ClusterNode, ClusterSpec};
use roomcast_tests::redis::{unique_key, Redis};
use serde_json::{json, Value};

async fn run(transport: &str, env: &[(&str, &str)]) -> Value {
    // Never contacted: a memory node has no Redis.
    let spec = ClusterSpec {
        redis: Redis {
            addr: "127.0.0.1:1".into(),
        },
        key: unique_key("recovery"),
    };
    let node = ClusterNode::rust_with_env("rust", &spec, "memory", env).await;
    let out = run_node_file(
        "socketio/recovery-cluster-node.mjs",
        &[
            ("PORT", node.port.to_string()),
            ("TRANSPORT", transport.to_string()),
            ("DEADLINE_MS", "20000".to_string()),
        ],
        Duration::from_secs(25),
    )
    .await;
    out.assert_success();
    let lines = out.json_lines();
    lines
        .into_iter()
        .find(|l| l["step"] == "result")
        .unwrap_or_else(|| panic!("no result line; node output:\n{}", node.dump()))
}

async fn recovers(transport: &str) {
    if require_cluster_js().is_none() {
        return;
    }
    let r = run(transport, &[("RECOVERY", "1")]).await;
    assert_eq!(r["recovered"], true, "{r}");
    assert_eq!(r["sameId"], true, "{r}");
    assert_eq!(
        r["payloads"],
        json!(["a", "b", "b", "b", "b", "b", "c"]),
        "{r}"
    );
}

async fn does_not_recover(transport: &str) {
    if require_cluster_js().is_none() {
        return;
    }
    let r = run(transport, &[]).await;
    assert_eq!(r["recovered"], false, "{r}");
    assert_eq!(r["sameId"], false, "{r}");
    assert_eq!(
        r["payloads"],
        json!(["a"]),
        "a new socket, not in the room: {r}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_node_with_recovery_recovers_over_websocket() {
    recovers("websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_node_with_recovery_recovers_over_polling() {
    recovers("polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_node_without_recovery_does_not_recover() {
    does_not_recover("websocket").await;
}
