//! `permessage-deflate` on a `WsConnection`, against a client written here
//! byte by byte over an in-memory duplex stream (its compression done with
//! flate2 as a peer would): compressed messages both ways, the threshold,
//! `compress(false)`, context takeover or not, RSV1 where it is not
//! allowed, and a decompression bomb.

use std::sync::Arc;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use roomcast_core::{CloseReason, Frame, Message, OutboxConfig, Text};
use roomcast_testkit::{eventually, within};
use roomcast_transport_ws::{PerMessageDeflate, WsConfig, WsConnection};
use tokio::io::{AsyncWriteExt, DuplexStream};
use tokio::task::JoinHandle;

mod common;
use common::{client_frame, Probe};

struct Setup {
    client: DuplexStream,
    probe: Arc<Probe>,
    task: JoinHandle<CloseReason>,
}

/// A connection with `permessage-deflate` (default settings) agreed for
/// `offer` (`None`: not negotiated), taking messages of up to `max` bytes.
fn start(offer: Option<&str>, max: usize) -> Setup {
    let config = PerMessageDeflate::default();
    let agreed = offer.map(|o| config.negotiate(o).expect("the offer is accepted"));
    let (client, server) = tokio::io::duplex(1 << 20);
    let probe = Probe::new(OutboxConfig::default());
    let ws = WsConfig {
        max_message_size: max,
        ..WsConfig::default()
    };
    let task = tokio::spawn({
        let probe = probe.clone();
        async move {
            WsConnection::new(server, ws)
                .with_deflate(agreed)
                .serve(&*probe)
                .await
        }
    });
    Setup {
        client,
        probe,
        task,
    }
}

/// Compresses as a peer does (RFC 7692 §7.2.1): sync flush, tail removed.
fn deflate(c: &mut Compress, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    c.compress_vec(data, &mut out, FlushCompress::Sync).unwrap();
    assert!(out.len() < out.capacity(), "one call did it all");
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
    out.truncate(out.len() - 4);
    out
}

fn inflate(d: &mut Decompress, data: &[u8]) -> Vec<u8> {
    let mut input = data.to_vec();
    input.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut out = Vec::with_capacity(1 << 20);
    d.decompress_vec(&input, &mut out, FlushDecompress::Sync)
        .unwrap();
    out
}

/// One server frame: (rsv1, opcode, payload).
async fn read_frame(client: &mut DuplexStream) -> (bool, u8, Vec<u8>) {
    let (head, payload) = common::read_frame(client).await;
    assert_eq!(head & 0xB0, 0x80, "FIN set, no RSV2/RSV3");
    (head & 0x40 != 0, head & 0x0F, payload)
}

/// Text that compresses only so far (pseudo-random digits).
fn noisy() -> String {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let digits: String = (0..3000)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            char::from(b'0' + (x >> 60) as u8 % 10)
        })
        .collect();
    format!("42[\"n\",\"{digits}\"]")
}

fn big(tag: &str) -> String {
    format!("42[\"news\",\"{tag}{}\"]", "lorem ipsum ".repeat(200))
}

#[tokio::test]
async fn compressed_messages_both_ways_and_the_threshold() {
    let Setup {
        mut client, probe, ..
    } = start(Some("permessage-deflate"), 1 << 20);
    // Inbound: one compressed message, one compressed in fragments (RSV1 on
    // the first only), one plain.
    let mut peer = Compress::new(Compression::default(), false);
    let one = deflate(&mut peer, big("a").as_bytes());
    let two = deflate(&mut peer, big("b").as_bytes());
    let mut bytes = client_frame(true, true, 0x1, &one);
    bytes.extend(client_frame(false, true, 0x1, &two[..10]));
    bytes.extend(client_frame(true, false, 0x0, &two[10..]));
    bytes.extend(client_frame(true, false, 0x1, b"42[\"plain\"]"));
    client.write_all(&bytes).await.unwrap();
    eventually("three messages", || probe.got.lock().len() == 3).await;
    assert_eq!(
        *probe.got.lock(),
        vec![
            Frame::text(big("a")),
            Frame::text(big("b")),
            Frame::text("42[\"plain\"]")
        ]
    );

    // Outbound: at the threshold compressed (RSV1), below it plain, and a
    // compress(false) message plain whatever its size.
    let at = "x".repeat(1024);
    let below = "y".repeat(1023);
    for m in [
        Message::from(Frame::text(at.clone())),
        Message::from(Frame::text(below.clone())),
        Message::from(Frame::text(big("c"))).compress(false),
        Message::from(Frame::binary(vec![7u8; 5000])),
    ] {
        probe.outbox.push(&m).unwrap();
    }
    let mut ours = Decompress::new(false);
    let (rsv1, op, z) = read_frame(&mut client).await;
    assert!(rsv1 && op == 1 && z.len() < 100);
    assert_eq!(inflate(&mut ours, &z), at.as_bytes());
    assert_eq!(
        read_frame(&mut client).await,
        (false, 1, below.into_bytes())
    );
    assert_eq!(
        read_frame(&mut client).await,
        (false, 1, big("c").into_bytes())
    );
    let (rsv1, op, z) = read_frame(&mut client).await;
    assert!(rsv1 && op == 2);
    assert_eq!(inflate(&mut ours, &z), vec![7u8; 5000]);
}

#[tokio::test]
async fn context_takeover_or_not() {
    for (offer, takeover) in [
        ("permessage-deflate", true),
        ("permessage-deflate; server_no_context_takeover", false),
    ] {
        let Setup {
            mut client, probe, ..
        } = start(Some(offer), 1 << 20);
        // The same payload twice (two buffers, so the cache does not serve it).
        for _ in 0..2 {
            let m = Message::from(Frame::Text(Text::from(noisy())));
            probe.outbox.push(&m).unwrap();
        }
        let mut ours = Decompress::new(false);
        let (_, _, first) = read_frame(&mut client).await;
        let (_, _, second) = read_frame(&mut client).await;
        if takeover {
            // The second refers back to the first.
            assert!(second.len() < first.len() / 2, "{offer}");
            assert_eq!(inflate(&mut ours, &first), noisy().as_bytes());
            assert_eq!(inflate(&mut ours, &second), noisy().as_bytes());
        } else {
            assert_eq!(first, second, "{offer}: each message on its own");
            assert_eq!(inflate(&mut ours, &second), noisy().as_bytes());
        }
    }
}

#[tokio::test]
async fn a_broadcast_payload_is_compressed_once() {
    // Two connections on one (current-thread) runtime, the same shared
    // payload: the compressed bytes are the same, computed once (the
    // cache's own test checks the pointer; here, the wire).
    let offer = "permessage-deflate; server_no_context_takeover";
    let a = start(Some(offer), 1 << 20);
    let b = start(Some(offer), 1 << 20);
    let shared = Message::from(Frame::text(big("all")));
    for s in [&a, &b] {
        s.probe.outbox.push(&shared).unwrap();
    }
    let (mut ca, mut cb) = (a.client, b.client);
    let fa = read_frame(&mut ca).await;
    let fb = read_frame(&mut cb).await;
    assert!(fa.0);
    assert_eq!(fa, fb);
}

#[tokio::test]
async fn rsv1_where_it_is_not_allowed_closes_with_1002() {
    let payload = deflate(&mut Compress::new(Compression::default(), false), b"hi");
    let cases: Vec<(&str, Option<&str>, Vec<u8>)> = vec![
        (
            "not negotiated",
            None,
            client_frame(true, true, 0x1, &payload),
        ),
        (
            "on a ping",
            Some("permessage-deflate"),
            client_frame(true, true, 0x9, b"x"),
        ),
        (
            "on a continuation",
            Some("permessage-deflate"),
            [
                client_frame(false, true, 0x1, &payload[..1]),
                client_frame(true, true, 0x0, &payload[1..]),
            ]
            .concat(),
        ),
        (
            "corrupt data",
            Some("permessage-deflate"),
            client_frame(true, true, 0x1, &[0xff; 16]),
        ),
    ];
    for (what, offer, bytes) in cases {
        let Setup {
            mut client,
            probe,
            task,
        } = start(offer, 1 << 20);
        client.write_all(&bytes).await.unwrap();
        assert_eq!(
            read_frame(&mut client).await,
            (false, 0x8, 1002u16.to_be_bytes().to_vec()),
            "{what}"
        );
        let reason = within("the end", task).await.unwrap();
        assert_eq!(reason, CloseReason::TransportError, "{what}");
        assert!(probe.got.lock().is_empty(), "{what}");
    }
}

#[tokio::test]
async fn a_decompression_bomb_closes_with_1009() {
    // 20 MB of zeros in about 20 KB, against a 1 MB limit; then the same
    // in fragments; and with client_no_context_takeover (the thread's
    // shared decompressor).
    let zeros = vec![0u8; 20 << 20];
    let bomb = deflate(&mut Compress::new(Compression::best(), false), &zeros);
    assert!(bomb.len() < 40_000, "{}", bomb.len());
    let half = bomb.len() / 2;
    for (what, offer, bytes) in [
        (
            "whole",
            "permessage-deflate",
            client_frame(true, true, 0x2, &bomb),
        ),
        (
            "fragments",
            "permessage-deflate",
            [
                client_frame(false, true, 0x2, &bomb[..half]),
                client_frame(true, false, 0x0, &bomb[half..]),
            ]
            .concat(),
        ),
        (
            "shared decompressor",
            "permessage-deflate; client_no_context_takeover",
            client_frame(true, true, 0x2, &bomb),
        ),
    ] {
        let Setup {
            mut client,
            probe,
            task,
        } = start(Some(offer), 1_000_000);
        client.write_all(&bytes).await.unwrap();
        assert_eq!(
            read_frame(&mut client).await,
            (false, 0x8, 1009u16.to_be_bytes().to_vec()),
            "{what}"
        );
        assert_eq!(
            within("the end", task).await.unwrap(),
            CloseReason::TransportError
        );
        assert!(probe.got.lock().is_empty(), "{what}");
        assert_eq!(*probe.closed.lock(), vec![CloseReason::TransportError]);
    }
    // Just under the limit still goes through.
    let Setup {
        mut client, probe, ..
    } = start(Some("permessage-deflate"), 1_000_000);
    let fits = deflate(
        &mut Compress::new(Compression::best(), false),
        &zeros[..1_000_000],
    );
    client
        .write_all(&client_frame(true, true, 0x2, &fits))
        .await
        .unwrap();
    eventually("the message", || probe.got.lock().len() == 1).await;
    assert_eq!(probe.got.lock()[0].len(), 1_000_000);
}

#[tokio::test]
async fn compress_false_marks_the_text_frame_not_the_attachments() {
    // A differences-from-Node case (README): the packet's binary
    // attachment still follows the threshold.
    let Setup {
        mut client, probe, ..
    } = start(Some("permessage-deflate"), 1 << 20);
    let header = format!(
        "451-[\"f\",{{\"_placeholder\":true,\"num\":0}},\"{}\"]",
        "p".repeat(2000)
    );
    let m = Message::many(vec![
        Frame::text(header.clone()),
        Frame::binary(vec![1u8; 4000]),
    ])
    .compress(false);
    probe.outbox.push(&m).unwrap();
    assert_eq!(
        read_frame(&mut client).await,
        (false, 1, header.into_bytes())
    );
    let (rsv1, op, z) = read_frame(&mut client).await;
    assert!(rsv1 && op == 2);
    assert_eq!(inflate(&mut Decompress::new(false), &z), vec![1u8; 4000]);
    // The mark costs a text frame no room.
    assert!(std::mem::size_of::<Frame>() <= 40);
}
