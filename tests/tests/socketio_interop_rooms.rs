//! Interop with the real npm `socket.io-client` 4.8.4: rooms and every broadcast
//! operator, with four clients A..D in one node process (`tests/js/socketio/rooms.mjs`).
//! A is in r1, B in r1 and r2, C in r2, D in none. The test drives, in order:
//! `io.to(room)`, `io.to([a, b])` and chained `to` (a union, B once), `except`,
//! `socket.broadcast()`, `socket.to(room)` / `socket.except(room)` (the sender left
//! out), `volatile`, `local`, a socket's own room, `sockets()` / `fetch_sockets()`,
//! `sockets_join` / `sockets_leave`, `timeout(d).emit_with_ack` (one answer per
//! recipient, D named as timed out), and `disconnect_sockets()` / `close_connections()`, over
//! websocket and over polling; then
//! compares every client's exact event list and both sides' disconnect reasons.

mod socketio_common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use roomcast_socketio::{ClientId, DisconnectReason, Room, Server, Socket};
use roomcast_testkit::js::require_js_deps;
use serde_json::{json, Value};
use socketio_common::{eventually, node, step, within, Log};
use tokio::sync::mpsc;

fn rooms_of(name: &str) -> &'static [&'static str] {
    match name {
        "A" => &["r1"],
        "B" => &["r1", "r2"],
        "C" => &["r2"],
        _ => &[],
    }
}

/// `close_all`: end with `close_connections()` (closing the connections)
/// rather than `false`.
async fn rooms_and_operators(transport: &str, close_all: bool) {
    let Some(_) = require_js_deps() else { return };
    let io = Server::new();
    let (tx, mut rx) = mpsc::unbounded_channel::<(String, Socket)>();
    let reasons: Log<(String, DisconnectReason)> = Log::default();
    let r = reasons.clone();
    io.on_connect(move |socket: Socket| {
        let tx = tx.clone();
        let reasons = r.clone();
        async move {
            let name = socket.handshake().auth["name"]
                .as_str()
                .unwrap()
                .to_string();
            socket.join(rooms_of(&name).iter().copied());
            let n = name.clone();
            socket.on_disconnect(move |_: Socket, reason| {
                reasons.push((n.clone(), reason));
                async {}
            });
            tx.send((name, socket)).unwrap();
        }
    });
    let port = socketio_common::serve(&io).await;

    let driver = async {
        let mut s: HashMap<String, Socket> = HashMap::new();
        while s.len() < 4 {
            let (name, socket) = within("4 clients connect", rx.recv()).await.unwrap();
            s.insert(name, socket);
        }
        let name_of: HashMap<ClientId, String> =
            s.iter().map(|(n, sock)| (sock.id(), n.clone())).collect();
        let names = |ids: Vec<ClientId>| -> BTreeSet<String> {
            ids.iter().map(|id| name_of[id].clone()).collect()
        };
        let (a, b, c, d) = (&s["A"], &s["B"], &s["C"], &s["D"]);

        io.to(["r1"]).emit("ev", &1).unwrap();
        io.to(["r1", "r2"]).emit("ev", &2).unwrap();
        io.to(["r1"]).to(["r2"]).emit("ev", &3).unwrap();
        io.except(["r1"]).emit("ev", &4).unwrap();
        io.to(["r2"]).except(["r1"]).emit("ev", &5).unwrap();
        a.broadcast().emit("ev", &6).unwrap();
        b.to(["r1"]).emit("ev", &7).unwrap();
        b.to(["r1", "r2"]).emit("ev", &8).unwrap();
        b.except(["r2"]).emit("ev", &9).unwrap();
        io.volatile().emit("ev", &10).unwrap();
        io.local().emit("ev", &11).unwrap();
        io.to([d.id()]).emit("ev", &12).unwrap();
        io.to([a.id(), d.id()]).emit("ev", &13).unwrap();

        // Selection without sending.
        let set = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(names(io.to(["r2"]).sockets()), set(&["B", "C"]));
        assert_eq!(names(io.except(["r1"]).sockets()), set(&["C", "D"]));
        assert_eq!(names(io.sockets()), set(&["A", "B", "C", "D"]));
        assert_eq!(names(b.broadcast().sockets()), set(&["A", "C", "D"]));
        let fetched = io.to(["r1"]).fetch_sockets().await;
        assert!(fetched.iter().all(|s| s.is_local()));
        assert_eq!(
            names(fetched.iter().map(|s| s.as_local().unwrap().id()).collect()),
            set(&["A", "B"])
        );
        let mut a_rooms = vec![Room::from(a.id()), Room::from("r1")];
        a_rooms.sort();
        assert_eq!(a.rooms(), a_rooms);

        // Room actions on a selection.
        io.to(["r2"]).sockets_join(["r3"]);
        assert_eq!(names(io.to(["r3"]).sockets()), set(&["B", "C"]));
        assert!(c.rooms().contains(&Room::from("r3")));
        io.to(["r3"]).emit("ev", &14).unwrap();
        io.sockets_leave(["r3"]);
        assert!(io.to(["r3"]).sockets().is_empty());
        io.to(["r3"]).emit("ev", &15).unwrap(); // nobody

        // Broadcast acks: one answer per recipient; D never answers.
        let started = Instant::now();
        let acks = io
            .timeout(Duration::from_millis(500))
            .emit_with_ack::<_, String>("ask", &"q")
            .await
            .unwrap();
        let waited = started.elapsed();
        let answers: BTreeMap<String, String> = acks
            .responses
            .iter()
            .map(|(id, v)| (name_of[id].clone(), v.clone()))
            .collect();
        let expected: BTreeMap<String, String> = ["A", "B", "C"]
            .iter()
            .map(|n| (n.to_string(), format!("{n}:q")))
            .collect();
        assert_eq!(answers, expected);
        assert_eq!(names(acks.timed_out.clone()), set(&["D"]));
        assert!(acks.invalid.is_empty());
        assert!(!acks.complete());
        assert!(waited >= Duration::from_millis(450), "{waited:?}");

        // Every recipient answers: no waiting for the timeout.
        let started = Instant::now();
        let acks = io
            .to(["r1"])
            .timeout(Duration::from_secs(10))
            .emit_with_ack::<_, String>("ask", &"r")
            .await
            .unwrap();
        assert!(acks.complete(), "{acks:?}");
        assert_eq!(acks.responses.len(), 2);
        assert!(started.elapsed() < Duration::from_secs(5));

        io.emit("done", &()).unwrap();
        io.to(["r1"]).disconnect_sockets();
        eventually("A and B leave", || io.main().len() == 2).await;
        if close_all {
            io.close_connections();
        } else {
            io.disconnect_sockets();
        }
        eventually("everyone leaves", || io.main().is_empty()).await;
        name_of
    };

    let env = [("TRANSPORT", transport)];
    let script = node("rooms.mjs", port, &env, Duration::from_secs(40));
    let (out, name_of) = tokio::join!(script, driver);
    out.assert_success();
    let lines = out.json_lines();
    let ids = &step(&lines, "ids")["ids"];
    for (id, name) in &name_of {
        assert_eq!(ids[name], id.as_str(), "client and server agree on ids");
    }
    let ev = |n: &[i32]| n.iter().map(|n| json!(["ev", n])).collect::<Vec<_>>();
    let tail = |asks: &[&str]| {
        let mut v: Vec<Value> = asks.iter().map(|q| json!(["ask", q])).collect();
        v.push(json!(["done"]));
        v
    };
    let a = [ev(&[1, 2, 3, 7, 8, 9, 10, 11, 13]), tail(&["q", "r"])].concat();
    let b = [ev(&[1, 2, 3, 6, 10, 11, 14]), tail(&["q", "r"])].concat();
    let c = [ev(&[2, 3, 4, 5, 6, 8, 10, 11, 14]), tail(&["q"])].concat();
    let d = [ev(&[4, 6, 9, 10, 11, 12, 13]), tail(&["q"])].concat();
    let expected = json!({ "A": a, "B": b, "C": c, "D": d });
    let logs = step(&lines, "logs");
    assert_eq!(logs["logs"], expected, "{}", out.describe());
    assert_eq!(
        logs["reasons"],
        json!({ "A": ["io server disconnect"], "B": ["io server disconnect"],
                "C": ["io server disconnect"], "D": ["io server disconnect"] })
    );
    let server_reasons: BTreeMap<String, DisconnectReason> = reasons.all().into_iter().collect();
    assert_eq!(server_reasons.len(), 4);
    assert!(
        server_reasons
            .values()
            .all(|r| *r == DisconnectReason::ServerNamespaceDisconnect),
        "{server_reasons:?}"
    );
    eventually("every engine session closes", || {
        io.engine().session_count() == 0
    })
    .await;
}

#[tokio::test]
async fn rooms_and_broadcast_operators_over_websocket() {
    rooms_and_operators("websocket", true).await;
}

#[tokio::test]
async fn rooms_and_broadcast_operators_over_polling() {
    // Not `close_connections()` over polling: a known engine bug puts the
    // close packet in the same polling response as the DISCONNECT packets (see
    // the ignored `server_disconnect_all_over_polling` in
    // socketio_interop_lifecycle.rs).
    rooms_and_operators("polling", false).await;
}
