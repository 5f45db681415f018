//! `idle`: the server's RSS (`VmRSS` of `/proc/<pid>/status`) with no
//! client, then with N connected clients that only answer pings; bytes per
//! connection. The measured window is the set-up of the N connections, so
//! the report also gives the server's CPU per connection set up.

use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{common_params, finish, with_params, Setup, Tasks};
use crate::cli::IdleArgs;
use crate::client;
use crate::procfs::rss_kib;
use crate::report::Report;
use crate::stats::{spawn_progress, Meter, Stats};

/// Runs the scenario.
pub async fn run(args: IdleArgs) -> io::Result<Report> {
    let common = Rc::new(args.common.clone());
    let pid = common
        .server_pid
        .ok_or_else(|| io::Error::other("idle needs --server-pid"))?;
    let empty = rss_kib(pid).ok_or_else(|| io::Error::other(format!("no VmRSS for pid {pid}")))?;
    let stats = Stats::new("connections");
    let _progress = Tasks::from_handle(spawn_progress(stats.clone(), common.quiet));
    let setup = Setup::new(common.setup_concurrency);
    let meter = Meter::start(&stats, Some(pid));
    stats.phase.set("setup");
    let mut tasks = Tasks::default();
    for _ in 0..args.connections {
        let (common, stats, setup) = (common.clone(), stats.clone(), setup.clone());
        tasks.spawn(async move {
            let start = Instant::now();
            let Some(mut ws) = setup.run(&stats, client::connect(&common)).await else {
                return;
            };
            stats.record(start.elapsed().as_micros() as u64);
            stats.op();
            let mut out = Vec::new();
            loop {
                if let Err(e) = client::pump(&mut ws, common.raw, &mut out, |_, _| {}).await {
                    stats.fail("idle connection", e);
                    stats.conn(false);
                    return;
                }
            }
        });
    }
    let connected = setup.wait(args.connections).await?;
    let window = meter.stop(&stats);
    let latencies = stats.latencies();
    stats.phase.set("settle");
    tokio::time::sleep(Duration::from_secs_f64(args.settle.max(0.0))).await;
    let loaded = rss_kib(pid).ok_or_else(|| io::Error::other("the server is gone"))?;
    let still = stats.conns.get();
    drop(tasks);
    let case = format!("idle c={}", args.connections);
    let params = with_params(
        common_params(&common),
        json!({ "connections": args.connections, "settle_s": args.settle, "connected_at_reading": still }),
    );
    let mut report = Report::new(
        "idle",
        case,
        &common,
        "connections",
        params,
        &window,
        Some(&latencies),
    );
    report.rss_kib_empty = Some(empty);
    report.rss_kib_loaded = Some(loaded);
    report.rss_bytes_per_conn =
        Some((loaded.saturating_sub(empty) * 1024) as f64 / still.max(1) as f64);
    Ok(finish(report, connected))
}
