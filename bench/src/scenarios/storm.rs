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
//!    probe, upgrade: [`crate::upgrade`]; `--ws-only`: WebSocket only).
//! 3. The window runs from the new PID to the last client back (at most
//!    `--timeout` seconds). Operations are reconnections; latency is from
//!    a client's disconnect to its reconnection; server CPU is the new
//!    process's over the window, per reconnection. An attempt refused at
//!    TCP connect (the server not listening yet) is counted apart
//!    (`refused`); any other failed attempt is a handshake error.

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{Measured, Scenario, Setup, Tasks};
use crate::cli::{Common, StormArgs};
use crate::report::Report;
use crate::stats::{Meter, Stats};
use crate::{client, upgrade};

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
    refused: Cell<u64>,
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
    let params = json!({ "connections": args.connections, "ws_only": args.ws_only });
    let scenario = Scenario::new("reconnect-storm", "reconnections", case, params);
    scenario
        .run(&args.common, |common, stats| async move {
            let setup = Setup::new(common.setup_concurrency);
            let storm = Rc::new(Storm {
                first_down: Cell::new(None),
                last_back: Cell::new(None),
                refused: Cell::new(0),
            });
            stats.phase.set("setup");
            let mut tasks = Tasks::default();
            for i in 0..args.connections {
                let (common, stats, setup, storm) =
                    (common.clone(), stats.clone(), setup.clone(), storm.clone());
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
            let meter = Meter::start(&stats, Some(pid));
            stats.phase.set("storm");
            let deadline = Instant::now() + Duration::from_secs_f64(args.timeout);
            while stats.ops.get() < connected as u64 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let window = meter.stop(&stats);
            drop(tasks);
            let all_back_s = match (storm.first_down.get(), storm.last_back.get()) {
                (Some(a), Some(b)) if stats.ops.get() >= connected as u64 => {
                    Some(b.duration_since(a).as_secs_f64())
                }
                _ => None,
            };
            Ok(Measured {
                params: json!({
                    "reconnected": stats.ops.get(),
                    "all_back_s": all_back_s,
                    "refused_attempts": storm.refused.get(),
                    "handshake_errors": stats.errors.get(),
                }),
                ..Measured::new(window, connected)
            })
        })
        .await
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
/// the default backoff; counts each reconnection.
async fn client_loop(
    mut ws: client::Ws,
    seed: u64,
    ws_only: bool,
    common: &Common,
    stats: &Stats,
    storm: &Storm,
) {
    let mut out = Vec::new();
    loop {
        while client::pump(&mut ws, false, &mut out, |_, _| {})
            .await
            .is_ok()
        {}
        stats.conn(false);
        // The closed socket's descriptor goes now, not once the client is
        // back: 10k of them would stand in the way of the new ones.
        drop(ws);
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
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    storm.refused.set(storm.refused.get() + 1);
                }
                Err(e) => stats.fail("reconnect", e),
            }
        };
        stats.conn(true);
        stats.record(down.elapsed().as_micros() as u64);
        stats.op();
        storm.last_back.set(Some(Instant::now()));
    }
}
