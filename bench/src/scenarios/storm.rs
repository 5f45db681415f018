//! `reconnect-storm`: C clients connected, the server restarted, all of
//! them reconnecting at once with socket.io-client's default backoff.
//!
//! 1. C connections (WebSocket, `--setup-concurrency` at once); then the
//!    generator creates `--ready-file` and waits for `--pid-file`, which
//!    the script writes with the new server's PID once it has stopped the
//!    server and started it again on the same port.
//! 2. Each client whose connection closes reconnects as the default client
//!    does: first after `reconnectionDelay` 1 s, then 2 s, 4 s, capped at
//!    `reconnectionDelayMax` 5 s, each ±50 % (`randomizationFactor` 0.5),
//!    along the default client's path (polling handshake and CONNECT,
//!    probe, upgrade: [`crate::upgrade`]; `--ws-only`: WebSocket only). A
//!    failed attempt is followed by the next delay, as the client does.
//! 3. The window runs from the new PID until every client is connected at
//!    the same time (at most `--timeout` seconds). Operations are
//!    reconnections; latency is from a client's disconnect to its
//!    reconnection; server CPU is the new process's over the window, per
//!    reconnection.
//!
//! Failed attempts are counted by cause ([`super::attempt`]): refused at
//! TCP connect (the server not listening yet), the generator's own (no
//! descriptor, no source port), and the handshake errors the client saw
//! from the server (timeout, HTTP status, reset, unexpected packet), which
//! alone are the scenario's errors. A client that loses its connection
//! again once back is counted too (`dropped_again`).
//!
//! Clients connect from `--sources` loopback addresses (127.0.0.2, ...;
//! client i always from the same one; `scripts/bench.sh` passes 16), as
//! clients come from many hosts:
//! from one address, 10k clients each with a polling connection beside its
//! WebSocket leave the kernel few free source ports towards the server's
//! one port, and its search for one in `connect` (`__inet_hash_connect`)
//! then takes the generator's one thread for seconds at a time.
//!
//! Along the default path a client holds two connections (polling and
//! WebSocket) while it upgrades, in the generator and in the server: up to
//! 2C descriptors in each. The peaks of both (sampled every 100 ms from
//! `/proc/PID/fd`) are reported beside the generator's limit.

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::attempt::{Cause, Failures};
use super::{Measured, Scenario, Setup, Tasks};
use crate::cli::{Common, StormArgs};
use crate::report::Report;
use crate::stats::{Meter, Stats};
use crate::{client, procfs, upgrade};

/// socket.io-client's `Backoff` with its defaults (min 1 s, max 5 s,
/// factor 2, jitter 0.5).
struct Backoff {
    attempts: u32,
    seed: u64,
}

impl Backoff {
    fn duration(&mut self) -> Duration {
        // xorshift64*: no dependency for a few random numbers.
        self.seed ^= self.seed >> 12;
        self.seed ^= self.seed << 25;
        self.seed ^= self.seed >> 27;
        let rand =
            (self.seed.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64;
        let ms = 1000.0 * 2f64.powi(self.attempts.min(16) as i32);
        self.attempts += 1;
        let deviation = (rand * 0.5 * ms).floor();
        let ms = if ((rand * 10.0).floor() as u64) & 1 == 0 {
            ms - deviation
        } else {
            ms + deviation
        };
        Duration::from_millis(ms.min(5000.0) as u64)
    }
}

/// What the clients share.
struct Storm {
    first_down: Cell<Option<Instant>>,
    last_back: Cell<Option<Instant>>,
    failures: RefCell<Failures>,
    dropped_again: Cell<u64>,
}

/// Runs the scenario.
pub async fn run(args: StormArgs) -> io::Result<Report> {
    if args.common.raw {
        return Err(io::Error::other("reconnect-storm has no raw mode"));
    }
    let case = format!(
        "reconnect-storm c={}{}",
        args.connections,
        if args.ws_only { " ws-only" } else { "" }
    );
    let fd_limit = procfs::fd_limit();
    let fds_needed = args.connections * if args.ws_only { 1 } else { 2 } + FDS_OWN;
    if let Some(limit) = fd_limit.filter(|l| (fds_needed as u64) > *l) {
        eprintln!(
            "warning: {} clients may hold up to {fds_needed} descriptors at once (two per \
             client while it upgrades), over the limit of {limit}: attempts may fail with \
             EMFILE here (counted apart) or wait in the server's accept queue",
            args.connections
        );
    }
    let params = json!({
        "connections": args.connections,
        "ws_only": args.ws_only,
        "sources": args.common.sources,
        "fd_limit": fd_limit,
    });
    let scenario = Scenario::new("reconnect-storm", "reconnections", case, params);
    let label = args.common.label.clone();
    scenario
        .run(&args.common, |common, stats| async move {
            let setup = Setup::new(common.setup_concurrency);
            let storm = Rc::new(Storm {
                first_down: Cell::new(None),
                last_back: Cell::new(None),
                failures: RefCell::new(Failures::default()),
                dropped_again: Cell::new(0),
            });
            stats.phase.set("setup");
            let mut tasks = Tasks::default();
            for i in 0..args.connections {
                let common = common.for_client(i);
                let (stats, setup, storm) = (stats.clone(), setup.clone(), storm.clone());
                let ws_only = args.ws_only;
                tasks.spawn(async move {
                    let Some(ws) = setup.run(&stats, client::connect(&common)).await else {
                        return;
                    };
                    client_loop(ws, i as u64, ws_only, &common, &stats, &storm).await;
                });
            }
            let connected = setup.wait(args.connections).await?;
            std::fs::write(&args.ready_file, b"ready\n")?;
            stats.phase.set("restart");
            let pid = wait_for_pid(&args.pid_file, &stats, connected).await?;
            let peaks = FdPeaks::start(pid);
            let meter = Meter::start(&stats, Some(pid));
            stats.phase.set("storm");
            let deadline = Instant::now() + Duration::from_secs_f64(args.timeout);
            while !all_back(&stats, &storm, connected) && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let window = meter.stop(&stats);
            let (gen_fds, server_fds) = peaks.stop();
            drop(tasks);
            let all_back_s = match (storm.first_down.get(), storm.last_back.get()) {
                (Some(a), Some(b)) if all_back(&stats, &storm, connected) => {
                    Some(b.duration_since(a).as_secs_f64())
                }
                _ => None,
            };
            let failures = storm.failures.borrow();
            let summary = Summary {
                label: &label,
                connected,
                back: stats.conns.get(),
                all_back_s,
                failures: &failures,
                dropped_again: storm.dropped_again.get(),
                peak_fds: (gen_fds, server_fds),
                fd_limit,
            };
            summary.print();
            Ok(Measured {
                params: json!({
                    "reconnected": stats.ops.get(),
                    "back": stats.conns.get(),
                    "all_back_s": all_back_s,
                    "refused_attempts": failures.get(Cause::Refused),
                    "handshake_errors": failures.total(Cause::is_handshake_error),
                    "generator_failures": failures.total(Cause::is_generator),
                    "failed_attempts": failures.to_json(),
                    "dropped_again": storm.dropped_again.get(),
                    "peak_fds_generator": gen_fds,
                    "peak_fds_server": server_fds,
                }),
                ..Measured::new(window, connected)
            })
        })
        .await
}

/// Descriptors a process holds besides its connections (standard streams,
/// epoll, the listener, the runtime's own), at most.
const FDS_OWN: usize = 64;

/// Every client connected at the same time.
fn all_back(stats: &Stats, storm: &Storm, connected: usize) -> bool {
    storm.first_down.get().is_some() && stats.conns.get() >= connected as u64
}

/// Selects some causes of failed attempts.
type Selects = fn(Cause) -> bool;

/// What the storm's end prints beside the report.
struct Summary<'a> {
    label: &'a str,
    connected: usize,
    back: u64,
    all_back_s: Option<f64>,
    failures: &'a Failures,
    dropped_again: u64,
    peak_fds: (usize, usize),
    fd_limit: Option<u64>,
}

impl Summary<'_> {
    fn print(&self) {
        let f = self.failures;
        println!("\nreconnect-storm attempts — {}", self.label);
        println!(
            "  {:<26} {} of {} {}",
            "all back",
            self.back.min(self.connected as u64),
            self.connected,
            self.all_back_s.map_or("(not all back)".to_string(), |s| {
                format!("{s:.2} s after the first disconnect")
            })
        );
        let groups: [(&str, Selects); 3] = [
            ("handshake errors", Cause::is_handshake_error),
            ("refused attempts", |c| c == Cause::Refused),
            ("generator failures", Cause::is_generator),
        ];
        for (title, which) in groups {
            println!("  {title:<26} {}  ({})", f.total(which), f.breakdown(which));
        }
        println!("  {:<26} {}", "dropped again once back", self.dropped_again);
        println!(
            "  {:<26} generator {}, server {} (limit {})",
            "peak open fds",
            self.peak_fds.0,
            self.peak_fds.1,
            self.fd_limit.map_or("?".to_string(), |l| l.to_string())
        );
        for line in f.lines() {
            println!("  {:<26} {line}", "failed attempts");
        }
    }
}

/// The most descriptors the generator and the server held, sampled every
/// 100 ms on a thread of its own until [`FdPeaks::stop`].
struct FdPeaks {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(usize, usize)>,
}

impl FdPeaks {
    fn start(server: u32) -> FdPeaks {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peaks = (0, 0);
            while !flag.load(Ordering::Relaxed) {
                peaks.0 = peaks.0.max(procfs::open_fds(None).unwrap_or(0));
                peaks.1 = peaks.1.max(procfs::open_fds(Some(server)).unwrap_or(0));
                std::thread::sleep(Duration::from_millis(100));
            }
            peaks
        });
        FdPeaks { stop, thread }
    }

    fn stop(self) -> (usize, usize) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or((0, 0))
    }
}

/// Waits for the script to write the new server's PID.
async fn wait_for_pid(path: &std::path::Path, stats: &Stats, n: usize) -> io::Result<u32> {
    let give_up = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(pid) = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return Ok(pid);
        }
        if Instant::now() > give_up {
            return Err(io::Error::other(format!(
                "no PID in {} after 60 s ({} of {n} clients down)",
                path.display(),
                n as u64 - stats.conns.get()
            )));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// One client: answers pings; when the connection closes, reconnects with
/// the default backoff (a failed attempt waits for the next delay);
/// counts each reconnection and each failed attempt by cause.
async fn client_loop(
    mut ws: client::Ws,
    seed: u64,
    ws_only: bool,
    common: &Common,
    stats: &Stats,
    storm: &Storm,
) {
    let mut out = Vec::new();
    let mut downs = 0u32;
    loop {
        while client::pump(&mut ws, false, &mut out, |_, _| {})
            .await
            .is_ok()
        {}
        stats.conn(false);
        // The closed socket's descriptor goes now, not once the client is
        // back: 10k of them would stand in the way of the new ones.
        drop(ws);
        downs += 1;
        if downs > 1 {
            storm.dropped_again.set(storm.dropped_again.get() + 1);
        }
        let down = Instant::now();
        if storm.first_down.get().is_none() {
            storm.first_down.set(Some(down));
        }
        let mut backoff = Backoff {
            attempts: 0,
            seed: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
        };
        ws = loop {
            tokio::time::sleep(backoff.duration()).await;
            let attempt = if ws_only {
                client::connect(common).await
            } else {
                upgrade::connect(common).await
            };
            match attempt {
                Ok(ws) => break ws,
                Err(e) => {
                    if storm.failures.borrow_mut().count(&e).is_handshake_error() {
                        stats.fail("reconnect", e);
                    }
                }
            }
        };
        stats.conn(true);
        stats.record(down.elapsed().as_micros() as u64);
        stats.op();
        storm.last_back.set(Some(Instant::now()));
    }
}
