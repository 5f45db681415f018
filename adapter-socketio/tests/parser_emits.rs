//! Every kind of emit to one socket goes through the server's parser: with
//! the MessagePack parser, a plain, a volatile and a `compress(false)` emit
//! (and one with an ack) all reach the client as MessagePack binary frames,
//! never as JSON text.

mod common;

use bytes::Bytes;
use common::serve;
use roomcast_socketio::parser::{MsgPackParser, Packet, PacketType, Parser};
use roomcast_socketio::{Server, Socket};
use roomcast_testkit::ws::{ws_connect, ws_next, ws_send_binary, Got};

/// The packet in a binary frame, decoded by the MessagePack parser; panics
/// on a text frame or a close.
fn decode(got: Got) -> Packet {
    let Got::Binary(bytes) = got else {
        panic!("expected a MessagePack binary frame, got {got:?}");
    };
    MsgPackParser::new()
        .decoder()
        .decode_binary(Bytes::from(bytes))
        .expect("a MessagePack packet")
        .expect("a whole packet (no attachments)")
}

#[tokio::test]
async fn plain_volatile_uncompressed_and_acked_emits_use_the_servers_parser() {
    let io = Server::builder().parser(MsgPackParser::new()).build();
    io.on_connect(|socket: Socket| async move {
        socket.emit("plain", &1).ok();
        socket.volatile().emit("volatile", &2).ok();
        socket.compress(false).emit("uncompressed", &3).ok();
        let s = socket.clone();
        tokio::spawn(async move {
            let _ = s
                .compress(false)
                .emit_with_ack::<_, serde_json::Value>(
                    "asks",
                    &4,
                    std::time::Duration::from_secs(5),
                )
                .await;
        });
    });
    let addr = serve(&io).await;
    let mut ws = ws_connect(addr, "/socket.io/?EIO=4&transport=websocket").await;
    assert!(matches!(ws_next(&mut ws).await, Got::Text(open) if open.starts_with('0')));
    // CONNECT to "/": {type: 0, nsp: "/"} in MessagePack.
    ws_send_binary(&mut ws, b"\x82\xa4type\x00\xa3nsp\xa1/").await;
    assert_eq!(decode(ws_next(&mut ws).await).kind, PacketType::Connect);
    let mut events = Vec::new();
    for _ in 0..4 {
        let packet = decode(ws_next(&mut ws).await);
        assert_eq!(packet.kind, PacketType::Event);
        events.push((packet.event_name().map(str::to_owned), packet.id.is_some()));
    }
    assert_eq!(
        events,
        [
            (Some("plain".to_owned()), false),
            (Some("volatile".to_owned()), false),
            (Some("uncompressed".to_owned()), false),
            (Some("asks".to_owned()), true),
        ]
    );
}
