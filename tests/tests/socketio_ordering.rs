//! Readiness and ordering with the real npm `socket.io-client` 4.8.4:
//! - 2000 websocket connections (200 at a time, one node process), each emitting
//!   "first" in its `connect` listener: the connect handler registers the handler for
//!   it, and no event is lost — also when the connect handler sleeps 10 ms before
//!   registering it (events wait until the connect handler returns); a polling
//!   variant with fewer connections;
//! - per-socket order: clients (websocket and polling) each send 200 numbered events
//!   at once; each handler joins a room of its own and emits to it through `io.to`;
//!   the server sees each socket's handlers start in order, and each client gets the
//!   room emits in order.
//!
//! Scripts: `tests/js/socketio/readiness.mjs`, `tests/js/socketio/ordering.mjs`.

mod socketio_common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use roomcast_socketio::{AckSender, ClientId, Server, Socket};
use roomcast_testkit::js::require_js_deps;
use serde_json::json;
use socketio_common::{eventually, node_ok, serve, step};

/// `connections` clients over `transport`, `batch` at a time; the connect
/// handler first sleeps `delay` (if any), then registers "first".
async fn first_events_are_never_lost(
    transport: &str,
    connections: usize,
    batch: usize,
    delay: Option<Duration>,
) {
    let Some(_) = require_js_deps() else { return };
    let connects = Arc::new(AtomicUsize::new(0));
    let firsts = Arc::new(AtomicUsize::new(0));
    let io = Server::new();
    let (c, f) = (connects.clone(), firsts.clone());
    io.on_connect(move |socket: Socket| {
        c.fetch_add(1, Ordering::Relaxed);
        let firsts = f.clone();
        async move {
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            socket.on("first", move |s: Socket, i: u64, _: AckSender| {
                firsts.fetch_add(1, Ordering::Relaxed);
                async move {
                    s.emit("got", &i).unwrap();
                }
            });
        }
    });
    let port = serve(&io).await;
    let started = Instant::now();
    let lines = node_ok(
        "readiness.mjs",
        port,
        &[
            ("CONNECTIONS", &connections.to_string()),
            ("BATCH", &batch.to_string()),
            ("TRANSPORT", transport),
        ],
        Duration::from_secs(240),
    )
    .await;
    let elapsed = started.elapsed();
    let done = step(&lines, "done");
    eprintln!(
        "readiness over {transport}, delay {delay:?}: {connections} connections in {elapsed:?} \
         (node's own count: {} ms; connect-to-answer latency {})",
        done["ms"], done["latency"]
    );
    assert_eq!(done["ok"], connections, "{done}");
    assert_eq!(done["failed"], 0, "{done}");
    assert_eq!(connects.load(Ordering::Relaxed), connections);
    assert_eq!(firsts.load(Ordering::Relaxed), connections);
    eventually("every connection closes", || {
        io.engine().session_count() == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_event_after_connect_is_never_lost_2000_websockets() {
    first_events_are_never_lost("websocket", 2000, 200, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_event_waits_for_a_slow_connect_handler_2000_websockets() {
    first_events_are_never_lost("websocket", 2000, 200, Some(Duration::from_millis(10))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_event_waits_for_a_slow_connect_handler_over_polling() {
    first_events_are_never_lost("polling", 400, 100, Some(Duration::from_millis(10))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_start_in_order_and_room_emits_arrive_in_order() {
    let Some(_) = require_js_deps() else { return };
    const CLIENTS: usize = 10;
    const N: u64 = 200;
    let io = Server::new();
    let starts: Arc<Mutex<HashMap<ClientId, Vec<u64>>>> = Arc::default();
    let (io2, st) = (io.clone(), starts.clone());
    io.on_connect(move |socket: Socket| {
        let (io, starts) = (io2.clone(), st.clone());
        async move {
            socket.on("num", move |s: Socket, n: u64, _: AckSender| {
                starts.lock().entry(s.id()).or_default().push(n);
                let room = format!("{}:r{n}", s.id());
                s.join([room.as_str()]);
                io.to([room.as_str()]).emit("room", &n).unwrap();
                async move {
                    // Some handlers go on asynchronously; order must not suffer.
                    if n % 3 == 1 {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
            });
        }
    });
    let port = serve(&io).await;
    let (clients, n) = (CLIENTS.to_string(), N.to_string());
    let lines = node_ok(
        "ordering.mjs",
        port,
        &[("CLIENTS", &clients), ("N", &n)],
        Duration::from_secs(60),
    )
    .await;
    let done = step(&lines, "done");
    let expected: Vec<u64> = (0..N).collect();
    let reports = done["clients"].as_array().unwrap();
    assert_eq!(reports.len(), CLIENTS);
    let starts = starts.lock().clone();
    assert_eq!(starts.len(), CLIENTS);
    for client in reports {
        let id: ClientId = client["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            starts[&id], expected,
            "handlers of {id} ({}) started in order",
            client["transport"]
        );
        assert_eq!(
            client["received"],
            json!(expected),
            "{id} ({}) got the room emits in order",
            client["transport"]
        );
        let socket = io.main().socket(id);
        if let Some(socket) = socket {
            assert_eq!(socket.rooms().len(), N as usize + 1);
        }
    }
}
