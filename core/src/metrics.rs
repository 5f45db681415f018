//! Process-wide counters for a Prometheus scrape, behind the crate feature
//! `metrics` (without it every [`add`] compiles to nothing and every
//! counter stays 0).
//!
//! Semantics: each counter only ever increases, for the whole process
//! (every server and namespace in it). Each thread counts in its own block
//! of atomics, written only by that thread with a plain relaxed load and
//! store (no read-modify-write, no shared cache line); a scrape sums the
//! blocks, and a thread that ends folds its block into a shared one. A
//! scrape sees every add made before it on the adding thread, others a
//! moment later. Counts on the fan-out path are taken once per broadcast
//! (its deliveries and bytes in one step), never once per recipient. Bytes are the
//! Socket.IO/Engine.IO payloads queued for clients or received from them,
//! before WebSocket or long-polling framing (and before compression).
//!
//! Values that describe the present (sockets per namespace and transport,
//! rooms, polling sessions) are not counters: the layer that renders the
//! scrape reads them from the server at that time.
//!
//! ```
//! use roomcast_core::metrics::{self, Counter};
//! metrics::add(Counter::EventsIn, 1);
//! let scrape = metrics::counters();
//! assert!(scrape.iter().any(|c| c.name == "roomcast_events_received_total"));
//! ```

#[cfg(feature = "metrics")]
use std::sync::atomic::{AtomicU64, Ordering};
#[cfg(feature = "metrics")]
use std::sync::Arc;

#[cfg(feature = "metrics")]
use parking_lot::Mutex;

/// One counter. See the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Counter {
    /// Socket.IO events received from clients.
    EventsIn,
    /// Socket.IO events sent: one per socket emit, one per broadcast delivery.
    EventsOut,
    /// Message bytes received from clients.
    BytesIn,
    /// Message bytes queued for clients.
    BytesOut,
    /// Broadcasts applied on this node.
    Broadcasts,
    /// Clients whose queue took a broadcast.
    Deliveries,
    /// Messages dropped because the client's queue was full (volatile, or
    /// the drop overflow policy).
    Dropped,
    /// Clients disconnected because their queue overflowed.
    SlowDisconnects,
    /// Polling sessions upgraded to WebSocket.
    Upgrades,
    /// Engine.IO sessions opened.
    SessionsOpened,
    /// Messages published to the cluster.
    ClusterPublished,
    /// Messages received from other nodes.
    ClusterReceived,
    /// Reconnections to Redis (roomcast-cluster-redis).
    RedisReconnects,
    /// An Engine.IO request refused with error code 0 (the next five: 1–5).
    HandshakeError0,
    #[doc(hidden)]
    HandshakeError1,
    #[doc(hidden)]
    HandshakeError2,
    #[doc(hidden)]
    HandshakeError3,
    #[doc(hidden)]
    HandshakeError4,
    #[doc(hidden)]
    HandshakeError5,
}

const COUNT: usize = Counter::HandshakeError5 as usize + 1;

impl Counter {
    /// The counter of Engine.IO error `code` (0–5).
    pub fn handshake_error(code: u8) -> Option<Counter> {
        use Counter::*;
        [
            HandshakeError0,
            HandshakeError1,
            HandshakeError2,
            HandshakeError3,
            HandshakeError4,
            HandshakeError5,
        ]
        .get(usize::from(code))
        .copied()
    }
}

#[cfg(feature = "metrics")]
struct Block([AtomicU64; COUNT]);

#[cfg(feature = "metrics")]
impl Block {
    const fn new() -> Self {
        Block([const { AtomicU64::new(0) }; COUNT])
    }
}

/// What threads that ended had counted.
#[cfg(feature = "metrics")]
static RETIRED: Block = Block::new();
/// The blocks of the threads alive.
#[cfg(feature = "metrics")]
static LIVE: Mutex<Vec<Arc<Block>>> = Mutex::new(Vec::new());

/// This thread's block, registered on first use and folded into
/// [`RETIRED`] when the thread ends.
#[cfg(feature = "metrics")]
struct Local(Arc<Block>);

#[cfg(feature = "metrics")]
impl Local {
    fn register() -> Self {
        let block = Arc::new(Block::new());
        LIVE.lock().push(block.clone());
        Local(block)
    }
}

#[cfg(feature = "metrics")]
impl Drop for Local {
    fn drop(&mut self) {
        let mut live = LIVE.lock();
        live.retain(|b| !Arc::ptr_eq(b, &self.0));
        for (retired, mine) in RETIRED.0.iter().zip(&self.0 .0) {
            retired.fetch_add(mine.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    }
}

#[cfg(feature = "metrics")]
thread_local! {
    static LOCAL: Local = Local::register();
}

/// Adds `n` to `counter` (nothing without the `metrics` feature).
#[inline(always)]
pub fn add(counter: Counter, n: u64) {
    #[cfg(feature = "metrics")]
    let _ = LOCAL.try_with(|local| {
        // Only this thread writes its block: no read-modify-write needed.
        let cell = &local.0 .0[counter as usize];
        cell.store(
            cell.load(Ordering::Relaxed).wrapping_add(n),
            Ordering::Relaxed,
        );
    });
    #[cfg(not(feature = "metrics"))]
    let _ = (counter, n);
}

/// Whether the counters count (the `metrics` feature).
pub const ENABLED: bool = cfg!(feature = "metrics");

/// Every counter's total now.
fn totals() -> [u64; COUNT] {
    #[allow(unused_mut)]
    let mut totals = [0u64; COUNT];
    #[cfg(feature = "metrics")]
    {
        let live = LIVE.lock();
        for block in live.iter().map(|b| &**b).chain([&RETIRED]) {
            for (t, c) in totals.iter_mut().zip(&block.0) {
                *t = t.wrapping_add(c.load(Ordering::Relaxed));
            }
        }
    }
    totals
}

/// One counter's total now.
pub fn value(counter: Counter) -> u64 {
    totals()[counter as usize]
}

/// One counter as a scrape shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterValue {
    /// Prometheus name, e.g. `roomcast_events_received_total`.
    pub name: &'static str,
    /// One line of help.
    pub help: &'static str,
    /// One label and its value, if any (`code="3"`).
    pub label: Option<(&'static str, String)>,
    /// The value now.
    pub value: u64,
}

/// Every counter's value now, grouped by name in a fixed order.
pub fn counters() -> Vec<CounterValue> {
    use Counter::*;
    let t = totals();
    let plain = |name, help, counter: Counter| CounterValue {
        name,
        help,
        label: None,
        value: t[counter as usize],
    };
    let mut all = vec![
        plain(
            "roomcast_events_received_total",
            "Socket.IO events received from clients.",
            EventsIn,
        ),
        plain(
            "roomcast_events_sent_total",
            "Socket.IO events sent (socket emits and broadcast deliveries).",
            EventsOut,
        ),
        plain(
            "roomcast_bytes_received_total",
            "Message bytes received from clients, before transport framing.",
            BytesIn,
        ),
        plain(
            "roomcast_bytes_sent_total",
            "Message bytes queued for clients, before transport framing.",
            BytesOut,
        ),
        plain(
            "roomcast_broadcasts_total",
            "Broadcasts applied on this node.",
            Broadcasts,
        ),
        plain(
            "roomcast_broadcast_deliveries_total",
            "Clients whose queue took a broadcast.",
            Deliveries,
        ),
        plain(
            "roomcast_dropped_messages_total",
            "Messages dropped for a full client queue (volatile or drop policy).",
            Dropped,
        ),
        plain(
            "roomcast_slow_client_disconnects_total",
            "Clients disconnected because their queue overflowed.",
            SlowDisconnects,
        ),
        plain(
            "roomcast_engine_sessions_opened_total",
            "Engine.IO sessions opened.",
            SessionsOpened,
        ),
        plain(
            "roomcast_upgrades_total",
            "Polling sessions upgraded to WebSocket.",
            Upgrades,
        ),
        plain(
            "roomcast_cluster_published_total",
            "Messages published to the cluster.",
            ClusterPublished,
        ),
        plain(
            "roomcast_cluster_received_total",
            "Messages received from other nodes.",
            ClusterReceived,
        ),
        plain(
            "roomcast_redis_reconnects_total",
            "Reconnections to Redis.",
            RedisReconnects,
        ),
    ];
    for code in 0..6u8 {
        let counter = Counter::handshake_error(code).unwrap_or(HandshakeError0);
        all.push(CounterValue {
            name: "roomcast_handshake_errors_total",
            help: "Engine.IO requests refused, by error code.",
            label: Some(("code", code.to_string())),
            value: t[counter as usize],
        });
    }
    all
}

/// Counts one broadcast that reached `deliveries` clients with a message
/// of `bytes` bytes.
#[inline]
pub fn broadcast(deliveries: usize, bytes: usize) {
    add(Counter::Broadcasts, 1);
    add(Counter::Deliveries, deliveries as u64);
    add(Counter::EventsOut, deliveries as u64);
    add(Counter::BytesOut, (deliveries * bytes) as u64);
}
