//! Hardening: hostile peers while well-behaved clients keep talking.
//!
//! Ten real socket.io-client connections (node, `tests/js/hardening/steady.mjs`;
//! half WebSocket, half long-polling) exchange `ping` events with acks in
//! `/good` the whole time, while raw clients throw at the server: malformed
//! Socket.IO and Engine.IO packets, invalid UTF-8 in a WebSocket text frame,
//! oversized frames and bodies, deeply nested JSON, unknown and malformed
//! sids, duplicate concurrent GETs and overlapping POSTs, protocol-order
//! violations (an event before CONNECT, a binary frame without a binary
//! packet, `5` without a probe), a second upgrade, and garbage HTTP.
//!
//! Checked:
//! - the well-behaved clients see no error and no disconnect, and every ping
//!   is acked with its own payload;
//! - each offender gets what it deserves: the right HTTP error, or its
//!   connection closed — and, for one that had joined `/`, its socket's
//!   `on_disconnect` gets the right reason ("parse error", "transport
//!   error"); a refused upgrade leaves its polling session alive;
//! - the server's log (a tracing fmt subscriber at info, into a buffer) has
//!   exactly one concise line per offender whose session the server closed,
//!   naming its sid, none for requests refused at the HTTP level (no log
//!   amplification), and no panic or backtrace text.
//!
//! The number of offenders is printed.

mod hardening_common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hardening_common::*;
use roomcast_socketio::{AckSender, DisconnectReason, Server, Socket};
use roomcast_testkit::js::{require_js_deps, run_node_file};
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::{self, Message};

const MAX_PAYLOAD: usize = 100_000;
/// Times the whole set of offenders is thrown at the server.
const ROUNDS: usize = 3;

/// What an offender should have caused.
#[derive(Debug)]
enum Expect {
    /// Its socket in `/` is disconnected with this reason; its session is
    /// closed with one log line.
    Socket(String, String, DisconnectReason),
    /// Its session (no namespace) is closed, with one log line.
    Session(String),
    /// Its request was refused; its session (if any) stays, no log line.
    Kept(String),
    /// Refused at the HTTP level: no session touched, no log line.
    Http,
}

struct Offender {
    name: &'static str,
    expect: Expect,
}

/// Joins `/` over WebSocket, sends `frames`, and expects the server to end
/// the connection (with `code`, when given).
async fn ws_offender(
    addr: SocketAddr,
    name: &'static str,
    frames: Vec<Message>,
    code: Option<u16>,
    reason: DisconnectReason,
) -> Offender {
    let (mut raw, id) = Raw::connect(addr, "/").await;
    for f in frames {
        raw.send_message(f).await;
    }
    let (_, got) = raw.until_closed().await;
    if code.is_some() {
        assert_eq!(got, code, "{name}: close code");
    }
    Offender {
        name,
        expect: Expect::Socket(raw.eio_sid, id, reason),
    }
}

fn text(s: impl Into<String>) -> Message {
    Message::text(s.into())
}

async fn socket_offenders(addr: SocketAddr, out: &mut Vec<Offender>) {
    use DisconnectReason::{ParseError, TransportError};
    let binary_event = r#"451-["e",{"_placeholder":true,"num":0}]"#;
    let nested = format!("42[\"e\",{}1{}]", "[".repeat(5000), "]".repeat(5000));
    let invalid_utf8 = Frame::message(vec![b'4', b'2', 0xff, 0xfe], OpCode::Data(Data::Text), true);
    // Closed with 1002 and "parse error".
    let parse_errors: Vec<(&'static str, Vec<Message>)> = vec![
        ("invalid JSON", vec![text("42[\"ev\"")]),
        ("unknown packet type", vec![text("49[]")]),
        ("event data not an array", vec![text("42{\"a\":1}")]),
        ("ack without an id", vec![text("43[\"x\"]")]),
        ("empty socket.io packet", vec![text("4")]),
        ("reserved event name", vec![text("42[\"disconnect\"]")]),
        ("deeply nested JSON", vec![text(nested)]),
        (
            "absurd attachment count",
            vec![text("4599999999999999999999-[\"e\"]")],
        ),
        (
            "binary frame without a binary packet",
            vec![Message::binary(vec![1, 2])],
        ),
        (
            "text where an attachment was due",
            vec![text(binary_event), text("42[\"x\"]")],
        ),
        (
            "event for a namespace not joined",
            vec![text("42/admin,[\"x\"]")],
        ),
        ("CONNECT twice", vec![text("40")]),
        ("unknown engine.io packet type", vec![text("9")]),
        ("upgrade packet without a probe", vec![text("5")]),
    ];
    for (name, frames) in parse_errors {
        out.push(ws_offender(addr, name, frames, Some(1002), ParseError).await);
    }
    // Broken WebSocket data: "transport error".
    let name = "invalid UTF-8 in a text frame";
    let frames = vec![Message::Frame(invalid_utf8)];
    out.push(ws_offender(addr, name, frames, None, TransportError).await);
    let name = "message over max_payload";
    let frames = vec![text(format!(
        "42[\"e\",\"{}\"]",
        "x".repeat(2 * MAX_PAYLOAD)
    ))];
    out.push(ws_offender(addr, name, frames, Some(1009), TransportError).await);

    // An event before CONNECT: no socket, the session is closed.
    let mut raw = Raw::open(addr).await;
    raw.send("42[\"x\"]").await;
    assert_eq!(
        raw.until_closed().await.1,
        Some(1002),
        "event before CONNECT"
    );
    out.push(Offender {
        name: "event before CONNECT",
        expect: Expect::Session(raw.eio_sid),
    });
}

/// `keep` holds connections that must stay open until the checks are done.
async fn polling_offenders(addr: SocketAddr, out: &mut Vec<Offender>, keep: &mut Vec<Raw>) {
    // An undecodable payload.
    let (sid, id) = polling_connect(addr).await;
    let res = post(addr, &polling(&sid), b"b!!!not base64").await;
    assert_eq!(res.status, 400, "invalid payload: {res:?}");
    out.push(Offender {
        name: "invalid polling payload",
        expect: Expect::Socket(sid, id, DisconnectReason::ParseError),
    });

    // Two GETs at once: the second is refused and the session closed; the
    // held one is answered.
    let (sid, id) = polling_connect(addr).await;
    // Nothing is queued, so whichever reaches the server first is held.
    let target = polling(&sid);
    let (a, b) = within("two GETs", async {
        tokio::join!(get(addr, &target), get(addr, &target))
    })
    .await;
    let (held, refused) = if a.status == 200 { (a, b) } else { (b, a) };
    assert_eq!(held.status, 200, "the held GET: {held:?}");
    refused.assert_error(400, 3, "Bad request");
    out.push(Offender {
        name: "duplicate concurrent GETs",
        expect: Expect::Socket(sid, id, DisconnectReason::TransportError),
    });

    // Two POSTs at once: the first one's body never comes.
    let (sid, id) = polling_connect(addr).await;
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 100\r\n\r\n42",
        polling(&sid)
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let second = within("the second POST", async {
        loop {
            let res = send_polling(addr, &sid, &["42[\"echo\",1]"]).await;
            if res.status != 200 {
                return res;
            }
        }
    })
    .await;
    second.assert_error(400, 3, "Bad request");
    drop(slow);
    out.push(Offender {
        name: "overlapping POSTs",
        expect: Expect::Socket(sid, id, DisconnectReason::TransportError),
    });

    // A body over max_payload: 413, the session stays.
    let (sid, _) = polling_connect(addr).await;
    let big = format!("42[\"e\",\"{}\"]", "x".repeat(2 * MAX_PAYLOAD));
    assert_eq!(send_polling(addr, &sid, &[&big]).await.status, 413);
    out.push(Offender {
        name: "polling body over max_payload",
        expect: Expect::Kept(sid),
    });

    // `5` without a probe on the upgrade WebSocket: the WebSocket is dropped,
    // the session goes on polling.
    let (sid, _) = polling_connect(addr).await;
    let mut ws = Raw::at(addr, &eio(&format!("transport=websocket&sid={sid}"))).await;
    ws.send("5").await;
    ws.until_closed().await;
    out.push(Offender {
        name: "upgrade without a probe",
        expect: Expect::Kept(sid),
    });

    // A second upgrade of an upgraded session.
    let (sid, _) = polling_connect(addr).await;
    let mut ws = Raw::at(addr, &eio(&format!("transport=websocket&sid={sid}"))).await;
    ws.send("2probe").await;
    assert_eq!(ws.text().await, "3probe");
    ws.send("5").await;
    // As from Node: the handshake completes, then that WebSocket is closed.
    let mut again = Raw::at(addr, &eio(&format!("transport=websocket&sid={sid}"))).await;
    assert_eq!(again.until_closed().await.0, Vec::<String>::new());
    out.push(Offender {
        name: "second upgrade",
        expect: Expect::Kept(sid),
    });
    keep.push(ws);
}

async fn http_offenders(addr: SocketAddr, out: &mut Vec<Offender>) {
    let unknown = "AAAAAAAAAAAAAAAAAAAAAA";
    let errors: Vec<(&'static str, &str, String, u16, u8)> = vec![
        ("unknown sid (GET)", "GET", polling(unknown), 400, 1),
        ("unknown sid (POST)", "POST", polling(unknown), 400, 1),
        ("malformed sid", "GET", polling("..%2F..%2Fetc"), 400, 1),
        (
            "unsupported EIO",
            "GET",
            "/socket.io/?EIO=3&transport=polling".into(),
            400,
            5,
        ),
        (
            "unknown transport",
            "GET",
            eio("transport=carrier-pigeon"),
            400,
            0,
        ),
        ("no query", "GET", "/socket.io/".into(), 400, 0),
        ("POST handshake", "POST", eio("transport=polling"), 400, 2),
    ];
    for (name, method, target, status, code) in errors {
        let res = http(addr, method, &target, &[], b"42").await;
        assert_eq!(res.status, status, "{name}: {res:?}");
        assert_eq!(res.json()["code"], code, "{name}");
        out.push(Offender {
            name,
            expect: Expect::Http,
        });
    }
    match ws_connect_with(
        addr,
        &eio(&format!("transport=websocket&sid={unknown}")),
        &[],
    )
    .await
    {
        Err(tungstenite::Error::Http(res)) => assert_eq!(res.status().as_u16(), 400),
        other => panic!("websocket with an unknown sid: {:?}", other.map(|_| ())),
    }
    out.push(Offender {
        name: "unknown sid (websocket)",
        expect: Expect::Http,
    });
    let res = http(
        addr,
        "GET",
        &eio("transport=websocket"),
        &[("Upgrade", "websocket"), ("Connection", "Upgrade")],
        b"",
    )
    .await;
    res.assert_error(400, 3, "Bad request");
    out.push(Offender {
        name: "websocket upgrade without a key",
        expect: Expect::Http,
    });

    // Garbage: the server answers 4xx or hangs up, never hangs on.
    let huge_header = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "h".repeat(1 << 20)
    );
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let garbage: Vec<(&'static str, Vec<u8>)> = vec![
        ("garbage request line", b"GARBAGE\r\n\r\n".to_vec()),
        ("binary noise", noise),
        ("oversized headers", huge_header.into_bytes()),
        (
            "bad HTTP version",
            b"GET /socket.io/ HTTP/9.9\r\n\r\n".to_vec(),
        ),
    ];
    for (name, bytes) in garbage {
        let raw = raw_exchange(addr, &bytes).await;
        let head = String::from_utf8_lossy(&raw[..raw.len().min(12)]).into_owned();
        assert!(
            raw.is_empty() || head.starts_with("HTTP/1.1 4"),
            "{name}: {head:?}"
        );
        out.push(Offender {
            name,
            expect: Expect::Http,
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_peers_do_not_disturb_well_behaved_clients() {
    let Some(_) = require_js_deps() else { return };
    let log = LogBuf::default();
    tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .init();

    let io = Server::builder()
        .engine(|e| e.max_payload = MAX_PAYLOAD)
        .build();
    let reasons = Reasons::default();
    let r = reasons.clone();
    io.on_connect(move |socket: Socket| {
        record_disconnect(&socket, &r);
        async {}
    });
    let good_reasons = Reasons::default();
    let pings = Arc::new(AtomicUsize::new(0));
    let (r, p) = (good_reasons.clone(), pings.clone());
    io.of("/good").on_connect(move |socket: Socket| {
        record_disconnect(&socket, &r);
        let p = p.clone();
        socket.on("ping", move |_: Socket, v: Value, ack: AckSender| {
            p.fetch_add(1, Ordering::Relaxed);
            ack.send(&v).ok();
            async {}
        });
        async {}
    });
    let (addr, _task) = serve(&io).await;

    let node = tokio::spawn(async move {
        let env = [
            ("PORT", addr.port().to_string()),
            ("CLIENTS", "10".to_string()),
            ("DEADLINE_MS", "55000".to_string()),
        ];
        run_node_file("hardening/steady.mjs", &env, Duration::from_secs(60)).await
    });
    eventually("the 10 well-behaved clients connect", || {
        io.of("/good").len() == 10
    })
    .await;
    eventually("pings flow", || pings.load(Ordering::Relaxed) > 50).await;

    let mut offenders = Vec::new();
    let mut keep = Vec::new();
    for _ in 0..ROUNDS {
        socket_offenders(addr, &mut offenders).await;
        polling_offenders(addr, &mut offenders, &mut keep).await;
        http_offenders(addr, &mut offenders).await;
    }

    // Every offender got the right outcome on the server side.
    for o in &offenders {
        match &o.expect {
            Expect::Socket(sid, id, reason) => {
                assert_eq!(reasons.of(id).await, *reason, "{}", o.name);
                let sid = sid.parse().unwrap();
                eventually(o.name, || io.engine().socket(sid).is_none()).await;
            }
            Expect::Session(sid) => {
                let sid = sid.parse().unwrap();
                eventually(o.name, || io.engine().socket(sid).is_none()).await;
            }
            Expect::Kept(sid) => {
                assert!(
                    io.engine().socket(sid.parse().unwrap()).is_some(),
                    "{}",
                    o.name
                );
            }
            Expect::Http => {}
        }
    }

    // The well-behaved ones kept going, then stop.
    let before = pings.load(Ordering::Relaxed);
    eventually("pings still flow after the barrage", || {
        pings.load(Ordering::Relaxed) > before + 50
    })
    .await;
    assert!(good_reasons.all().is_empty(), "{:?}", good_reasons.all());
    io.of("/good").emit("stop", &()).unwrap();
    let out = within("the well-behaved clients finish", node)
        .await
        .unwrap();
    out.assert_success();
    let clients: Vec<Value> = out
        .json_lines()
        .into_iter()
        .filter(|l| l["step"] == "client")
        .collect();
    assert_eq!(clients.len(), 10, "{}", out.describe());
    let mut acked = 0;
    for c in &clients {
        assert!(c["sent"].as_u64().unwrap() > 0, "{c}");
        assert_eq!(c["acked"], c["sent"], "every ping acked: {c}");
        assert_eq!(c["wrong"], 0, "{c}");
        for list in ["ackErrors", "disconnects", "connectErrors"] {
            assert_eq!(c[list], Value::Array(vec![]), "{list}: {c}");
        }
        assert_eq!(c["connectedAtStop"], true, "{c}");
        acked += c["acked"].as_u64().unwrap();
    }

    // The log: one concise line per closed session, naming it; nothing else.
    let lines = log.lines();
    let closed: Vec<(&str, &str)> = offenders
        .iter()
        .filter_map(|o| match &o.expect {
            Expect::Socket(sid, _, _) | Expect::Session(sid) => Some((o.name, sid.as_str())),
            _ => None,
        })
        .collect();
    let kept: Vec<&str> = offenders
        .iter()
        .filter_map(|o| match &o.expect {
            Expect::Kept(sid) => Some(sid.as_str()),
            _ => None,
        })
        .collect();
    let dump = lines.join("\n");
    for (name, sid) in &closed {
        let about: Vec<&String> = lines.iter().filter(|l| l.contains(sid)).collect();
        assert_eq!(
            about.len(),
            1,
            "{name} ({sid}): {about:#?}\n--- log ---\n{dump}"
        );
    }
    for sid in &kept {
        assert!(
            !dump.contains(sid),
            "a kept session was logged: {sid}\n{dump}"
        );
    }
    assert_eq!(lines.len(), closed.len(), "log lines:\n{dump}");
    for l in &lines {
        assert!(l.len() < 400, "not concise: {l}");
        let lower = l.to_lowercase();
        assert!(
            !lower.contains("panic") && !lower.contains("backtrace"),
            "{l}"
        );
    }

    let sockets = offenders
        .iter()
        .filter(|o| matches!(o.expect, Expect::Socket(..)))
        .count();
    eprintln!(
        "barrage: {} offenders ({sockets} sockets closed with a reason, {} sessions closed, \
         {} refused requests that left their session, {} refused at the HTTP level); \
         {} log lines; 10 well-behaved clients, {acked} pings, all acked",
        offenders.len(),
        closed.len() - sockets,
        kept.len(),
        offenders.len() - closed.len() - kept.len(),
        lines.len(),
    );
    if std::env::var_os("BARRAGE_SHOW_LOG").is_some() {
        eprintln!("{dump}");
    }
}
