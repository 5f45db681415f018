//! Faults: Redis restarted under two nodes, and hostile messages on the
//! cluster's channels.
//!
//! While Redis is away a node keeps serving its own clients, publishes
//! nothing (counting what it drops), and once Redis is back it subscribes
//! again on its own; garbage on any channel is skipped, counted, and never
//! reaches a client.

mod common;

use std::time::Duration;

use common::{cluster, eventually, joined, serve, server, RedisProcess};
use roomcast_core::cluster::Cluster;

#[tokio::test]
async fn redis_restart_is_survived() {
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

    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
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
        let _: i64 = redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    eventually("skipped and counted", || ca.stats().skipped >= 8).await;
    // The node still works and the client got nothing from the garbage.
    a.to(["r"]).emit("still", &()).unwrap();
    assert_eq!(on_a.text().await, r#"42["still"]"#);
    tokio::time::sleep(Duration::from_millis(50)).await;
}
