//! Process-wide counters for a Prometheus scrape, behind the crate feature
//! `metrics` (without it every [`add`] compiles to nothing and every
//! counter stays 0).
//!
//! Semantics: each counter is one relaxed atomic, only ever increased, for
//! the whole process (every server and namespace in it). Counts on the
//! fan-out path are taken once per broadcast (its deliveries and bytes are
//! added in one step), never once per recipient, so two threads
//! broadcasting do not fight over a cache line per client. Bytes are the
//! Socket.IO/Engine.IO payloads queued for clients or received from them,
//! before WebSocket or long-polling framing (and before compression).
//!
//! Values that describe the present (sockets per namespace and transport,
//! rooms, polling sessions) are not counters: the layer that renders the
//! scrape reads them from the server at that time.
//!
//! ```
//! use roomcast_core::metrics::{self, COUNTERS};
//! metrics::add(&COUNTERS.events_in, 1);
//! let scrape = metrics::counters();
//! assert!(scrape.iter().any(|c| c.name == "roomcast_events_received_total"));
//! ```

use std::sync::atomic::{AtomicU64, Ordering};

/// The counters. See the [module docs](self).
pub struct Counters {
    /// Socket.IO events received from clients.
    pub events_in: AtomicU64,
    /// Socket.IO events sent: one per socket emit, one per broadcast delivery.
    pub events_out: AtomicU64,
    /// Message bytes received from clients.
    pub bytes_in: AtomicU64,
    /// Message bytes queued for clients.
    pub bytes_out: AtomicU64,
    /// Broadcasts applied on this node.
    pub broadcasts: AtomicU64,
    /// Clients whose queue took a broadcast.
    pub deliveries: AtomicU64,
    /// Messages dropped because the client's queue was full (volatile, or
    /// the drop overflow policy).
    pub dropped: AtomicU64,
    /// Clients disconnected because their queue overflowed.
    pub slow_disconnects: AtomicU64,
    /// Engine.IO requests refused, by the protocol's error code (0–5).
    pub handshake_errors: [AtomicU64; 6],
    /// Polling sessions upgraded to WebSocket.
    pub upgrades: AtomicU64,
    /// Engine.IO sessions opened.
    pub sessions_opened: AtomicU64,
    /// Messages published to the cluster.
    pub cluster_published: AtomicU64,
    /// Messages received from other nodes.
    pub cluster_received: AtomicU64,
    /// Reconnections to Redis (roomcast-cluster-redis).
    pub redis_reconnects: AtomicU64,
}

const ZERO: AtomicU64 = AtomicU64::new(0);

/// The process's counters.
pub static COUNTERS: Counters = Counters {
    events_in: ZERO,
    events_out: ZERO,
    bytes_in: ZERO,
    bytes_out: ZERO,
    broadcasts: ZERO,
    deliveries: ZERO,
    dropped: ZERO,
    slow_disconnects: ZERO,
    handshake_errors: [ZERO; 6],
    upgrades: ZERO,
    sessions_opened: ZERO,
    cluster_published: ZERO,
    cluster_received: ZERO,
    redis_reconnects: ZERO,
};

/// Adds `n` to `counter` (nothing without the `metrics` feature).
#[inline(always)]
pub fn add(counter: &AtomicU64, n: u64) {
    #[cfg(feature = "metrics")]
    counter.fetch_add(n, Ordering::Relaxed);
    #[cfg(not(feature = "metrics"))]
    let _ = (counter, n);
}

/// Whether the counters count (the `metrics` feature).
pub const ENABLED: bool = cfg!(feature = "metrics");

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
    let c = &COUNTERS;
    let plain = |name, help, counter: &AtomicU64| CounterValue {
        name,
        help,
        label: None,
        value: counter.load(Ordering::Relaxed),
    };
    let mut all = vec![
        plain(
            "roomcast_events_received_total",
            "Socket.IO events received from clients.",
            &c.events_in,
        ),
        plain(
            "roomcast_events_sent_total",
            "Socket.IO events sent (socket emits and broadcast deliveries).",
            &c.events_out,
        ),
        plain(
            "roomcast_bytes_received_total",
            "Message bytes received from clients, before transport framing.",
            &c.bytes_in,
        ),
        plain(
            "roomcast_bytes_sent_total",
            "Message bytes queued for clients, before transport framing.",
            &c.bytes_out,
        ),
        plain(
            "roomcast_broadcasts_total",
            "Broadcasts applied on this node.",
            &c.broadcasts,
        ),
        plain(
            "roomcast_broadcast_deliveries_total",
            "Clients whose queue took a broadcast.",
            &c.deliveries,
        ),
        plain(
            "roomcast_dropped_messages_total",
            "Messages dropped for a full client queue (volatile or drop policy).",
            &c.dropped,
        ),
        plain(
            "roomcast_slow_client_disconnects_total",
            "Clients disconnected because their queue overflowed.",
            &c.slow_disconnects,
        ),
        plain(
            "roomcast_engine_sessions_opened_total",
            "Engine.IO sessions opened.",
            &c.sessions_opened,
        ),
        plain(
            "roomcast_upgrades_total",
            "Polling sessions upgraded to WebSocket.",
            &c.upgrades,
        ),
        plain(
            "roomcast_cluster_published_total",
            "Messages published to the cluster.",
            &c.cluster_published,
        ),
        plain(
            "roomcast_cluster_received_total",
            "Messages received from other nodes.",
            &c.cluster_received,
        ),
        plain(
            "roomcast_redis_reconnects_total",
            "Reconnections to Redis.",
            &c.redis_reconnects,
        ),
    ];
    for (code, counter) in c.handshake_errors.iter().enumerate() {
        all.push(CounterValue {
            name: "roomcast_handshake_errors_total",
            help: "Engine.IO requests refused, by error code.",
            label: Some(("code", code.to_string())),
            value: counter.load(Ordering::Relaxed),
        });
    }
    all
}

/// Counts one broadcast that reached `deliveries` clients with a message
/// of `bytes` bytes.
#[inline]
pub fn broadcast(deliveries: usize, bytes: usize) {
    let c = &COUNTERS;
    add(&c.broadcasts, 1);
    add(&c.deliveries, deliveries as u64);
    add(&c.events_out, deliveries as u64);
    add(&c.bytes_out, (deliveries * bytes) as u64);
}
