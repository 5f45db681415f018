//! roomcast-bench: a load generator for any Socket.IO v5 / Engine.IO v4
//! server, written against the protocol (it uses no roomcast crate but the
//! test kit, which writes its hand-made WebSocket frames), plus a
//! `--raw` mode for bare WebSocket servers such as the `ceiling` binary.
//!
//! - [`proto`]: Engine.IO / Socket.IO text packets, built and parsed by hand.
//! - [`client`]: WebSocket connections, the Engine.IO handshake and the
//!   Socket.IO namespace connect; [`upgrade`]: the default client's path
//!   (polling handshake, then the WebSocket upgrade); [`deflate_client`]:
//!   the hand-written client of `echo --compress` (`permessage-deflate`,
//!   bytes counted).
//! - [`stats`]: counters, latency histograms, the progress line and the
//!   measured window (server and generator CPU from `/proc`).
//! - [`scenarios`]: echo, fanout, fanout-latency, connect, idle, polling.
//! - [`report`]: the result of one run (table and JSON) and
//!   [`markdown`]: `BENCHMARKS.md` from a directory of results, with the
//!   ratio targets of [`ratios`].
//!
//! Everything runs on one thread (a `current_thread` runtime and a
//! `LocalSet`), so shared state is `Rc` / `Cell` and the generator can be
//! pinned to one core.

pub mod cli;
pub mod client;
pub mod deflate_client;
pub mod markdown;
pub mod procfs;
pub mod proto;
pub mod ratios;
pub mod report;
pub mod scenarios;
pub mod stats;
pub mod upgrade;

/// Microseconds since the generator started (one clock for every
/// connection, so a timestamp put in a payload by one connection can be
/// compared by another).
pub fn now_us() -> u64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_micros() as u64
}
