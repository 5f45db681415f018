//! HTTP long-polling, with hand-made requests: a GET is held until data is
//! queued and then carries every pending packet in one payload (separated
//! by `\x1e`, binary as `b` + base64); a POST is delivered in order and
//! answered `ok`; overlapping GETs or POSTs get 400 and close the session
//! (transport error); an undecodable payload gets 400 and closes the
//! session (parse error).

#![cfg(feature = "polling")]

mod common;

use std::time::Duration;

use common::*;
use roomcast_core::{CloseReason, Frame, Message};
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn get_waits_for_data() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    // Nothing is queued: the GET is held.
    let pending = held_get(server.addr, id).await;
    server.socket(id).send(msg("late")).unwrap();
    let res = answer(pending).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "4late");
    assert!(res
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/plain")));
}

#[tokio::test]
async fn get_returns_every_pending_packet_in_one_payload() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    let socket = server.socket(id);
    socket.send(msg("one")).unwrap();
    socket.send(bin(&[1, 2, 3])).unwrap();
    socket.send(msg("héllo ✓")).unwrap();
    socket
        .send(Message::many(vec![
            Frame::text("4multi"),
            Frame::binary(vec![0xff, 0]),
        ]))
        .unwrap();
    let res = get(server.addr, &polling(id)).await;
    assert_eq!(res.status, 200);
    assert_eq!(
        res.body,
        "4one\x1ebAQID\x1e4héllo ✓\x1e4multi\x1eb/wA=".as_bytes()
    );
    // Nothing is left: the next GET is held again until new data.
    socket.send(msg("two")).unwrap();
    assert_eq!(poll(server.addr, id).await, vec![Frame::text("4two")]);
}

#[tokio::test]
async fn many_queued_messages_leave_in_order_in_one_response() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    let socket = server.socket(id);
    for i in 0..500 {
        socket.send(msg(&i.to_string())).unwrap();
    }
    let frames = poll(server.addr, id).await;
    let expected: Vec<Frame> = (0..500).map(|i| Frame::text(format!("4{i}"))).collect();
    assert_eq!(frames, expected);
}

#[tokio::test]
async fn post_is_delivered_in_order_and_answered_ok() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    assert_eq!(server.expect_open().await, id);
    let body = b"4first\x1e4second\x1ebAQID\x1e6\x1e4";
    let res = post(server.addr, &polling(id), body).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "ok");
    for expected in [
        Frame::text("first"),
        Frame::text("second"),
        Frame::binary(vec![1, 2, 3]),
        Frame::text(""),
    ] {
        assert_eq!(server.expect_message(id).await, expected);
    }
    // The echoes come back in order in one payload.
    let echoed = poll_until(server.addr, id, |f| f.len() >= 4).await;
    assert_eq!(
        echoed,
        vec![
            Frame::text("4first"),
            Frame::text("4second"),
            Frame::binary(vec![1, 2, 3]),
            Frame::text("4"),
        ]
    );
}

#[tokio::test]
async fn concurrent_get_is_rejected_and_closes_the_session() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    server.expect_open().await;
    let addr = server.addr;
    let first = tokio::spawn(async move { get(addr, &polling(id)).await });
    let second = tokio::spawn(async move { get(addr, &polling(id)).await });
    let (a, b) = within("both GETs", async { (first.await, second.await) }).await;
    let mut answers = [a.unwrap(), b.unwrap()];
    answers.sort_by_key(|r| r.status);
    // Whichever arrived second gets 400; the held one is answered with a
    // close packet.
    assert_eq!(answers[0].status, 200, "{answers:?}");
    assert_eq!(answers[0].text(), "1");
    answers[1].assert_error(400, 3, "Bad request");
    server
        .assert_polling_session_gone(id, CloseReason::TransportError)
        .await;
}

#[tokio::test]
async fn concurrent_post_is_rejected_and_closes_the_session() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    server.expect_open().await;
    // A POST whose chunked body never ends.
    let mut slow = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n4a\r\n",
        polling(id)
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    // Until the slow POST is being read, a second one goes through (and is
    // delivered); once it is, the second one is refused.
    let mut refused = None;
    within("an overlapping POST is refused", async {
        loop {
            let res = post(server.addr, &polling(id), b"6").await;
            if res.status == 400 {
                refused = Some(res);
                break;
            }
            assert_eq!(res.text(), "ok");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    refused.unwrap().assert_error(400, 3, "Bad request");
    server
        .assert_closed_once(id, CloseReason::TransportError, 0)
        .await;
    assert!(server.messages(id).is_empty());
}

#[tokio::test]
async fn invalid_payloads_close_the_session_with_a_parse_error() {
    let server = TestServer::start_default().await;
    let bad: [&[u8]; 6] = [
        b"",
        b"4a\x1e",
        b"\x1e4a",
        b"b!!not-base64",
        b"9unknown",
        b"4ok\x1e0{}",
    ];
    for body in bad {
        let (id, _) = polling_handshake(server.addr).await;
        assert_eq!(server.expect_open().await, id);
        let res = post(server.addr, &polling(id), body).await;
        assert_eq!(res.status, 400, "{body:?}: {res:?}");
        server
            .assert_closed_once(id, CloseReason::ParseError, 0)
            .await;
    }
    // Invalid UTF-8 in a text packet.
    let (id, _) = polling_handshake(server.addr).await;
    let res = post(server.addr, &polling(id), b"4\xff\xfe").await;
    assert_eq!(res.status, 400);
    server
        .assert_closed_once(id, CloseReason::ParseError, 0)
        .await;
}

#[tokio::test]
async fn a_held_get_is_answered_with_close_when_the_session_ends() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    let pending = held_get(server.addr, id).await;
    server.engine.close_all(CloseReason::ServerShutdown);
    let res = answer(pending).await;
    assert_eq!(res.status, 200);
    assert_eq!(decode_payload(&res.body).last(), Some(&Frame::text("1")));
    server
        .assert_closed_once(id, CloseReason::ServerShutdown, 0)
        .await;
}

#[tokio::test]
async fn an_abandoned_get_closes_the_session() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    server.expect_open().await;
    // A GET whose connection goes away before the answer.
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let req = format!("GET {} HTTP/1.1\r\nHost: x\r\n\r\n", polling(id));
    stream.write_all(req.as_bytes()).await.unwrap();
    // Held (nothing queued) until the client gives up.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(server.engine.socket(id).is_some());
    drop(stream);
    server
        .assert_closed_once(id, CloseReason::TransportError, 0)
        .await;
}
