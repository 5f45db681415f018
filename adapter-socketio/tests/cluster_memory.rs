//! Two servers linked by the in-memory cluster (`roomcast_core::cluster::
//! memory`): the broadcast operators of one node reach the sockets of the
//! other — emit to a room, emit with acks (one answer per socket, counted
//! per node), room changes, disconnects, fetching the sockets and rooms of
//! every node — and `local()` keeps an operation on its own node; nodes
//! whose clients use different parsers (JSON, MessagePack) share all that.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::{eventually, serve, within, Raw};
use roomcast_core::cluster::memory::MemoryBus;
use roomcast_core::cluster::Cluster;
use roomcast_socketio::{AckSender, Room, Server, Socket};

fn node(bus: &Arc<MemoryBus>) -> Server {
    let io = Server::builder()
        .cluster(bus.node() as Arc<dyn Cluster>)
        .build();
    io.on_connect(|socket: Socket| async move {
        socket.on(
            "join",
            |socket: Socket, room: String, ack: AckSender| async move {
                socket.join([room.as_str()]);
                ack.send(&()).ok();
            },
        );
    });
    io
}

async fn joined(addr: SocketAddr, room: &str) -> (Raw, String) {
    let (mut raw, sid) = Raw::connect(addr, "/").await;
    raw.send(&format!("421[\"join\",\"{room}\"]")).await;
    assert_eq!(raw.text().await, "431[]");
    (raw, sid)
}

#[tokio::test]
async fn broadcasts_and_room_operations_cross_nodes() {
    let bus = MemoryBus::new();
    let (a, b) = (node(&bus), node(&bus));
    let (pa, pb) = (serve(&a).await, serve(&b).await);
    let (mut on_a, sid_a) = joined(pa, "r").await;
    let (mut on_b, sid_b) = joined(pb, "r").await;
    let (mut other_b, _) = joined(pb, "elsewhere").await;

    a.to(["r"]).emit("news", "hi").unwrap();
    assert_eq!(on_a.text().await, r#"42["news","hi"]"#);
    assert_eq!(on_b.text().await, r#"42["news","hi"]"#);

    // `local()` stays on node A.
    a.local().emit("only-a", &1).unwrap();
    assert_eq!(on_a.text().await, r#"42["only-a",1]"#);
    b.to(["elsewhere"]).emit("marker", &()).unwrap();
    assert_eq!(
        other_b.text().await,
        r#"42["marker"]"#,
        "nothing from A's local emit"
    );

    // Room changes made on A apply to B's sockets.
    a.to(["r"]).sockets_join(["vip"]);
    eventually("B's socket joins vip", || {
        b.main().hub().clients_in("vip").len() == 1
    })
    .await;
    // One fetch returns the sockets of both nodes, in one type.
    let fetched = a.to(["vip"]).fetch_sockets().await;
    assert_eq!(fetched.len(), 2, "{fetched:?}");
    let (here, there): (Vec<_>, Vec<_>) = fetched.into_iter().partition(|s| s.is_local());
    let (here, remote) = (&here[0], there);
    assert_eq!(here.id(), sid_a);
    assert_eq!(remote.len(), 1);
    assert_eq!(remote[0].id(), sid_b);
    for s in [here, &remote[0]] {
        assert!(s.rooms().iter().any(|r| r.as_str() == "vip"), "{s:?}");
        assert_eq!(s.handshake()["auth"], serde_json::json!({}));
    }
    assert_eq!(a.local().to(["vip"]).fetch_sockets().await.len(), 1);

    // Rooms and nodes across the cluster.
    let rooms = a.all_rooms().await;
    for room in ["r", "vip", "elsewhere", sid_a.as_str(), sid_b.as_str()] {
        assert!(rooms.contains(&Room::from(room)), "{room} in {rooms:?}");
    }
    assert_eq!((a.node_count(), b.node_count()), (2, 2));

    // A fetched socket acts where it lives: here directly, there through
    // the cluster.
    here.join(["here"]);
    remote[0].join(["there"]);
    assert_eq!(a.main().hub().clients_in("here").len(), 1);
    eventually("B's socket joins there", || {
        b.main().hub().clients_in("there").len() == 1
    })
    .await;
    here.emit("direct", &1).unwrap();
    assert_eq!(on_a.text().await, r#"42["direct",1]"#);

    // Disconnects too.
    a.to(["vip"]).disconnect_sockets();
    assert_eq!(on_b.text().await, "41");
    eventually("B's socket gone", || b.main().len() == 1).await;
}

#[tokio::test]
async fn acks_are_collected_from_every_node() {
    let bus = MemoryBus::new();
    let (a, b) = (node(&bus), node(&bus));
    let (pa, pb) = (serve(&a).await, serve(&b).await);
    let (mut on_a, _) = joined(pa, "r").await;
    let (mut on_b, _) = joined(pb, "r").await;
    let (mut silent_b, _) = joined(pb, "r").await;

    let op = a.to(["r"]).timeout(Duration::from_millis(800));
    let acks = tokio::spawn(async move { op.emit_with_ack::<_, String>("q", &()).await });
    for (raw, answer) in [(&mut on_a, "from-a"), (&mut on_b, "from-b")] {
        let packet = raw.text().await;
        let id: String = packet
            .trim_start_matches("42")
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        assert_eq!(packet, format!("42{id}[\"q\"]"));
        raw.send(&format!("43{id}[\"{answer}\"]")).await;
    }
    let _ = silent_b.text().await;
    let acks = within("acks", acks).await.unwrap().unwrap();
    assert_eq!(acks.missing_remote, 1, "the silent socket on B");
    assert!(acks.timed_out.is_empty());
    let mut answers = acks.into_answers();
    answers.sort();
    assert_eq!(answers, ["from-a", "from-b"]);
}

/// Regression: a node used to register the ack id chosen by the sending
/// node's counter, overwriting a slot of its own that had the same number.
#[tokio::test]
async fn a_forwarded_ack_never_takes_a_local_ack_slot() {
    let bus = MemoryBus::new();
    let (a, b) = (node(&bus), node(&bus));
    let (pa, pb) = (serve(&a).await, serve(&b).await);
    let (_on_a, _) = joined(pa, "elsewhere").await;
    let (mut on_b, sid_b) = joined(pb, "r").await;
    let socket = b.main().socket(sid_b.parse().unwrap()).unwrap();

    // B waits for an answer to its own id 0...
    let local = tokio::spawn(async move {
        socket
            .emit_with_ack::<_, String>("local-q", &(), Duration::from_secs(3))
            .await
    });
    assert_eq!(on_b.text().await, r#"420["local-q"]"#);
    // ...when A, whose counter is also at 0, asks the same socket.
    let op = a.to(["r"]).timeout(Duration::from_secs(3));
    let remote = tokio::spawn(async move { op.emit_with_ack::<_, String>("remote-q", &()).await });
    let packet = on_b.text().await;
    let id: String = packet
        .trim_start_matches("42")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert_eq!(packet, format!("42{id}[\"remote-q\"]"));
    assert_ne!(id, "0", "B must not reuse A's ack id");
    on_b.send(&format!("43{id}[\"for-a\"]")).await;
    on_b.send(r#"430["for-b"]"#).await;

    let local = within("local ack", local).await.unwrap();
    assert_eq!(local.unwrap(), "for-b");
    let remote = within("remote acks", remote).await.unwrap().unwrap();
    assert_eq!(remote.into_answers(), ["for-a"]);
}

/// A node whose clients speak MessagePack, beside a JSON one: what each
/// forwards reaches the other's clients in their own format (converted
/// once per node), broadcasts with acks included.
#[tokio::test]
async fn nodes_with_different_parsers_share_broadcasts() {
    use roomcast_socketio::parser::{MsgPackParser, Packet, PacketType, Parser};
    let bus = MemoryBus::new();
    let json = node(&bus);
    let msgpack = Server::builder()
        .cluster(bus.node() as Arc<dyn Cluster>)
        .parser(MsgPackParser::new())
        .build();
    msgpack.on_connect(|socket: Socket| async move {
        socket.join(["r"]);
    });
    let (pj, pm) = (serve(&json).await, serve(&msgpack).await);
    let (mut on_json, _) = joined(pj, "r").await;

    let parser = MsgPackParser::new();
    let mut decoder = parser.decoder();
    let mut on_msgpack = Raw::open(pm).await;
    let connect = parser.encode_value(PacketType::Connect, "/", None, None, &[]);
    let roomcast_core::Frame::Binary(connect) = &connect.frames()[0] else {
        unreachable!()
    };
    on_msgpack.send_binary(connect).await;
    let mut next = async || -> Packet {
        let frame = bytes::Bytes::from(on_msgpack.binary().await);
        decoder.decode_binary(frame).unwrap().unwrap()
    };
    let reply = next().await;
    assert_eq!(reply.kind, PacketType::Connect);
    eventually("the msgpack socket is in r", || {
        msgpack.main().hub().clients_in("r").len() == 1
    })
    .await;

    // JSON node → MessagePack client, bytes inside.
    json.to(["r"])
        .emit("news", &("hi", bytes::Bytes::from_static(&[1, 2])))
        .unwrap();
    assert_eq!(
        on_json.text().await,
        r#"451-["news","hi",{"_placeholder":true,"num":0}]"#
    );
    assert_eq!(on_json.binary().await, vec![1, 2]);
    let news = next().await;
    assert_eq!(news.event_name(), Some("news"));
    let (hi, data): (String, bytes::Bytes) = news.decode_args().unwrap();
    assert_eq!((hi.as_str(), &data[..]), ("hi", &[1u8, 2][..]));

    // MessagePack node → JSON client.
    msgpack.to(["r"]).emit("back", &7).unwrap();
    assert_eq!(on_json.text().await, r#"42["back",7]"#);
    assert_eq!(next().await.args(), &[serde_json::json!(7)]);

    // A broadcast with acks from the JSON node: the MessagePack client
    // gets an ack id of its node and its answer comes back.
    let asking = json.clone();
    let acks = tokio::spawn(async move {
        asking
            .to(["r"])
            .timeout(Duration::from_secs(5))
            .emit_with_ack::<_, String>("ask", &())
            .await
    });
    let json_ask = on_json.text().await;
    let id: u64 = json_ask
        .strip_prefix("42")
        .and_then(|s| s.strip_suffix("[\"ask\"]"))
        .unwrap()
        .parse()
        .unwrap();
    on_json.send(&format!("43{id}[\"from json\"]")).await;
    let ask = next().await;
    assert_eq!(ask.event_name(), Some("ask"));
    let answer = parser.encode_value(
        PacketType::Ack,
        "/",
        ask.id,
        Some(&serde_json::json!(["from msgpack"])),
        &[],
    );
    let roomcast_core::Frame::Binary(answer) = &answer.frames()[0] else {
        unreachable!()
    };
    on_msgpack.send_binary(answer).await;
    let acks = within("the acks", acks).await.unwrap().unwrap();
    assert_eq!(acks.responses.len(), 1);
    assert_eq!(acks.responses[0].1, "from json");
    assert_eq!(acks.remote, vec!["from msgpack".to_string()]);
}
