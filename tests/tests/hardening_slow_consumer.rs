//! Hardening: one stalled client among 100 healthy ones, all in one room,
//! while the server broadcasts 8 KiB messages to the room.
//!
//! The server has a small outbox (256 frames, `Overflow::Disconnect`). The
//! stalled client is either (a) a WebSocket client that stops reading after
//! joining (its receive buffer is shrunk so the kernel buffers fill fast), or
//! (b) a long-polling client that stops polling. Checked:
//! - the stalled client is disconnected with `DisconnectReason::SlowClient`
//!   ("slow client"), seen by its `on_disconnect`;
//! - its engine session is freed (`io.engine().session_count()` drops) and
//!   its socket leaves the namespace and the room;
//! - every healthy client (a raw WebSocket client that reads continuously)
//!   receives every message, in order, and none is disconnected;
//! - (a) once its session is closed, the stalled WebSocket gets `ping_timeout`
//!   (shortened here) to take its last frames, then the server drops the TCP
//!   connection: when the client finally reads, the stream ends without a
//!   close frame (the server's writer did not stay blocked on it).
//!
//! The broadcaster paces itself on the healthy clients only (it never gets
//! more than 64 messages ahead of the slowest healthy one), so they never
//! come near the outbox bound while the stalled one overflows it. The time
//! to detect the stalled client and to free its session is printed.

mod hardening_common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hardening_common::*;
use roomcast_core::{OutboxConfig, Overflow};
use roomcast_socketio::{DisconnectReason, Server, Socket};
use tokio_tungstenite::tungstenite::Message;

const HEALTHY: usize = 100;
const MESSAGE_BYTES: usize = 8 * 1024;
/// How far the broadcaster may run ahead of the slowest healthy client.
const WINDOW: usize = 64;
/// Messages broadcast after the stalled client was disconnected.
const AFTER: usize = 50;
/// The stalled client must be gone before this many messages.
const MAX_MESSAGES: usize = 4000;
/// `ping_timeout`: how long a closed session's WebSocket may take to flush.
const GRACE: Duration = Duration::from_millis(300);

enum Stall {
    WebSocket,
    Polling,
}

/// A healthy client: reads every frame, checks the sequence, counts.
struct Healthy {
    received: Arc<AtomicUsize>,
}

fn spawn_healthy(mut raw: Raw, failed: Arc<AtomicBool>) -> Healthy {
    let received = Arc::new(AtomicUsize::new(0));
    let count = received.clone();
    tokio::spawn(async move {
        let mut expected = 0usize;
        loop {
            match raw.ws.next().await {
                Some(Ok(Message::Text(t))) => {
                    let t = t.as_str();
                    if t == "2" {
                        let _ = raw.ws.send(Message::text("3")).await;
                        continue;
                    }
                    let Some(rest) = t.strip_prefix("42[\"m\",") else {
                        continue;
                    };
                    let seq: usize = rest
                        .split(',')
                        .next()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(usize::MAX);
                    if seq != expected || t.len() < MESSAGE_BYTES {
                        eprintln!("healthy client: got #{seq}, expected #{expected}");
                        failed.store(true, Ordering::Relaxed);
                        return;
                    }
                    expected += 1;
                    count.store(expected, Ordering::Release);
                }
                Some(Ok(_)) => {}
                other => {
                    eprintln!("healthy client: connection ended: {other:?}");
                    failed.store(true, Ordering::Relaxed);
                    return;
                }
            }
        }
    });
    Healthy { received }
}

async fn run(stall: Stall) {
    let io = Server::builder()
        .engine(|e| {
            e.outbox = OutboxConfig {
                capacity: 256,
                overflow: Overflow::Disconnect,
            };
            // The grace a closed WebSocket gets to flush; pings stay rare.
            e.ping_timeout = GRACE;
        })
        .build();
    let reasons = Reasons::default();
    let r = reasons.clone();
    io.on_connect(move |socket: Socket| {
        record_disconnect(&socket, &r);
        socket.join(["room"]);
        async {}
    });
    let (addr, _task) = serve(&io).await;

    let failed = Arc::new(AtomicBool::new(false));
    let mut healthy = Vec::with_capacity(HEALTHY);
    let mut healthy_ids = Vec::with_capacity(HEALTHY);
    for _ in 0..HEALTHY {
        let (raw, id) = Raw::connect(addr, "/").await;
        healthy_ids.push(id);
        healthy.push(spawn_healthy(raw, failed.clone()));
    }
    // Kept alive (and never read) until the end of the test.
    let (stalled_ws, stalled_id, kind) = match stall {
        Stall::WebSocket => {
            // Its receive buffer is tiny, so the kernel buffers fill fast.
            let (raw, id) = Raw::connect_small_buffer(addr, 4096).await;
            (Some(raw), id, "websocket")
        }
        Stall::Polling => {
            let (_, id) = polling_connect(addr).await;
            (None, id, "polling")
        }
    };
    eventually("everyone joined the room", || {
        io.main().to(["room"]).sockets().len() == HEALTHY + 1
    })
    .await;
    assert_eq!(io.engine().session_count(), HEALTHY + 1);

    let padding = "p".repeat(MESSAGE_BYTES);
    let started = Instant::now();
    let slowest = |healthy: &[Healthy]| {
        healthy
            .iter()
            .map(|h| h.received.load(Ordering::Acquire))
            .min()
            .unwrap_or(0)
    };
    let mut sent = 0usize;
    let mut disconnected_at: Option<(Duration, usize)> = None;
    let mut freed_at: Option<Duration> = None;
    let deadline = started + Duration::from_secs(60);
    while disconnected_at.is_none_or(|(_, n)| sent < n + AFTER) {
        assert!(
            sent < MAX_MESSAGES,
            "the stalled client is still connected after {sent} messages"
        );
        assert!(
            Instant::now() < deadline,
            "broadcasting took too long ({sent} sent)"
        );
        assert!(!failed.load(Ordering::Relaxed), "a healthy client failed");
        if sent >= slowest(&healthy) + WINDOW {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        io.to(["room"]).emit("m", &(sent, &padding)).expect("emit");
        sent += 1;
        if disconnected_at.is_none() && !reasons.all().is_empty() {
            disconnected_at = Some((started.elapsed(), sent));
        }
        if freed_at.is_none() && io.engine().session_count() == HEALTHY {
            freed_at = Some(started.elapsed());
        }
        if sent.is_multiple_of(16) {
            tokio::task::yield_now().await;
        }
    }
    let (detected, detected_after) = disconnected_at.unwrap();

    within("healthy clients receive everything", async {
        while slowest(&healthy) < sent {
            assert!(!failed.load(Ordering::Relaxed), "a healthy client failed");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    eventually("the stalled session is freed", || {
        io.engine().session_count() == HEALTHY
    })
    .await;
    let freed = freed_at.unwrap_or_else(|| started.elapsed());

    let all = reasons.all();
    assert_eq!(
        all,
        vec![(stalled_id.clone(), DisconnectReason::SlowClient)],
        "only the stalled client is disconnected, as a slow client"
    );
    assert_eq!(DisconnectReason::SlowClient.as_str(), "slow client");
    assert_eq!(io.main().len(), HEALTHY);
    let in_room = io.main().to(["room"]).sockets();
    assert_eq!(in_room.len(), HEALTHY);
    assert!(!in_room.iter().any(|id| id.to_string() == stalled_id));
    assert!(!failed.load(Ordering::Relaxed));

    let mut dropped = String::new();
    if let Some(mut raw) = stalled_ws {
        // Past the grace, the server has dropped the connection: reading now
        // gets what the kernel still held, then the end, but no close frame.
        tokio::time::sleep((started + freed + GRACE * 2).saturating_duration_since(Instant::now()))
            .await;
        let (bytes, close_frame) = within("the stalled client reads to the end", async {
            let mut bytes = 0usize;
            loop {
                match raw.ws.next().await {
                    Some(Ok(Message::Close(_))) => return (bytes, true),
                    Some(Ok(m)) => bytes += m.len(),
                    None | Some(Err(_)) => return (bytes, false),
                }
            }
        })
        .await;
        assert!(
            !close_frame,
            "the server's writer was still there after the grace: it flushed and sent a close frame"
        );
        dropped = format!("; its connection was dropped (it could still read {bytes} bytes)");
    }

    eprintln!(
        "slow consumer ({kind}): {HEALTHY} healthy clients, {MESSAGE_BYTES}-byte messages; \
         stalled client disconnected after {detected_after} messages in {detected:?}, \
         session freed after {freed:?}; {sent} messages broadcast, all delivered in order \
         in {:?}{dropped}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_websocket_client_is_disconnected_and_the_others_get_everything() {
    run(Stall::WebSocket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_polling_client_that_stops_polling_is_disconnected_and_the_others_get_everything() {
    run(Stall::Polling).await;
}
