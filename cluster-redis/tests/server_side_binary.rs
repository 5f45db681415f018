//! Server-side emits with binary, against what Node's redis adapter 8.3.0
//! published for the same operations (`fixtures/node-8.3.0.jsonl`): Node
//! writes SERVER_SIDE_EMIT as JSON, a Buffer as `{"type":"Buffer","data":
//! […]}`, in the arguments and in the answer. A roomcast node reads Node's
//! message into bytes and publishes the same bytes for the same emit and
//! the same answer.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use common::{eventually, publish, within, RedisProcess};
use futures_util::StreamExt;
use roomcast_cluster_redis::RedisCluster;
use roomcast_socketio::Server;
use tokio::sync::mpsc;

/// The messages captured for one operation, in order: (channel, bytes).
fn captured(mark: &str) -> Vec<(String, Vec<u8>)> {
    let mut current = String::new();
    let mut found = Vec::new();
    for line in include_str!("fixtures/node-8.3.0.jsonl").lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(m) = v["mark"].as_str() {
            current = m.to_string();
        } else if current == mark {
            let hex = v["hex"].as_str().unwrap();
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            found.push((v["channel"].as_str().unwrap().to_string(), bytes));
        }
    }
    assert!(!found.is_empty(), "no capture for {mark}");
    found
}

async fn node(url: &str) -> (std::sync::Arc<RedisCluster>, Server) {
    let cluster = RedisCluster::builder(url)
        .key("fixture")
        .heartbeat_interval(Duration::from_millis(100))
        .build()
        .await
        .unwrap();
    let io = Server::builder().cluster(cluster.clone()).build();
    (cluster, io)
}

/// Everything published on `channel`, from now on (a pattern
/// subscription: it does not count as a server in `PUBSUB NUMSUB`).
async fn listen(url: &str, channel: &str) -> mpsc::UnboundedReceiver<Vec<u8>> {
    let client = redis::Client::open(url).unwrap();
    let mut pubsub = client.get_async_pubsub().await.unwrap();
    pubsub.psubscribe(channel).await.unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut stream = pubsub.into_on_message();
        while let Some(msg) = stream.next().await {
            if tx.send(msg.get_payload_bytes().to_vec()).is_err() {
                return;
            }
        }
    });
    rx
}

fn uid_of(json: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(json).unwrap();
    v["uid"].as_str().unwrap().to_string()
}

type Args = (Bytes, HashMap<String, Bytes>);

#[tokio::test]
async fn node_buffers_in_server_side_emits_both_ways() {
    let Some(redis) = RedisProcess::start().await else {
        return;
    };
    let url = redis.url();
    let (ca, a) = node(&url).await;
    let (cb, b) = node(&url).await;
    eventually("two nodes", || {
        use roomcast_core::cluster::Cluster;
        ca.node_count() == 2 && cb.node_count() == 2
    })
    .await;
    let (seen_tx, mut seen) = mpsc::unbounded_channel::<(Args, serde_json::Value)>();
    b.on_server_event("bin", move |e| {
        let seen_tx = seen_tx.clone();
        async move {
            let args: Args = e.decode().expect("Node's buffers decode as bytes");
            seen_tx.send((args, e.args()[0].clone())).ok();
        }
    });
    b.on_server_event("bytes", |e| async move {
        e.ack(&Bytes::from_static(&[5, 6])).ok();
    });

    // Node → roomcast: Node's own message.
    let (channel, node_emit) = &captured("server-side-emit-binary")[0];
    assert_eq!(channel, "fixture-request#/#");
    publish(&url, channel, node_emit).await;
    let ((first, nested), raw) = within("B gets Node's emit", seen.recv()).await.unwrap();
    assert_eq!(&first[..], [1, 2, 3]);
    assert_eq!(&nested["nested"][..], [4]);
    assert_eq!(
        raw,
        serde_json::json!({"type": "Buffer", "data": [1, 2, 3]}),
        "args() shows what came"
    );

    // roomcast → wire: the bytes Node publishes for the same emit.
    let mut requests = listen(&url, "fixture-request#/#").await;
    let nested = HashMap::from([("nested".to_string(), Bytes::from_static(&[4]))]);
    a.server_side_emit("bin", &(Bytes::from_static(&[1, 2, 3]), &nested))
        .unwrap();
    let ours = within("A's emit", requests.recv()).await.unwrap();
    let ours = String::from_utf8(ours)
        .unwrap()
        .replace(ca.uid().as_str(), &uid_of(node_emit));
    assert_eq!(ours.as_bytes(), &node_emit[..], "byte for byte");
    assert!(within("B gets A's emit", seen.recv()).await.is_some());

    // An answer with binary: Node's request, our answer, Node's bytes.
    let capture = captured("server-side-emit-ack-binary");
    let ((_, node_request), (response_channel, node_answer)) = (&capture[0], &capture[1]);
    let mut responses = listen(&url, response_channel).await;
    publish(&url, "fixture-request#/#", node_request).await;
    let ours = within("B's answer", responses.recv()).await.unwrap();
    assert_eq!(&ours, node_answer, "answer byte for byte");

    // And between roomcast nodes the answer decodes back into bytes.
    let acks = a
        .server_side_emit_with_ack::<_, Bytes>("bytes", &(), Duration::from_secs(3))
        .await
        .unwrap();
    assert_eq!(acks.responses, [Bytes::from_static(&[5, 6])]);
}
