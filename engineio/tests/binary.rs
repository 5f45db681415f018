//! Binary messages both ways on both transports: over polling as `b` +
//! base64 packets in the payload (mixed with text), over WebSocket as
//! binary frames; the handler sees `Frame::Binary` with the exact bytes and
//! text stays text (UTF-8 intact).

mod common;

use common::*;
use roomcast_core::Frame;

/// Every byte value, and more than one base64 block.
fn all_bytes() -> Vec<u8> {
    (0..=255u8).chain(0..=255u8).collect()
}

#[cfg(feature = "polling")]
#[tokio::test]
async fn polling_binary_from_client_to_server_and_back() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    server.expect_open().await;
    let data = all_bytes();
    send(
        server.addr,
        id,
        &[
            Frame::binary(data.clone()),
            Frame::text("4text ✓"),
            Frame::binary(vec![]),
        ],
    )
    .await;
    assert_eq!(server.expect_message(id).await, Frame::binary(data.clone()));
    assert_eq!(server.expect_message(id).await, Frame::text("text ✓"));
    assert_eq!(server.expect_message(id).await, Frame::binary(vec![]));
    // Echoed back: binary as `b` + base64.
    let res = get(server.addr, &polling(id)).await;
    let body = res.body.clone();
    assert!(
        body.starts_with(b"b"),
        "{:?}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(
        decode_payload(&body),
        vec![
            Frame::binary(data),
            Frame::text("4text ✓"),
            Frame::binary(vec![])
        ]
    );
}

#[cfg(feature = "polling")]
#[tokio::test]
async fn polling_binary_from_server() {
    let server = TestServer::start_default().await;
    let (id, _) = polling_handshake(server.addr).await;
    let socket = server.socket(id);
    socket.send(bin(&[0xde, 0xad, 0xbe, 0xef])).unwrap();
    let res = get(server.addr, &polling(id)).await;
    assert_eq!(res.text(), "b3q2+7w==");
    // A large binary message survives the base64 round trip.
    let big: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    socket.send(bin(&big)).unwrap();
    assert_eq!(poll(server.addr, id).await, vec![Frame::binary(big)]);
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn websocket_binary_from_client_to_server_and_back() {
    let server = TestServer::start_default().await;
    let (mut ws, id, _) = ws_handshake(server.addr).await;
    server.expect_open().await;
    let data = all_bytes();
    ws_send_binary(&mut ws, &data).await;
    ws_send_text(&mut ws, "4text ✓").await;
    assert_eq!(server.expect_message(id).await, Frame::binary(data.clone()));
    assert_eq!(server.expect_message(id).await, Frame::text("text ✓"));
    // Binary comes back as a binary frame, text as text.
    assert_eq!(ws_recv(&mut ws).await, Some(Frame::binary(data)));
    assert_eq!(ws_recv(&mut ws).await, Some(Frame::text("4text ✓")));
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn websocket_binary_from_server() {
    let server = TestServer::start_default().await;
    let (mut ws, id, _) = ws_handshake(server.addr).await;
    let socket = server.socket(id);
    let big: Vec<u8> = (0..100_000u32).map(|i| (i * 13 % 256) as u8).collect();
    socket.send(bin(&[1, 2, 3])).unwrap();
    socket.send(bin(&big)).unwrap();
    assert_eq!(ws_recv(&mut ws).await, Some(Frame::binary(vec![1, 2, 3])));
    assert_eq!(ws_recv(&mut ws).await, Some(Frame::binary(big)));
}
