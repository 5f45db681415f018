//! `idle`: the server's RSS (`VmRSS` of `/proc/<pid>/status`) with no
//! client, then with N connected clients that only answer pings; bytes per
//! connection. The measured window is the set-up of the N connections, so
//! the report also gives the server's CPU per connection set up.

use std::io;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{Measured, Rss, Scenario, Setup, Tasks};
use crate::cli::IdleArgs;
use crate::client;
use crate::procfs::rss_kib;
use crate::report::Report;
use crate::stats::Meter;

/// Runs the scenario.
pub async fn run(args: IdleArgs) -> io::Result<Report> {
    let pid = args
        .common
        .server_pid
        .ok_or_else(|| io::Error::other("idle needs --server-pid"))?;
    let empty = rss_kib(pid).ok_or_else(|| io::Error::other(format!("no VmRSS for pid {pid}")))?;
    let case = format!("idle c={}", args.connections);
    let params = json!({ "connections": args.connections, "settle_s": args.settle });
    let scenario = Scenario::new("idle", "connections", case, params);
    scenario
        .run(&args.common, |common, stats| async move {
            let setup = Setup::new(common.setup_concurrency);
            let meter = Meter::start(&stats, Some(pid));
            stats.phase.set("setup");
            let mut tasks = Tasks::default();
            for i in 0..args.connections {
                let (common, stats, setup) = (common.for_client(i), stats.clone(), setup.clone());
                tasks.spawn(async move {
                    let start = Instant::now();
                    let Some(mut ws) = setup.run(&stats, client::connect(&common)).await else {
                        return;
                    };
                    stats.record(start.elapsed().as_micros() as u64);
                    stats.op();
                    let mut out = Vec::new();
                    loop {
                        if let Err(e) = client::pump(&mut ws, common.raw, &mut out, |_, _| {}).await
                        {
                            stats.fail("idle connection", e);
                            stats.conn(false);
                            return;
                        }
                    }
                });
            }
            let connected = setup.wait(args.connections).await?;
            let window = meter.stop(&stats);
            stats.phase.set("settle");
            tokio::time::sleep(Duration::from_secs_f64(args.settle.max(0.0))).await;
            let loaded = rss_kib(pid).ok_or_else(|| io::Error::other("the server is gone"))?;
            let still = stats.conns.get();
            drop(tasks);
            Ok(Measured {
                params: json!({ "connected_at_reading": still }),
                rss: Some(Rss {
                    empty_kib: empty,
                    loaded_kib: loaded,
                    connections: still,
                }),
                ..Measured::new(window, connected)
            })
        })
        .await
}
