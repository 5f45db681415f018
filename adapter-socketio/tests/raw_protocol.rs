//! Raw Socket.IO v5 protocol tests: a hand-driven WebSocket client checks the
//! exact frames the server sends (CONNECT replies `40{"sid":…}` and
//! `40/chat,{"sid":…}`, CONNECT_ERROR `44/nope,{"message":"Invalid namespace"}`,
//! acks and binary packets both ways), that every kind of malformed packet
//! closes only the offending connection with `DisconnectReason::ParseError`
//! while another client keeps working, and that a connection that joins no
//! namespace is closed after `connect_timeout`.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{eventually, serve, within, Got, Raw};
use parking_lot::Mutex;
use roomcast_socketio::{AckSender, DisconnectReason, RawArgs, Server, Socket};
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// What the test server saw.
#[derive(Clone, Default)]
struct Seen {
    /// (namespace, socket id, auth) per connection, in order.
    connects: Arc<Mutex<Vec<(String, String, Value)>>>,
    /// Disconnect reason per socket id.
    disconnects: Arc<Mutex<HashMap<String, DisconnectReason>>>,
}

impl Seen {
    fn reason(&self, sid: &str) -> Option<DisconnectReason> {
        self.disconnects.lock().get(sid).copied()
    }
}

/// A server with `/` and `/chat`: records connects and disconnects; `echo`
/// acks its raw arguments back; `bin` answers with the bytes reversed.
fn server(connect_timeout: Duration) -> (Server, Seen) {
    let io = Server::builder().connect_timeout(connect_timeout).build();
    let seen = Seen::default();
    for ns in ["/", "/chat"] {
        let seen = seen.clone();
        io.of(ns).on_connect(move |socket: Socket| {
            let seen = seen.clone();
            async move {
                seen.connects.lock().push((
                    socket.ns().name().to_string(),
                    socket.id().to_string(),
                    socket.handshake().auth.clone(),
                ));
                let disconnects = seen.disconnects.clone();
                socket.on_disconnect(move |s: Socket, reason| {
                    disconnects.lock().insert(s.id().to_string(), reason);
                    async {}
                });
                socket.on_raw(
                    "echo",
                    |_: Socket, args: RawArgs, ack: AckSender| async move {
                        ack.send_raw(&args).ok();
                    },
                );
                socket.on("bin", |s: Socket, data: Bytes, _: AckSender| async move {
                    let mut v = data.to_vec();
                    v.reverse();
                    s.emit("bin", &Bytes::from(v)).ok();
                });
            }
        });
    }
    (io, seen)
}

#[tokio::test]
async fn connect_replies_carry_the_socket_id() {
    let (io, seen) = server(Duration::from_secs(45));
    let addr = serve(&io).await;
    let mut raw = Raw::open(addr).await;

    raw.send("40").await;
    let reply = raw.text().await;
    let body: Value = serde_json::from_str(reply.strip_prefix("40").unwrap()).unwrap();
    let sid = body["sid"].as_str().unwrap().to_string();
    assert_eq!(body, json!({ "sid": sid }), "{reply}");
    assert_eq!(sid.len(), 22);
    assert_ne!(
        sid, raw.eio_sid,
        "the socket id is not the engine session id"
    );

    raw.send(r#"40/chat,{"token":"abc"}"#).await;
    let reply = raw.text().await;
    let body: Value = serde_json::from_str(reply.strip_prefix("40/chat,").unwrap()).unwrap();
    let chat_sid = body["sid"].as_str().unwrap().to_string();
    assert_eq!(body, json!({ "sid": chat_sid }), "{reply}");
    assert_ne!(chat_sid, sid);

    eventually("both connects seen", || seen.connects.lock().len() == 2).await;
    let connects = seen.connects.lock().clone();
    assert_eq!(connects[0], ("/".to_string(), sid, json!({})));
    assert_eq!(
        connects[1],
        ("/chat".to_string(), chat_sid, json!({ "token": "abc" }))
    );
    assert_eq!(io.of("/chat").len(), 1);
}

#[tokio::test]
async fn unknown_namespace_gets_connect_error_and_the_connection_stays() {
    let (io, seen) = server(Duration::from_secs(45));
    let addr = serve(&io).await;
    let mut raw = Raw::open(addr).await;
    raw.send("40/nope,").await;
    assert_eq!(
        raw.text().await,
        r#"44/nope,{"message":"Invalid namespace"}"#
    );
    // The connection is still usable.
    let sid = raw.join("/").await;
    raw.send(r#"421["echo","still here"]"#).await;
    assert_eq!(raw.text().await, r#"431["still here"]"#);
    assert_eq!(seen.connects.lock().len(), 1);
    assert_eq!(seen.connects.lock()[0].1, sid);
}

#[tokio::test]
async fn acks_and_binary_both_ways() {
    let (io, _seen) = server(Duration::from_secs(45));
    let addr = serve(&io).await;
    let (mut raw, sid) = Raw::connect(addr, "/").await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let socket = io.main().socket(sid.parse().unwrap()).unwrap();

    // Client → server ack, with arguments of every JSON type.
    raw.send(r#"4212["echo","s",1.5,true,null,{"a":[1,{"b":2}]}]"#)
        .await;
    assert_eq!(
        raw.text().await,
        r#"4312["s",1.5,true,null,{"a":[1,{"b":2}]}]"#
    );

    // A relay copies the arguments' text as it came (spacing, escapes, a
    // number no f64 holds), without decoding it.
    raw.send(r#"4213[ "echo" , 1 ,{"é":"\u00e9\ud800"},1e400 ]"#)
        .await;
    assert_eq!(raw.text().await, r#"4313[ 1 ,{"é":"\u00e9\ud800"},1e400 ]"#);

    // Such a number is no reason to close: the typed `bin` listener
    // cannot read it and is skipped (it would answer otherwise), and the
    // connection goes on.
    raw.send(r#"42["bin",1e400]"#).await;
    raw.send(r#"4214["echo","still here"]"#).await;
    assert_eq!(raw.text().await, r#"4314["still here"]"#);

    // Client → server binary event; the answer is a binary event.
    raw.send(r#"451-["bin",{"_placeholder":true,"num":0}]"#)
        .await;
    raw.send_binary(&[1, 2, 3]).await;
    assert_eq!(
        raw.text().await,
        r#"451-["bin",{"_placeholder":true,"num":0}]"#
    );
    assert_eq!(raw.binary().await, vec![3, 2, 1]);

    // Binary ack from the server: the raw echo keeps the attachment.
    raw.send(r#"451-7["echo",{"_placeholder":true,"num":0}]"#)
        .await;
    raw.send_binary(&[9, 9]).await;
    assert_eq!(raw.text().await, r#"461-7[{"_placeholder":true,"num":0}]"#);
    assert_eq!(raw.binary().await, vec![9, 9]);

    // Server → client ack: the server picks the id; a binary ack answers.
    let s = socket.clone();
    tokio::spawn(async move {
        let r: Result<(String, Bytes), _> = s
            .emit_with_ack("question", &"q", Duration::from_secs(5))
            .await;
        tx.send(r.map_err(|e| e.to_string())).unwrap();
    });
    let ask = raw.text().await;
    let rest = ask.strip_prefix("42").unwrap();
    let id: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    assert!(!id.is_empty(), "{ask}");
    assert_eq!(&rest[id.len()..], r#"["question","q"]"#);
    raw.send(&format!(
        r#"461-{id}["answer",{{"_placeholder":true,"num":0}}]"#
    ))
    .await;
    raw.send_binary(&[4, 2]).await;
    let answer = within("the ack reaches the server", rx.recv())
        .await
        .unwrap();
    assert_eq!(
        answer.unwrap(),
        ("answer".to_string(), Bytes::from_static(&[4, 2]))
    );
}

enum Send {
    Text(&'static str),
    Owned(String),
    Binary(&'static [u8]),
}

#[tokio::test]
async fn malformed_packets_close_only_the_offending_connection() {
    let cases: Vec<(&str, Vec<Send>)> = vec![
        ("payload not an array", vec![Send::Text(r#"42{"a":1}"#)]),
        ("empty event array", vec![Send::Text("42[]")]),
        ("event name not first", vec![Send::Text(r#"42[{"a":1}]"#)]),
        (
            "ack id overflowing u64",
            vec![Send::Text(r#"4399999999999999999999["x"]"#)],
        ),
        ("ack without id", vec![Send::Text(r#"43["x"]"#)]),
        ("unknown packet type", vec![Send::Text("49")]),
        (
            "reserved event name",
            vec![Send::Text(r#"42["disconnect"]"#)],
        ),
        ("invalid JSON", vec![Send::Text(r#"42["a","#)]),
        // Arguments only a raw listener (`echo`) reads are checked before
        // it runs, as strictly.
        (
            "relayed: trailing comma",
            vec![Send::Text(r#"42["echo",1,]"#)],
        ),
        (
            "relayed: bad object",
            vec![Send::Text(r#"42["echo",{"a":}]"#)],
        ),
        (
            "relayed: raw control character",
            vec![Send::Text("42[\"echo\",\"a\u{1}\"]")],
        ),
        (
            "relayed: after the array",
            vec![Send::Text(r#"42["echo"]x"#)],
        ),
        (
            "relayed: nested 128 deep",
            vec![Send::Owned(format!(
                r#"42["echo",{}1{}]"#,
                "[".repeat(127),
                "]".repeat(127)
            ))],
        ),
        (
            "attachment count mismatch",
            vec![
                Send::Text(
                    r#"452-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
                ),
                Send::Binary(&[1, 2]),
                Send::Text(r#"42["after"]"#),
            ],
        ),
        (
            "binary frame with no packet pending",
            vec![Send::Binary(&[7])],
        ),
        (
            "missing attachment count",
            vec![Send::Text(r#"45["x",{"_placeholder":true,"num":0}]"#)],
        ),
        (
            "event for a namespace not joined",
            vec![Send::Text(r#"42/chat,["x"]"#)],
        ),
        (
            "second CONNECT to a joined namespace",
            vec![Send::Text("40")],
        ),
        ("invalid engine.io packet type", vec![Send::Text("x")]),
        (
            "event name over max_event_name_len (256)",
            vec![Send::Owned(format!(r#"42["{}"]"#, "e".repeat(257)))],
        ),
    ];

    let (io, seen) = server(Duration::from_secs(45));
    let addr = serve(&io).await;
    let (mut good, good_sid) = Raw::connect(addr, "/").await;

    for (i, (name, frames)) in cases.into_iter().enumerate() {
        let (mut bad, bad_sid) = Raw::connect(addr, "/").await;
        for frame in frames {
            match frame {
                Send::Text(t) => bad.send(t).await,
                Send::Owned(t) => bad.send(&t).await,
                Send::Binary(b) => bad.send_binary(b).await,
            }
        }
        let (texts, _) = bad.until_closed().await;
        assert!(
            texts.iter().all(|t| !t.starts_with("42")),
            "{name}: no event reached the bad client: {texts:?}"
        );
        eventually(&format!("{name}: the bad socket disconnects"), || {
            seen.reason(&bad_sid).is_some()
        })
        .await;
        // (An invalid Engine.IO packet is rejected by the engine, below
        // Socket.IO, with the same reason.)
        assert_eq!(
            seen.reason(&bad_sid),
            Some(DisconnectReason::ParseError),
            "{name}"
        );
        assert!(
            io.main().socket(bad_sid.parse().unwrap()).is_none(),
            "{name}"
        );

        // The good client is untouched: it gets a broadcast and an ack.
        assert_eq!(seen.reason(&good_sid), None, "{name}");
        io.emit("after", &i).unwrap();
        assert_eq!(good.text().await, format!(r#"42["after",{i}]"#), "{name}");
        good.send(&format!(r#"42{i}["echo","{name}"]"#)).await;
        assert_eq!(good.text().await, format!(r#"43{i}["{name}"]"#));
    }
    assert_eq!(io.main().len(), 1);
}

#[tokio::test]
async fn connect_timeout_closes_an_idle_connection_only() {
    let timeout = Duration::from_millis(300);
    let (io, _seen) = server(timeout);
    let addr = serve(&io).await;
    let started = Instant::now();
    let mut idle = Raw::open(addr).await;
    let (mut joined, _) = Raw::connect(addr, "/").await;

    let (texts, _) = idle.until_closed().await;
    let elapsed = started.elapsed();
    assert_eq!(
        texts,
        vec!["1".to_string()],
        "an engine close packet, then the end"
    );
    assert!(
        elapsed >= timeout - Duration::from_millis(20),
        "closed too early: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(3),
        "closed too late: {elapsed:?}"
    );

    // The connection that joined a namespace outlives the timeout.
    tokio::time::sleep(timeout).await;
    joined.send(r#"421["echo","alive"]"#).await;
    assert_eq!(joined.text().await, r#"431["alive"]"#);
    assert_eq!(io.engine().session_count(), 1);
}

#[tokio::test]
async fn client_disconnect_packet_leaves_one_namespace() {
    let (io, seen) = server(Duration::from_secs(45));
    let addr = serve(&io).await;
    let (mut raw, sid) = Raw::connect(addr, "/").await;
    let chat_sid = raw.join("/chat").await;
    raw.send("41/chat,").await;
    eventually("the /chat socket leaves", || {
        seen.reason(&chat_sid).is_some()
    })
    .await;
    assert_eq!(
        seen.reason(&chat_sid),
        Some(DisconnectReason::ClientNamespaceDisconnect)
    );
    assert!(io.of("/chat").is_empty());
    // `/` is still connected on the same connection.
    raw.send(r#"421["echo",1]"#).await;
    assert_eq!(raw.text().await, r#"431[1]"#);
    assert_eq!(seen.reason(&sid), None);

    // The server disconnecting a socket sends DISCONNECT for its namespace.
    let socket = io.main().socket(sid.parse().unwrap()).unwrap();
    socket.disconnect();
    assert_eq!(raw.text().await, "41");
    assert_eq!(
        seen.reason(&sid),
        Some(DisconnectReason::ServerNamespaceDisconnect)
    );
    // The client closing the connection: nothing else to close. A new socket on
    // `/chat` and then a close of the whole transport gives "transport close".
    let chat_again = raw.join("/chat").await;
    raw.send("1").await;
    assert!(matches!(raw.next().await, Got::Closed(_)));
    eventually("transport close", || seen.reason(&chat_again).is_some()).await;
    assert_eq!(
        seen.reason(&chat_again),
        Some(DisconnectReason::TransportClose)
    );
}
