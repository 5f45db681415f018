//! Hardening: every size and count limit, hit on purpose by a raw client.
//!
//! - `EngineConfig::max_payload`: a polling POST over it gets 413 (and its
//!   HTTP connection is closed); a WebSocket message over it closes the
//!   connection with code 1009 ("transport error" on the server).
//! - Decoder limits (`DecoderLimits`, 10 attachments, 256-byte namespaces)
//!   and `ServerConfig::max_event_name_len` (256): one over closes the
//!   connection with "parse error" (WebSocket close 1002); exactly at the
//!   limit is accepted.
//! - `max_rooms_per_socket`: joins beyond are refused, `socket.rooms()` stays
//!   at the limit and the socket stays connected.
//! - `EngineConfig::max_sessions`: the handshake beyond (polling or
//!   WebSocket) gets 503; existing sessions are unaffected, and a slot freed
//!   is usable again.
//!
//! In every case another, healthy connection keeps working (an ack round
//! trip after the offence).

mod hardening_common;

use std::net::SocketAddr;

use hardening_common::*;
use roomcast_socketio::{AckSender, DisconnectReason, RawArgs, Server, ServerBuilder, Socket};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite;

/// A server with `echo` (acks its argument), `join` (joins a room, acks the
/// socket's room count), `bin` (acks its attachment count) and a record of
/// disconnect reasons.
async fn start(builder: ServerBuilder) -> (Server, SocketAddr, Reasons) {
    let io = builder.build();
    let reasons = Reasons::default();
    let r = reasons.clone();
    io.on_connect(move |socket: Socket| {
        record_disconnect(&socket, &r);
        async move {
            socket.on("echo", |_: Socket, v: Value, ack: AckSender| async move {
                ack.send(&v).ok();
            });
            socket.on(
                "join",
                |s: Socket, room: String, ack: AckSender| async move {
                    s.join([room.as_str()]);
                    ack.send(&s.rooms().len()).ok();
                },
            );
            socket.on_raw(
                "bin",
                |_: Socket, args: RawArgs, ack: AckSender| async move {
                    ack.send(&args.attachments().len()).ok();
                },
            );
        }
    });
    let (addr, _task) = serve(&io).await;
    (io, addr, reasons)
}

/// The healthy client still gets its answers.
async fn assert_healthy(client: &mut Raw, n: u64) {
    let answer = client.ack_roundtrip("echo", &json!(n), n).await;
    assert_eq!(answer, format!("[{n}]"), "healthy client's ack");
}

/// Reads to the end; asserts the server closed with `code`.
async fn assert_closed_with(raw: &mut Raw, code: u16) {
    let (_, got) = raw.until_closed().await;
    assert_eq!(got, Some(code), "close code");
}

#[tokio::test]
async fn max_payload_polling_post_gets_413_and_websocket_1009() {
    let (io, addr, reasons) = start(Server::builder().engine(|e| e.max_payload = 10_000)).await;
    let (mut healthy, _) = Raw::connect(addr, "/").await;

    // Polling: a body over the limit gets 413. As with the reference server
    // the session itself stays (only that request is refused).
    let (sid, _) = polling_connect(addr).await;
    let big = format!("42[\"echo\",\"{}\"]", "x".repeat(20_000));
    let res = send_polling(addr, &sid, &[&big]).await;
    assert_eq!(res.status, 413, "{res:?}");
    // Just under the limit is accepted, and answered.
    let fits = format!("421[\"echo\",\"{}\"]", "x".repeat(9_000));
    assert_eq!(send_polling(addr, &sid, &[&fits]).await.status, 200);
    let answer = within("the polling ack", async {
        loop {
            if let Some(a) = poll(addr, &sid)
                .await
                .into_iter()
                .find(|p| p.starts_with("431"))
            {
                return a;
            }
        }
    })
    .await;
    assert_eq!(answer.len(), 9_000 + "431[\"\"]".len());
    assert_healthy(&mut healthy, 1).await;

    // WebSocket: a message over the limit closes with 1009.
    let (mut offender, offender_id) = Raw::connect(addr, "/").await;
    offender
        .send(&format!("42[\"echo\",\"{}\"]", "y".repeat(20_000)))
        .await;
    assert_closed_with(&mut offender, 1009).await;
    assert_eq!(
        reasons.of(&offender_id).await,
        DisconnectReason::TransportError
    );
    assert_healthy(&mut healthy, 2).await;
    eventually("the offender's session is gone", || {
        io.engine().session_count() == 2
    })
    .await;
}

#[tokio::test]
async fn attachments_over_the_decoder_limit_close_with_parse_error() {
    let (_io, addr, reasons) = start(Server::builder()).await;
    let (mut healthy, _) = Raw::connect(addr, "/").await;

    // Exactly 10 attachments: accepted.
    let (mut ok, _) = Raw::connect(addr, "/").await;
    let placeholders: Vec<Value> = (0..10)
        .map(|n| json!({"_placeholder": true, "num": n}))
        .collect();
    let mut args = vec![json!("bin")];
    args.extend(placeholders);
    ok.send(&format!("4510-7{}", Value::Array(args))).await;
    for n in 0..10u8 {
        ok.send_binary(&[n]).await;
    }
    assert_eq!(ok.text().await, "437[10]");

    // 11: the header alone closes the connection.
    let (mut offender, offender_id) = Raw::connect(addr, "/").await;
    offender
        .send("4511-[\"bin\",{\"_placeholder\":true,\"num\":0}]")
        .await;
    assert_closed_with(&mut offender, 1002).await;
    assert_eq!(reasons.of(&offender_id).await, DisconnectReason::ParseError);
    assert_healthy(&mut healthy, 1).await;
    assert_healthy(&mut ok, 2).await;
}

#[tokio::test]
async fn namespace_over_256_bytes_closes_with_parse_error() {
    let (_io, addr, reasons) = start(Server::builder()).await;
    let (mut healthy, _) = Raw::connect(addr, "/").await;

    // 256 bytes: decoded, and refused as an unknown namespace.
    let mut ok = Raw::open(addr).await;
    let ns = format!("/{}", "n".repeat(255));
    ok.send(&format!("40{ns},")).await;
    let reply = ok.text().await;
    assert_eq!(
        reply,
        format!("44{ns},{}", json!({"message": "Invalid namespace"}))
    );

    // 257 bytes, on a connection that has joined `/`.
    let (mut offender, offender_id) = Raw::connect(addr, "/").await;
    let ns = format!("/{}", "n".repeat(256));
    offender.send(&format!("42{ns},[\"echo\",1]")).await;
    assert_closed_with(&mut offender, 1002).await;
    assert_eq!(reasons.of(&offender_id).await, DisconnectReason::ParseError);

    // And as a CONNECT on a fresh connection.
    let mut fresh = Raw::open(addr).await;
    fresh.send(&format!("40{ns},")).await;
    assert_closed_with(&mut fresh, 1002).await;

    assert_healthy(&mut healthy, 1).await;
    ok.join("/").await;
    assert_healthy(&mut ok, 2).await;
}

#[tokio::test]
async fn event_name_over_the_limit_closes_with_parse_error() {
    let io = Server::new();
    let reasons = Reasons::default();
    let seen: Log<usize> = Log::default();
    let (s, r) = (seen.clone(), reasons.clone());
    io.on_connect(move |socket: Socket| {
        record_disconnect(&socket, &r);
        let s = s.clone();
        socket.on_any(move |_, event, _| s.push(event.len()));
        async {}
    });
    let (addr, _task) = serve(&io).await;
    let (mut healthy, _) = Raw::connect(addr, "/").await;

    // 256 bytes (the default limit): handled.
    let (mut ok, _) = Raw::connect(addr, "/").await;
    ok.send(&format!("42[\"{}\"]", "e".repeat(256))).await;
    seen.wait_for("the 256-byte event", |len| *len == 256).await;

    // 257 bytes: parse error, never handled.
    let (mut offender, offender_id) = Raw::connect(addr, "/").await;
    offender.send(&format!("42[\"{}\"]", "e".repeat(257))).await;
    assert_closed_with(&mut offender, 1002).await;
    assert_eq!(reasons.of(&offender_id).await, DisconnectReason::ParseError);
    assert!(!seen.all().contains(&257), "the long event was handled");

    // The others still get events through.
    healthy.send("42[\"ping\"]").await;
    ok.send("42[\"ping\"]").await;
    eventually("both pings handled", || {
        seen.all().iter().filter(|l| **l == 4).count() == 2
    })
    .await;
}

#[tokio::test]
async fn event_name_limit_gives_parse_error_reason() {
    let (_io, addr, reasons) = start(Server::builder().max_event_name_len(16)).await;
    let (mut healthy, _) = Raw::connect(addr, "/").await;
    let (mut offender, offender_id) = Raw::connect(addr, "/").await;
    offender.send(&format!("42[\"{}\"]", "e".repeat(17))).await;
    assert_closed_with(&mut offender, 1002).await;
    assert_eq!(reasons.of(&offender_id).await, DisconnectReason::ParseError);
    assert_healthy(&mut healthy, 1).await;
}

#[tokio::test]
async fn rooms_beyond_max_rooms_per_socket_are_refused() {
    let (io, addr, reasons) = start(Server::builder().max_rooms_per_socket(5)).await;
    let (mut healthy, _) = Raw::connect(addr, "/").await;
    let (mut joiner, joiner_id) = Raw::connect(addr, "/").await;
    let mut counts = Vec::new();
    for n in 0..8u64 {
        let answer = joiner
            .ack_roundtrip("join", &json!(format!("room-{n}")), n)
            .await;
        counts.push(answer);
    }
    assert_eq!(
        counts,
        ["[2]", "[3]", "[4]", "[5]", "[5]", "[5]", "[5]", "[5]"],
        "room counts after each join (own room included)"
    );
    let id = joiner_id.parse().unwrap();
    let socket = io.main().socket(id).expect("still connected");
    let rooms: Vec<String> = socket.rooms().iter().map(|r| r.to_string()).collect();
    assert_eq!(rooms.len(), 5);
    for n in 0..4 {
        assert!(rooms.contains(&format!("room-{n}")), "{rooms:?}");
    }
    assert!(io
        .main()
        .hub()
        .select(&roomcast_core::Target::to(["room-4"]))
        .is_empty());
    assert_healthy(&mut joiner, 100).await;
    assert_healthy(&mut healthy, 101).await;
    assert!(reasons.all().is_empty(), "nobody was disconnected");
}

#[tokio::test]
async fn handshakes_beyond_max_sessions_get_503() {
    let (io, addr, _reasons) = start(Server::builder().engine(|e| e.max_sessions = 3)).await;
    let (mut a, _) = Raw::connect(addr, "/").await;
    let (b_sid, _) = polling_connect(addr).await;
    let c = Raw::open(addr).await;
    assert_eq!(io.engine().session_count(), 3);

    let res = get(addr, &eio("transport=polling")).await;
    assert_eq!(res.status, 503, "polling handshake: {res:?}");
    match ws_connect_with(addr, &eio("transport=websocket"), &[]).await {
        Err(tungstenite::Error::Http(res)) => assert_eq!(res.status().as_u16(), 503),
        Err(e) => panic!("websocket handshake: unexpected error {e}"),
        Ok(_) => panic!("websocket handshake beyond max_sessions accepted"),
    }
    assert_eq!(io.engine().session_count(), 3);

    // The existing sessions are unaffected.
    assert_healthy(&mut a, 1).await;
    let res = send_polling(addr, &b_sid, &["42[\"echo\",2]"]).await;
    assert_eq!(res.status, 200);

    // A freed slot can be used again.
    drop(c);
    eventually("a slot frees up", || io.engine().session_count() == 2).await;
    let (mut d, _) = Raw::connect(addr, "/").await;
    assert_healthy(&mut d, 3).await;
    assert_healthy(&mut a, 4).await;
}
