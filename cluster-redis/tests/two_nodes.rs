//! Two roomcast nodes over a Redis of the test's own: every operation of
//! the broadcast operators crosses from one node to the other, and the node
//! count follows nodes coming and going (a request waiting on a node that
//! stops ends early).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use common::{cluster, eventually, joined, serve, server, within, RedisProcess};
use roomcast_core::cluster::{Cluster, NodeId, RemoteHandler, Request, Response};
use roomcast_testkit::Got;
use tokio::sync::mpsc;

#[tokio::test]
async fn every_operation_crosses_nodes() {
    let Some(redis) = RedisProcess::start().await else {
        return;
    };
    let (ca, cb) = (cluster(&redis.url()).await, cluster(&redis.url()).await);
    let (a, b) = (server(ca.clone(), "a"), server(cb.clone(), "b"));
    let (pa, pb) = (serve(&a).await, serve(&b).await);
    eventually("both nodes counted", || {
        ca.node_count() == 2 && cb.node_count() == 2
    })
    .await;

    let (mut on_a, _) = joined(pa, "r").await;
    let (mut on_b, sid_b) = joined(pb, "r").await;
    let (mut other_b, _) = joined(pb, "elsewhere").await;

    // To a room (the per-room channel), to all but a room, and binary.
    a.to(["r"]).emit("news", "hi").unwrap();
    assert_eq!(on_a.text().await, r#"42["news","hi"]"#);
    assert_eq!(on_b.text().await, r#"42["news","hi"]"#);
    a.except(["r"]).emit("ex", &1).unwrap();
    assert_eq!(other_b.text().await, r#"42["ex",1]"#);
    a.to(["elsewhere"])
        .emit("bin", &bytes::Bytes::from_static(&[1, 2]))
        .unwrap();
    assert_eq!(
        other_b.text().await,
        r#"451-["bin",{"_placeholder":true,"num":0}]"#
    );
    assert_eq!(other_b.next().await, Got::Binary(vec![1, 2]));

    // `local()` stays on A; the next message shows B got nothing before it.
    a.local().emit("only-a", &1).unwrap();
    assert_eq!(on_a.text().await, r#"42["only-a",1]"#);
    a.to(["r"]).volatile().emit("marker", &()).unwrap();
    assert_eq!(
        on_b.text().await,
        r#"42["marker"]"#,
        "no local emit, no except"
    );
    assert_eq!(on_a.text().await, r#"42["marker"]"#);

    // Broadcast with acks: each node numbers its own.
    let op = a.to(["r"]).timeout(Duration::from_secs(3));
    let acks = tokio::spawn(async move { op.emit_with_ack::<_, String>("q", &()).await });
    for (raw, answer) in [(&mut on_a, "from-a"), (&mut on_b, "from-b")] {
        let packet = raw.text().await;
        let id: String = packet[2..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        assert_eq!(packet, format!("42{id}[\"q\"]"));
        raw.send(&format!("43{id}[\"{answer}\"]")).await;
    }
    let acks = within("acks", acks).await.unwrap().unwrap();
    assert!(acks.complete(), "{acks:?}");
    let mut answers = acks.into_answers();
    answers.sort();
    assert_eq!(answers, ["from-a", "from-b"]);

    // Room changes, then fetch: id, rooms, data, handshake of B's socket.
    a.to(["r"]).sockets_join(["vip"]);
    eventually("B's socket joins vip", || {
        b.main().hub().clients_in("vip").len() == 1
    })
    .await;
    let fetched = a.to(["vip"]).fetch_sockets().await;
    assert_eq!(fetched.len(), 2, "A's and B's: {fetched:?}");
    assert_eq!(fetched.iter().filter(|s| s.is_local()).count(), 1);
    let remote: Vec<_> = fetched.into_iter().filter(|s| !s.is_local()).collect();
    assert_eq!(remote[0].id(), sid_b);
    assert_eq!(remote[0].data_json(), &serde_json::json!({"node": "b"}));
    assert_eq!(remote[0].handshake()["auth"], serde_json::json!({}));
    let rooms = a.all_rooms().await;
    for room in ["r", "vip", "elsewhere", sid_b.as_str()] {
        assert!(rooms.contains(room), "{room} in {rooms:?}");
    }
    assert_eq!(a.node_count(), 2);
    a.to(["vip"]).sockets_leave(["vip"]);
    eventually("B's socket leaves vip", || {
        b.main().hub().clients_in("vip").is_empty()
    })
    .await;

    // Server-side events, with and without ack.
    b.on_server_event("whoami", |e| async move {
        e.ack(&"b").ok();
    });
    let (seen_tx, mut seen) = mpsc::channel(4);
    b.on_server_event("ping", move |e| {
        let seen_tx = seen_tx.clone();
        async move {
            let n: u32 = e.decode().unwrap();
            seen_tx.send(n).await.ok();
        }
    });
    a.server_side_emit("ping", &7).unwrap();
    assert_eq!(within("ping on B", seen.recv()).await, Some(7));
    let whoami = a
        .server_side_emit_with_ack::<_, String>("whoami", &(), Duration::from_secs(3))
        .await
        .unwrap();
    assert_eq!(
        (whoami.responses, whoami.missing),
        (vec!["b".to_string()], 0)
    );

    // A remote socket's own actions reach it on its node.
    remote[0].emit("direct", "to-b").unwrap();
    assert_eq!(on_b.text().await, r#"42["direct","to-b"]"#);
    remote[0].disconnect();
    assert_eq!(on_b.text().await, "41");
    eventually("B's socket gone", || b.main().len() == 1).await;
}

/// Answers nothing: a node that takes requests and never replies.
struct Silent;

#[async_trait]
impl RemoteHandler for Silent {
    async fn handle(&self, _: NodeId, _: Request, _: mpsc::Sender<Response>) {}
}

#[tokio::test]
async fn a_node_that_stops_is_forgotten_and_not_waited_for() {
    let Some(redis) = RedisProcess::start().await else {
        return;
    };
    let ca = cluster(&redis.url()).await;
    let a = server(ca.clone(), "a");
    let silent = cluster(&redis.url()).await;
    silent.attach("/", Arc::new(Silent));
    eventually("two nodes", || ca.node_count() == 2).await;

    let op = a.timeout(Duration::from_secs(20));
    let started = Instant::now();
    let fetch = tokio::spawn(async move { op.fetch_sockets().await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(silent);
    let found = within("fetch ends once the node is gone", fetch)
        .await
        .unwrap();
    assert!(found.is_empty());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "ended early, not at the 3 s requests timeout: {:?}",
        started.elapsed()
    );
    eventually("one node left", || ca.node_count() == 1).await;
}

/// A remote answer that comes after the cluster's requests timeout but
/// within the operator's own timeout is collected (Node waits for
/// `flags.timeout`, not `requestsTimeout`).
#[tokio::test]
async fn remote_acks_are_awaited_for_the_operators_timeout() {
    let Some(redis) = RedisProcess::start().await else {
        return;
    };
    let short = |url: String| async move {
        roomcast_cluster_redis::RedisCluster::builder(url)
            .key("test")
            .heartbeat_interval(Duration::from_millis(100))
            .requests_timeout(Duration::from_millis(300))
            .build()
            .await
            .unwrap()
    };
    let (ca, cb) = (short(redis.url()).await, short(redis.url()).await);
    let (a, b) = (server(ca.clone(), "a"), server(cb.clone(), "b"));
    let pb = serve(&b).await;
    let _ = serve(&a).await;
    eventually("both nodes counted", || ca.node_count() == 2).await;
    let (mut on_b, _) = joined(pb, "r").await;

    let op = a.to(["r"]).timeout(Duration::from_secs(3));
    let started = Instant::now();
    let acks = tokio::spawn(async move { op.emit_with_ack::<_, String>("slow", &()).await });
    let packet = on_b.text().await;
    let id: String = packet[2..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    tokio::time::sleep(Duration::from_millis(900)).await;
    on_b.send(&format!("43{id}[\"late\"]")).await;
    let acks = within("acks", acks).await.unwrap().unwrap();
    assert_eq!(acks.into_answers(), ["late"]);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "ended once the last announced answer came: {:?}",
        started.elapsed()
    );
}
