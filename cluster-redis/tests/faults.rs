//! Faults: Redis restarted under two nodes, and hostile messages on the
//! cluster's channels.
//!
//! While Redis is away a node keeps serving its own clients, publishes
//! nothing (counting what it drops), and once Redis is back it subscribes
//! again on its own; garbage on any channel is skipped, counted, and never
//! reaches a client. The loss and the return are each logged once per
//! node, however many reconnection attempts fail in between.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{cluster, eventually, joined, publish, serve, server, RedisProcess};
use roomcast_core::cluster::Cluster;

/// What the test's tasks log (the runtime is one thread: the subscriber
/// set for it sees every task).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Lines at `level` that contain `text` and name `node`.
    fn count(&self, level: &str, text: &str, node: &str) -> usize {
        let all = String::from_utf8_lossy(&self.0.lock().unwrap()).to_string();
        all.lines()
            .filter(|l| l.contains(level) && l.contains(text) && l.contains(node))
            .count()
    }
}

#[tokio::test]
async fn redis_restart_is_survived() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let Some(mut redis) = RedisProcess::start().await else {
        return;
    };
    let (ca, cb) = (cluster(&redis.url()).await, cluster(&redis.url()).await);
    let (a, b) = (server(ca.clone(), "a"), server(cb.clone(), "b"));
    let (pa, pb) = (serve(&a).await, serve(&b).await);
    eventually("both nodes counted", || ca.node_count() == 2).await;
    let (mut on_a, _) = joined(pa, "r").await;
    let (mut on_b, _) = joined(pb, "r").await;
    a.to(["r"]).emit("before", &()).unwrap();
    assert_eq!(on_b.text().await, r#"42["before"]"#);
    assert_eq!(on_a.text().await, r#"42["before"]"#);

    redis.stop();
    eventually("A sees the link down", || !ca.stats().connected).await;
    // Local clients are still served; what would go to B is dropped.
    let dropped = ca.stats().dropped;
    a.to(["r"]).emit("during", &()).unwrap();
    assert_eq!(on_a.text().await, r#"42["during"]"#);
    assert!(ca.stats().dropped > dropped, "{:?}", ca.stats());
    assert_eq!(ca.node_count(), 1, "only itself while Redis is away");
    // Several reconnection attempts fail meanwhile (backoff from 100 ms).
    tokio::time::sleep(Duration::from_millis(1500)).await;

    redis.restart().await;
    eventually("both back", || {
        ca.stats().connected && cb.stats().connected && ca.node_count() == 2
    })
    .await;
    assert!(ca.stats().reconnects >= 1);
    a.to(["r"]).emit("after", &()).unwrap();
    assert_eq!(
        on_b.text().await,
        r#"42["after"]"#,
        "B never saw \"during\""
    );
    assert_eq!(on_a.text().await, r#"42["after"]"#);

    for node in [ca.uid().as_str(), cb.uid().as_str()] {
        let lost = logs.count("WARN", "redis", node);
        let back = logs.count("INFO", "redis link back", node);
        assert_eq!((lost, back), (1, 1), "node {node}: lost and back once each");
    }
}

#[tokio::test]
async fn hostile_messages_are_skipped() {
    let Some(redis) = RedisProcess::start().await else {
        return;
    };
    let ca = cluster(&redis.url()).await;
    let a = server(ca.clone(), "a");
    let pa = serve(&a).await;
    let (mut on_a, _) = joined(pa, "r").await;

    let huge = vec![b'{'; 2_000_000];
    let deep = vec![0x91u8; 100_000];
    let garbage: [(&str, &[u8]); 9] = [
        ("test#/#", b"\xc1\xc1"),
        ("test#/#r#", &deep),
        (
            "test#/#",
            b"\x93\xa1x\x83\xa4type\x02\xa4data\x91\x01\xa3nsp\xa1/\x80",
        ),
        ("test-request#/#", b"{not json"),
        ("test-request#/#", br#"{"uid":"x","type":99}"#),
        ("test-request#/#", br#"{"uid":"x","type":5}"#),
        ("test-request#/#", br#"{"uid":"x","type":6,"data":7}"#),
        ("test-response#/#", br#"{"requestId":"nope","sockets":5}"#),
        ("test-request#/#", &huge),
    ];
    for (channel, payload) in garbage {
        publish(&redis.url(), channel, payload).await;
    }
    eventually("skipped and counted", || ca.stats().skipped >= 8).await;
    // The node still works and the client got nothing from the garbage.
    a.to(["r"]).emit("still", &()).unwrap();
    assert_eq!(on_a.text().await, r#"42["still"]"#);
    tokio::time::sleep(Duration::from_millis(50)).await;
}
