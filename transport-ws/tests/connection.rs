//! `WsConnection` against a client written here byte by byte (RFC 6455
//! frames, masked), over an in-memory duplex stream: what reaches the
//! endpoint, what the peer reads back, and how each kind of violation ends
//! the connection.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use roomcast_core::{CloseReason, Frame, Message, OutboxConfig};
use roomcast_testkit::{eventually, within};
use roomcast_transport_ws::{WsConfig, WsConnection};
use tokio::io::{AsyncWriteExt, DuplexStream};
use tokio::task::JoinHandle;

mod common;
use common::Probe;

struct Setup {
    client: DuplexStream,
    probe: Arc<Probe>,
    task: JoinHandle<CloseReason>,
}

fn start_with(config: WsConfig, outbox: OutboxConfig, pipe: usize) -> Setup {
    let (client, server) = tokio::io::duplex(pipe);
    let probe = Probe::new(outbox);
    let task = tokio::spawn({
        let probe = probe.clone();
        async move { WsConnection::new(server, config).serve(&*probe).await }
    });
    Setup {
        client,
        probe,
        task,
    }
}

fn start() -> Setup {
    start_with(WsConfig::default(), OutboxConfig::default(), 64 * 1024)
}

/// A client frame without RSV1 (no extension is negotiated here).
fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    common::client_frame(fin, false, opcode, payload)
}

/// Reads one server frame: (opcode, payload). Server frames are unmasked
/// and unfragmented.
async fn read_frame(client: &mut DuplexStream) -> (u8, Vec<u8>) {
    let (head, payload) = common::read_frame(client).await;
    assert_eq!(head & 0xF0, 0x80, "FIN set, no reserved bit");
    (head & 0x0F, payload)
}

async fn ended(task: JoinHandle<CloseReason>) -> CloseReason {
    within("the connection ends", task)
        .await
        .expect("the connection task does not panic")
}

#[tokio::test]
async fn pings_are_answered_and_fragments_put_together() {
    let Setup {
        mut client, probe, ..
    } = start();
    let mut bytes = client_frame(false, 0x1, b"hel");
    bytes.extend(client_frame(true, 0x9, b"p!")); // a ping between fragments
    bytes.extend(client_frame(false, 0x0, b"lo w"));
    // The fragment boundary splits a two-byte character: only the whole
    // message must be UTF-8.
    let word = "ö!".as_bytes();
    bytes.extend(client_frame(false, 0x0, &word[..1]));
    bytes.extend(client_frame(true, 0x0, &word[1..]));
    bytes.extend(client_frame(true, 0xA, b"unsolicited pong"));
    bytes.extend(client_frame(true, 0x2, &[0, 1, 2]));
    client.write_all(&bytes).await.unwrap();
    assert_eq!(read_frame(&mut client).await, (0xA, b"p!".to_vec()));
    eventually("both messages", || probe.got().len() == 2).await;
    assert_eq!(
        probe.got(),
        vec![Frame::text("hello wö!"), Frame::binary(vec![0, 1, 2])]
    );
}

#[tokio::test]
async fn a_clean_close_is_echoed_and_reported_once() {
    let Setup {
        mut client,
        probe,
        task,
    } = start();
    client
        .write_all(&client_frame(true, 0x8, &1001u16.to_be_bytes()))
        .await
        .unwrap();
    assert_eq!(
        read_frame(&mut client).await,
        (0x8, 1001u16.to_be_bytes().to_vec())
    );
    assert_eq!(ended(task).await, CloseReason::TransportClose);
    assert_eq!(*probe.closed.lock(), vec![CloseReason::TransportClose]);
}

#[tokio::test]
async fn end_of_stream_without_a_close_frame_is_a_transport_close() {
    let Setup {
        client,
        probe,
        task,
    } = start();
    drop(client);
    assert_eq!(ended(task).await, CloseReason::TransportClose);
    assert_eq!(*probe.closed.lock(), vec![CloseReason::TransportClose]);
}

#[tokio::test]
async fn each_violation_closes_with_its_code() {
    let mut unmasked = vec![0x81, 2];
    unmasked.extend_from_slice(b"hi");
    let mut reserved = client_frame(true, 0x1, b"hi");
    reserved[0] |= 0x40;
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("unmasked frame", unmasked, 1002),
        ("reserved bit", reserved, 1002),
        ("unknown opcode", client_frame(true, 0x3, b"x"), 1002),
        ("continuation first", client_frame(true, 0x0, b"x"), 1002),
        ("fragmented ping", client_frame(false, 0x9, b"x"), 1002),
        ("long ping", client_frame(true, 0x9, &[0; 126]), 1002),
        (
            "message inside a fragmented one",
            [
                client_frame(false, 0x1, b"a"),
                client_frame(true, 0x1, b"b"),
            ]
            .concat(),
            1002,
        ),
        (
            "invalid UTF-8",
            client_frame(true, 0x1, &[0xC3, 0x28]),
            1007,
        ),
        ("over the limit", client_frame(true, 0x2, &[0; 101]), 1009),
        (
            "over the limit in fragments",
            [
                client_frame(false, 0x2, &[0; 60]),
                client_frame(true, 0x0, &[0; 60]),
            ]
            .concat(),
            1009,
        ),
    ];
    for (what, bytes, code) in cases {
        let config = WsConfig {
            max_message_size: 100,
            ..WsConfig::default()
        };
        let Setup {
            mut client,
            probe,
            task,
        } = start_with(config, OutboxConfig::default(), 64 * 1024);
        client.write_all(&bytes).await.unwrap();
        let (opcode, payload) = read_frame(&mut client).await;
        assert_eq!(
            (opcode, payload),
            (0x8, code.to_be_bytes().to_vec()),
            "{what}"
        );
        assert_eq!(ended(task).await, CloseReason::TransportError, "{what}");
        assert_eq!(
            *probe.closed.lock(),
            vec![CloseReason::TransportError],
            "{what}"
        );
        assert!(probe.got().is_empty(), "{what}: nothing delivered");
    }
}

#[tokio::test]
async fn a_slow_reader_gets_everything_in_order() {
    // A 1 KiB pipe: most writes only partly succeed.
    let Setup {
        mut client, probe, ..
    } = start_with(WsConfig::default(), OutboxConfig::default(), 1024);
    let big = vec![7u8; 200 * 1024];
    let mut expected = Vec::new();
    for i in 0..300 {
        let frame = if i == 150 {
            Frame::binary(big.clone())
        } else {
            Frame::text(format!("message {i} {}", "x".repeat(i)))
        };
        probe.outbox.push(Message::from(frame.clone())).unwrap();
        expected.push(frame);
    }
    for frame in expected {
        let (opcode, payload) = read_frame(&mut client).await;
        match frame {
            Frame::Text(t) => {
                assert_eq!((opcode, payload.as_slice()), (0x1, t.as_str().as_bytes()))
            }
            Frame::Binary(b) => assert_eq!((opcode, payload.as_slice()), (0x2, &b[..])),
        }
    }
}

#[tokio::test]
async fn a_closed_outbox_is_flushed_then_closed() {
    let Setup {
        mut client,
        probe,
        task,
    } = start();
    probe
        .outbox
        .push(Message::from(Frame::text("last")))
        .unwrap();
    probe.outbox.close(CloseReason::ServerShutdown);
    assert_eq!(read_frame(&mut client).await, (0x1, b"last".to_vec()));
    assert_eq!(read_frame(&mut client).await, (0x8, Vec::new()));
    assert_eq!(ended(task).await, CloseReason::ServerShutdown);
    assert!(probe.closed.lock().is_empty(), "the session closed itself");
}

#[tokio::test]
async fn an_overflow_is_reported_and_ends_the_connection() {
    let outbox = OutboxConfig {
        capacity: 2,
        ..OutboxConfig::default()
    };
    // The pipe is too small for the first batch, so the connection is
    // stuck writing when the outbox overflows.
    let Setup {
        client: _client,
        probe,
        task,
    } = start_with(WsConfig::default(), outbox, 64);
    probe
        .outbox
        .push(Message::from(Frame::binary(vec![1; 4096])))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    for _ in 0..2 {
        probe.outbox.push(Message::from(Frame::text("x"))).unwrap();
    }
    assert!(probe.outbox.push(Message::from(Frame::text("x"))).is_err());
    // Nobody reads: the last bytes cannot leave, and the grace is 20 s,
    // but the endpoint hears of the overflow at once.
    eventually("the overflow reported", || {
        *probe.closed.lock() == vec![CloseReason::SlowConsumer]
    })
    .await;
    task.abort();
}

#[tokio::test]
async fn the_endpoint_deadline_is_driven_by_the_connection() {
    let Setup {
        mut client, probe, ..
    } = start();
    // Set before the connection task first runs (one thread): read then.
    *probe.deadline.lock() = Some(Instant::now() + Duration::from_millis(30));
    eventually("one tick", || probe.ticks.load(Ordering::SeqCst) == 1).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        probe.ticks.load(Ordering::SeqCst),
        1,
        "a deadline fires once"
    );
    // A new deadline is read after the next message from the peer (as a
    // pong moves the Engine.IO heartbeat).
    *probe.deadline.lock() = Some(Instant::now() + Duration::from_millis(30));
    client
        .write_all(&client_frame(true, 0x1, b"3"))
        .await
        .unwrap();
    eventually("a second tick", || probe.ticks.load(Ordering::SeqCst) == 2).await;
}

fn message_strategy() -> impl Strategy<Value = (bool, Vec<u8>, Vec<usize>)> {
    // Mostly small messages; some larger than the 64 KiB read buffer.
    let size = prop_oneof![8 => 0usize..300, 1 => 60_000usize..140_000];
    let cuts = prop::collection::vec(1usize..200, 0..3);
    (any::<bool>(), size, any::<u8>(), cuts).prop_map(|(text, len, seed, cuts)| {
        let payload = if text {
            let mut s = String::new();
            for c in "aé€𝄞".chars().cycle() {
                if s.len() + c.len_utf8() > len {
                    break;
                }
                s.push(c);
            }
            s.into_bytes()
        } else {
            (0..len).map(|i| (i as u8).wrapping_mul(seed | 1)).collect()
        };
        (text, payload, cuts)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// However the peer's bytes are cut into reads, and however its
    /// messages are cut into fragments, the endpoint gets the same
    /// messages in order.
    #[test]
    fn any_chunking_delivers_the_same_messages(
        messages in prop::collection::vec(message_strategy(), 1..12),
        chunks in prop::collection::vec(1usize..9000, 1..40),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let Setup { mut client, probe, .. } = start();
            let mut bytes = Vec::new();
            let mut expected = Vec::new();
            for (text, payload, cuts) in &messages {
                let opcode = if *text { 0x1 } else { 0x2 };
                let mut pieces = Vec::new();
                let mut rest = &payload[..];
                for cut in cuts {
                    let at = (*cut).min(rest.len());
                    pieces.push(&rest[..at]);
                    rest = &rest[at..];
                }
                pieces.push(rest);
                let last = pieces.len() - 1;
                for (i, piece) in pieces.iter().enumerate() {
                    let op = if i == 0 { opcode } else { 0x0 };
                    bytes.extend(client_frame(i == last, op, piece));
                }
                expected.push(if *text {
                    Frame::text(String::from_utf8(payload.clone()).unwrap())
                } else {
                    Frame::binary(payload.clone())
                });
            }
            let mut at = 0;
            let mut i = 0;
            while at < bytes.len() {
                let n = chunks[i % chunks.len()].min(bytes.len() - at);
                client.write_all(&bytes[at..at + n]).await.unwrap();
                at += n;
                i += 1;
                tokio::task::yield_now().await;
            }
            let want = expected.len();
            eventually("every message", || probe.got().len() == want).await;
            assert_eq!(probe.got(), expected);
            assert!(probe.closed.lock().is_empty());
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever bytes a peer sends, the connection never panics: it
    /// delivers what is valid and ends with a reason once the peer is gone.
    #[test]
    fn arbitrary_bytes_end_the_connection_cleanly(
        valid_first in any::<bool>(),
        garbage in prop::collection::vec(any::<u8>(), 0..3000),
        mask_bits in any::<bool>(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let config = WsConfig { max_message_size: 1000, ..WsConfig::default() };
            let Setup { mut client, probe, task } =
                start_with(config, OutboxConfig::default(), 64 * 1024);
            let mut bytes = Vec::new();
            if valid_first {
                bytes.extend(client_frame(true, 0x1, b"first"));
            }
            let mut garbage = garbage;
            if mask_bits {
                // Mostly well-formed headers (masked, no reserved bit), so
                // that the parser goes past the first checks.
                for chunk in garbage.chunks_mut(16) {
                    chunk[0] &= 0x8F;
                    if let Some(b) = chunk.get_mut(1) {
                        *b |= 0x80;
                    }
                }
            }
            bytes.extend(garbage);
            let _ = client.write_all(&bytes).await;
            drop(client);
            let reason = ended(task).await;
            assert!(
                matches!(reason, CloseReason::TransportClose | CloseReason::TransportError),
                "{reason:?}"
            );
            assert_eq!(probe.closed.lock().len(), 1, "told once");
            if valid_first {
                assert_eq!(probe.got().first(), Some(&Frame::text("first")));
            }
        });
    }
}

/// The serve future lives in the connection's task for the connection's
/// whole life: it holds the connection once (not the argument and a moved
/// copy side by side), plus its timer (about 100 bytes), the endpoint and
/// a few flags.
#[test]
fn the_serve_future_holds_the_connection_once() {
    let (_client, server) = tokio::io::duplex(64);
    let probe = Probe::new(OutboxConfig::default());
    let conn = WsConnection::new(server, WsConfig::default());
    let conn_size = std::mem::size_of_val(&conn);
    let serving = conn.serve(&*probe);
    let size = std::mem::size_of_val(&serving);
    assert!(
        size <= conn_size + 224,
        "serve future {size} bytes, connection {conn_size} bytes"
    );
    drop(serving);
}
