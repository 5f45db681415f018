//! Connection state recovery across a Redis Streams cluster: a client cut
//! from node A comes back to node B (two roomcast nodes; Node socket.io with
//! `@socket.io/redis-streams-adapter` and roomcast, both ways) and is
//! recovered there — same id, still in its room, every event sent meanwhile
//! once and in order — over WebSocket and polling; a client away longer
//! than the sessions live, one that disconnected on purpose, and a fresh
//! one with a made-up session are not (`tests/js/socketio/recovery-across.mjs`).
//! A Redis restart while a session is stored gives a fresh session and a
//! working cluster, and while Redis is down a node still serves its own
//! clients. The cluster contract holds in streams mode, Rust and Node mixed.

use std::time::Duration;

use roomcast_testkit::js::run_node_file;
use roomcast_tests::cluster::{
    require_cluster_js, wait_subscribed_streams, ClusterNode, ClusterSpec, Kind,
};
use roomcast_tests::redis::{require_redis, unique_key, OwnRedis};
use serde_json::{json, Value};

async fn node(kind: Kind, name: &str, spec: &ClusterSpec, env: &[(&str, &str)]) -> ClusterNode {
    let mut env = env.to_vec();
    if !env.iter().any(|(k, _)| *k == "RECOVERY") {
        env.push(("RECOVERY", "1"));
    }
    match kind {
        Kind::Rust => ClusterNode::rust_with_env(name, spec, "streams", &env).await,
        Kind::Node => {
            env.push(("ADAPTER", "streams"));
            ClusterNode::node_with_env(name, spec, &env).await
        }
    }
}

/// Runs the script with V starting on `a` and coming back to `b`.
async fn run(a: Kind, b: Kind, transport: &str, mode: &str, env: &[(&str, &str)]) -> Value {
    let redis = require_redis().await.expect("gated by require_cluster_js");
    let spec = ClusterSpec {
        redis,
        key: unique_key("streams"),
    };
    let na = node(a, "a", &spec, env).await;
    let nb = node(b, "b", &spec, env).await;
    wait_subscribed_streams(&spec, &[&na, &nb]).await;
    let out = run_node_file(
        "socketio/recovery-across.mjs",
        &[
            ("PORT", na.port.to_string()),
            ("PORT_B", nb.port.to_string()),
            ("TRANSPORT", transport.to_string()),
            ("MODE", mode.to_string()),
            ("AWAY_MS", "2500".to_string()),
            ("DEADLINE_MS", "20000".to_string()),
        ],
        Duration::from_secs(25),
    )
    .await;
    let dumps = format!("--- a ---\n{}\n--- b ---\n{}", na.dump(), nb.dump());
    assert!(out.success(), "{}\n{dumps}", out.describe());
    out.json_lines()
        .into_iter()
        .find(|l| l["step"] == "result")
        .unwrap_or_else(|| panic!("no result line:\n{dumps}"))
}

async fn recovers(a: Kind, b: Kind, transport: &str) {
    if require_cluster_js().is_none() || require_redis().await.is_none() {
        return;
    }
    let r = run(a, b, transport, "cut", &[]).await;
    assert_eq!(r["recovered"], true, "{a} -> {b} over {transport}: {r}");
    assert_eq!(r["sameId"], true, "{r}");
    assert_eq!(
        r["payloads"],
        json!(["a", "b", "b", "b", "b", "b", "c"]),
        "{a} -> {b} over {transport}: {r}"
    );
}

async fn not_recovered(a: Kind, b: Kind, mode: &str, env: &[(&str, &str)]) {
    if require_cluster_js().is_none() || require_redis().await.is_none() {
        return;
    }
    let r = run(a, b, "websocket", mode, env).await;
    assert_eq!(r["recovered"], false, "{mode}: {r}");
    assert_eq!(r["sameId"], false, "{mode}: {r}");
    if mode != "fresh" {
        assert_eq!(
            r["payloads"],
            json!(["a"]),
            "{mode}: a new socket, not in the room: {r}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_to_rust_recovers_over_websocket() {
    recovers(Kind::Rust, Kind::Rust, "websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_to_rust_recovers_over_polling() {
    recovers(Kind::Rust, Kind::Rust, "polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_to_node_recovers_over_websocket() {
    recovers(Kind::Rust, Kind::Node, "websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_to_node_recovers_over_polling() {
    recovers(Kind::Rust, Kind::Node, "polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_to_node_recovers_over_websocket() {
    // The reference itself, so the script's expectations are Node's.
    recovers(Kind::Node, Kind::Node, "websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn away_too_long_is_not_recovered() {
    not_recovered(
        Kind::Rust,
        Kind::Rust,
        "away",
        &[("RECOVERY_MAX_MS", "500")],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_on_purpose_is_not_recovered() {
    not_recovered(Kind::Rust, Kind::Rust, "disconnect", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_session_is_not_recovered() {
    not_recovered(Kind::Rust, Kind::Rust, "fresh", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_to_rust_recovers_over_websocket() {
    // A Node socket id has 20 characters (ours 22): `ClientId` takes both,
    // so the restored socket keeps the id the Node server gave it.
    recovers(Kind::Node, Kind::Rust, "websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_to_rust_recovers_over_polling() {
    recovers(Kind::Node, Kind::Rust, "polling").await;
}

/// The cluster contract; with recovery on, `echo` and `remote-emit` are
/// left out: every event without ack then carries its offset as a last
/// argument (on Node's servers too), which their exact comparison does not
/// expect.
fn checks(names: &[&str], recovery: bool) -> Vec<roomcast_tests::cluster::Expected> {
    roomcast_tests::cluster::contract_checks(names)
        .into_iter()
        .filter(|(check, _, _)| !(recovery && (check == "echo" || check == "remote-emit")))
        .collect()
}

async fn contract(a: Kind, b: Kind, transport: &str, recovery: bool) {
    if require_cluster_js().is_none() {
        return;
    }
    let Some(redis) = require_redis().await else {
        return;
    };
    let spec = ClusterSpec {
        redis,
        key: unique_key("streams-contract"),
    };
    let env: &[(&str, &str)] = if recovery { &[] } else { &[("RECOVERY", "0")] };
    let na = node(a, "a", &spec, env).await;
    let nb = node(b, "b", &spec, env).await;
    wait_subscribed_streams(&spec, &[&na, &nb]).await;
    roomcast_tests::cluster::run_checks("contract.mjs", &[&na, &nb], transport, &[])
        .await
        .assert(&checks(&["a", "b"], recovery));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_and_node_share_broadcasts_and_rooms_with_recovery() {
    contract(Kind::Rust, Kind::Node, "websocket", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_and_node_share_broadcasts_and_rooms_without_recovery() {
    contract(Kind::Rust, Kind::Node, "polling", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_rust_nodes_share_broadcasts_and_rooms() {
    contract(Kind::Rust, Kind::Rust, "websocket", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_loses_sessions_cleanly() {
    if require_cluster_js().is_none() {
        return;
    }
    let Some(mut own) = OwnRedis::start().await else {
        return;
    };
    let spec = ClusterSpec {
        redis: own.redis.clone(),
        key: "socket.io".into(),
    };
    let na = node(Kind::Rust, "a", &spec, &[]).await;
    let nb = node(Kind::Rust, "b", &spec, &[]).await;
    wait_subscribed_streams(&spec, &[&na, &nb]).await;
    let vars = [
        ("PORT", na.port.to_string()),
        ("PORT_B", nb.port.to_string()),
        ("TRANSPORT", "websocket".to_string()),
        ("MODE", "restart".to_string()),
        ("REDIS_URL", spec.redis.url()),
        ("DEADLINE_MS", "25000".to_string()),
    ];
    let script = run_node_file(
        "socketio/recovery-across.mjs",
        &vars,
        Duration::from_secs(30),
    );
    // The script shuts Redis down while its client is away; start it again.
    let restarter = async {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while own.is_up().await {
            assert!(
                std::time::Instant::now() < deadline,
                "redis was not shut down"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        own.restart().await;
    };
    let (out, ()) = tokio::join!(script, restarter);
    let dumps = format!("--- a ---\n{}\n--- b ---\n{}", na.dump(), nb.dump());
    assert!(out.success(), "{}\n{dumps}", out.describe());
    let r = out
        .json_lines()
        .into_iter()
        .find(|l| l["step"] == "result")
        .unwrap_or_else(|| panic!("no result line:\n{dumps}"));
    assert_eq!(r["recovered"], false, "{r}");
    assert_eq!(r["sameId"], false, "{r}");
    // Not in its old room ("x" missed), and the cluster works again ("c").
    assert_eq!(r["payloads"], json!(["a", "c"]), "{r}\n{dumps}");
}
