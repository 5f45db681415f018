//! Hardening: a soak of abandoned sessions. Thousands of clients open a
//! session and vanish without a word, of every kind:
//! - a polling handshake, then never a poll;
//! - a polling GET in flight, then the TCP connection dropped;
//! - a WebSocket opened, then the TCP connection dropped without a close;
//! - a polling session mid-upgrade (WebSocket with its sid, `2probe` sent,
//!   `3probe` read, never `5`), then both connections dropped;
//! - a Socket.IO socket (WebSocket) connected to `/`, in a few rooms, then
//!   the TCP connection dropped;
//! - a Socket.IO socket over polling (CONNECT posted), then never a poll.
//!
//! With a short heartbeat (100 ms / 100 ms) and upgrade timeout (200 ms),
//! afterwards the engine's session table, the namespace's sockets and its
//! rooms are back to zero, the runtime's live tasks are back to their
//! baseline, and the process RSS is back near its baseline (measured after
//! a warm-up round; final < baseline + 20 MB). The figures are printed.
//! `SOAK_SESSIONS` sets the number of sessions (default 3000).

mod hardening_common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hardening_common::*;
use roomcast_socketio::{Server, Socket};
use roomcast_testkit::http::try_http;
use roomcast_testkit::ws::Ws;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

const KINDS: usize = 6;
const IN_FLIGHT: usize = 32;
const RSS_MARGIN_KB: u64 = 20 * 1024;

/// The process's resident set size, in kB.
fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// One HTTP request; the body of a 200, `None` on anything else (a loaded
/// machine may see the server time a session out before the client's next
/// step: that is fine, what matters is that the server cleans up).
async fn try_ok_body(addr: SocketAddr, method: &str, target: &str, body: &str) -> Option<String> {
    let res = try_http(addr, method, target, &[], body.as_bytes()).await;
    res.ok().filter(|r| r.status == 200).map(|r| r.text())
}

/// A polling handshake; the sid.
async fn try_polling_open(addr: SocketAddr) -> Option<String> {
    let open = try_ok_body(addr, "GET", &eio("transport=polling"), "").await?;
    let v: serde_json::Value = serde_json::from_str(open.strip_prefix('0')?).ok()?;
    Some(v["sid"].as_str()?.to_string())
}

/// A WebSocket to `target`; `None` on failure.
async fn try_ws(addr: SocketAddr, target: &str) -> Option<Ws> {
    Some(ws_connect_with(addr, target, &[]).await.ok()?.0)
}

/// The next frame (`None` on end, error or after [`STEP`]).
async fn try_next(ws: &mut Ws) -> Option<Message> {
    tokio::time::timeout(STEP, ws.next()).await.ok()??.ok()
}

/// One abandoned session of kind `i % KINDS`. Never fails: whatever the
/// server does (even timing the session out early), the client vanishes.
async fn vanish(addr: SocketAddr, i: usize) {
    match i % KINDS {
        0 => {
            try_polling_open(addr).await;
        }
        1 => {
            let Some(sid) = try_polling_open(addr).await else {
                return;
            };
            let Ok(mut stream) = TcpStream::connect(addr).await else {
                return;
            };
            let req = format!("GET {} HTTP/1.1\r\nHost: {addr}\r\n\r\n", polling(&sid));
            let _ = stream.write_all(req.as_bytes()).await;
            // Let the GET be held, then drop the connection under it.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        2 => {
            if let Some(mut ws) = try_ws(addr, &eio("transport=websocket")).await {
                try_next(&mut ws).await;
            }
        }
        3 => {
            let Some(sid) = try_polling_open(addr).await else {
                return;
            };
            let target = eio(&format!("transport=websocket&sid={sid}"));
            if let Some(mut ws) = try_ws(addr, &target).await {
                let _ = ws.send(Message::text("2probe")).await;
                try_next(&mut ws).await; // 3probe
            }
        }
        4 => {
            let Some(mut ws) = try_ws(addr, &eio("transport=websocket")).await else {
                return;
            };
            try_next(&mut ws).await; // the open packet
            let _ = ws.send(Message::text("40")).await;
            try_next(&mut ws).await; // the CONNECT reply
            for room in [format!("room-{}", i % 17), "shared".to_string()] {
                let _ = ws
                    .send(Message::text(format!("42[\"join\",\"{room}\"]")))
                    .await;
            }
        }
        _ => {
            if let Some(sid) = try_polling_open(addr).await {
                try_ok_body(addr, "POST", &polling(&sid), "40").await;
            }
        }
    }
}

/// Opens and abandons `count` sessions, `IN_FLIGHT` at a time; returns
/// the peak RSS seen on the way.
async fn round(addr: SocketAddr, first: usize, count: usize) -> u64 {
    let mut peak = rss_kb();
    let mut tasks = tokio::task::JoinSet::new();
    for i in first..first + count {
        if tasks.len() >= IN_FLIGHT {
            tasks.join_next().await.unwrap().expect("client task");
            if i % 100 == 0 {
                peak = peak.max(rss_kb());
            }
        }
        tasks.spawn(vanish(addr, i));
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("client task");
    }
    peak.max(rss_kb())
}

/// Waits until nothing of the abandoned sessions remains.
async fn drained(io: &Server, baseline_tasks: usize) {
    let metrics = tokio::runtime::Handle::current().metrics();
    within("every abandoned session is gone", async {
        loop {
            let (sessions, sockets, rooms) = (
                io.engine().session_count(),
                io.main().len(),
                io.main().hub().room_count(),
            );
            let tasks = metrics.num_alive_tasks();
            if sessions == 0 && sockets == 0 && rooms == 0 && tasks <= baseline_tasks {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_sessions_leave_nothing_behind() {
    let total: usize = std::env::var("SOAK_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let io = Server::builder()
        .connect_timeout(Duration::from_millis(500))
        .engine(|e| {
            e.ping_interval = Duration::from_millis(100);
            e.ping_timeout = Duration::from_millis(100);
            e.upgrade_timeout = Duration::from_millis(200);
        })
        .build();
    io.on_connect(|socket: Socket| async move {
        socket.join(["everyone"]);
        // Handlers that hold the socket itself, as handlers often do: the
        // socket must not keep itself alive through them.
        let me = socket.clone();
        socket.on(
            "join",
            move |_: Socket, room: String, _: roomcast_socketio::AckSender| {
                me.join([room.as_str()]);
                async {}
            },
        );
        let me = socket.clone();
        socket.on_disconnect(move |_: Socket, _| {
            let _ = me.id();
            async {}
        });
    });
    let (addr, _task) = serve(&io).await;
    let metrics = tokio::runtime::Handle::current().metrics();
    // The test's own tasks: the server's accept loop.
    let idle_tasks = metrics.num_alive_tasks();

    // Warm-up: allocator arenas, buffers, lazy statics.
    let started = Instant::now();
    round(addr, 0, 300).await;
    drained(&io, idle_tasks).await;
    let baseline = rss_kb();

    let peak = round(addr, 300, total).await;
    let opened_in = started.elapsed();
    let drain_started = Instant::now();
    drained(&io, idle_tasks).await;
    let drained_in = drain_started.elapsed();
    let final_rss = rss_kb();

    eprintln!(
        "soak: {total} abandoned sessions (+300 warm-up, {KINDS} kinds) in {opened_in:?}, \
         all gone {drained_in:?} later; RSS baseline {} MB, peak {} MB, final {} MB; \
         live tasks {} (idle {idle_tasks})",
        baseline / 1024,
        peak / 1024,
        final_rss / 1024,
        metrics.num_alive_tasks(),
    );
    assert_eq!(io.engine().session_count(), 0);
    assert!(io.main().is_empty());
    assert_eq!(io.main().hub().room_count(), 0);
    assert!(
        final_rss < baseline + RSS_MARGIN_KB,
        "RSS did not come back: baseline {baseline} kB, final {final_rss} kB"
    );

    // The server still works.
    let (mut raw, _) = Raw::connect(addr, "/").await;
    raw.send("42[\"join\",\"after\"]").await;
    eventually("the new socket joined", || {
        io.main().hub().room_count() == 3
    })
    .await;
}
