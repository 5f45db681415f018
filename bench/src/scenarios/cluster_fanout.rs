//! `cluster-fanout`: the closed-loop fanout of `fanout`, across two nodes
//! of a cluster.
//!
//! N subscribers join the room on node A (`--addr`, the *local* node: the
//! trigger's) and N on node B (`--remote-addr`, the *remote* node); the
//! trigger on A asks for B events per batch, and the next batch goes once
//! every subscriber of both nodes has all B (or after `--batch-timeout`).
//! Each node's CPU time over the window is divided by the deliveries to its
//! own subscribers: a local delivery's share carries the trigger and the
//! publishing to the broker, a remote one's the reading from it. Their
//! ratio (remote / local) is the cost of crossing the cluster. The broker's
//! CPU (`--broker-pid`) is reported per delivery too.
//!
//! Loss: deliveries expected (batches × B × subscribers, per node) minus
//! received, after the last batch completed or timed out once more.

use std::io;
use std::rc::Rc;
use std::time::Duration;

use serde_json::json;

use super::fanout::{new_room, run_batch, set_loss, subscribe};
use super::{merge, Tasks};
use crate::cli::ClusterFanoutArgs;
use crate::client;
use crate::procfs::{CpuDelta, Sample};
use crate::report::{ClusterFigures, NodeFigures, Report};
use crate::stats::{spawn_progress, Latency, Meter, Stats, Window};

/// Runs batches until the window ends.
pub async fn run(args: ClusterFanoutArgs) -> io::Result<Report> {
    let common = Rc::new(args.common.clone());
    let remote_common = Rc::new(crate::cli::Common {
        addr: args.remote_addr,
        server_pid: args.remote_pid,
        ..args.common.clone()
    });
    let (stats_a, stats_b) = (Stats::new("deliveries"), Stats::new("deliveries"));
    let _progress = Tasks::from_handle(spawn_progress(stats_a.clone(), common.quiet));
    let (room_a, room_b) = (new_room(&stats_a), new_room(&stats_b));
    let mut tasks = Tasks::default();
    let n = args.subscribers;
    let na = subscribe(&common, &room_a, &args.batches.room, n, &mut tasks).await?;
    let nb = subscribe(&remote_common, &room_b, &args.batches.room, n, &mut tasks).await?;
    // Both nodes learn of each other's subscriptions through their own
    // rooms; let the cluster settle before the first batch.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut trigger = client::connect(&common).await?;
    let (per_a, per_b) = (
        na as u64 * u64::from(args.batches.batch),
        nb as u64 * u64::from(args.batches.batch),
    );
    let batch_timeout = args.batches.timeout();
    let (mut batch, mut expected_a, mut expected_b, mut timeouts) = (0u64, 0u64, 0u64, 0u64);
    let mut meters: Option<(Meter, Meter, Sample)> = None;
    let warmup_end = tokio::time::Instant::now() + common.warmup();
    let end = warmup_end + common.duration();
    stats_a.phase.set("warmup");
    let mut out = Vec::new();
    loop {
        let now = tokio::time::Instant::now();
        if meters.is_none() && now >= warmup_end {
            meters = Some((
                Meter::start(&stats_a, common.server_pid),
                Meter::start(&stats_b, args.remote_pid),
                Sample::take(args.broker_pid),
            ));
        }
        if now >= end {
            break;
        }
        batch += 1;
        expected_a += per_a;
        expected_b += per_b;
        room_a.start_batch(batch, per_a);
        room_b.start_batch(batch, per_b);
        let rooms = [&*room_a, &*room_b];
        if !run_batch(
            &mut trigger,
            &mut out,
            &common,
            &args.batches,
            batch,
            &rooms,
        )
        .await?
        {
            timeouts += 1;
        }
    }
    let (meter_a, meter_b, broker_start) =
        meters.ok_or_else(|| io::Error::other("the window never started"))?;
    let (window_a, window_b) = (meter_a.stop(&stats_a), meter_b.stop(&stats_b));
    let broker = CpuDelta::between(&broker_start, &Sample::take(args.broker_pid));
    let (lat_a, lat_b) = (window_a.latencies.clone(), window_b.latencies.clone());
    if timeouts > 0 {
        tokio::time::sleep(batch_timeout).await;
    }
    drop(tasks);

    let case = format!("cluster-fanout n={n}+{n} b={}", args.batches.batch);
    let params = merge(
        json!({
            "warmup_s": common.warmup,
            "duration_s": common.duration,
            "path": common.path,
        }),
        json!({
            "subscribers_per_node": n,
            "batch": args.batches.batch,
            "payload_bytes": args.batches.payload_bytes,
            "batches": batch,
            "batch_timeouts": timeouts,
            "remote_addr": args.remote_addr.to_string(),
        }),
    );
    let mut all = lat_a.clone();
    let _ = all.add(&lat_b);
    // The whole cluster: both nodes' CPU over every delivery; "other" is
    // what neither node, the generator nor the broker used.
    let ops = window_a.ops + window_b.ops;
    let both = |a: Option<f64>, b: Option<f64>| Some(a? + b?);
    let cpu = CpuDelta {
        secs: window_a.cpu.secs,
        server_us: both(window_a.cpu.server_us, window_b.cpu.server_us),
        server_sys_us: both(window_a.cpu.server_sys_us, window_b.cpu.server_sys_us),
        own_us: window_a.cpu.own_us,
        other_us: window_a.cpu.other_us.map(|o| {
            (o - window_b.cpu.server_us.unwrap_or(0.0) - broker.server_us.unwrap_or(0.0)).max(0.0)
        }),
    };
    let window = Window {
        cpu,
        ops,
        errors: window_a.errors + window_b.errors,
        load1: window_a.load1,
        latencies: all,
    };
    let mut report = Report::new(
        "cluster-fanout",
        case,
        &common,
        "deliveries",
        params,
        &window,
    );
    report.connections = (na + nb) as u64;
    set_loss(
        &mut report,
        expected_a + expected_b,
        room_a.received.get() + room_b.received.get(),
    );
    let local = node(
        "local",
        &window_a,
        &lat_a,
        expected_a,
        room_a.received.get(),
    );
    let remote = node(
        "remote",
        &window_b,
        &lat_b,
        expected_b,
        room_b.received.get(),
    );
    let remote_over_local = match (local.cpu_us_per_delivery, remote.cpu_us_per_delivery) {
        (Some(l), Some(r)) if l > 0.0 => Some(r / l),
        _ => None,
    };
    report.cluster = Some(ClusterFigures {
        broker_cpu_us_per_delivery: broker.server_us.filter(|_| ops > 0).map(|u| u / ops as f64),
        broker_cpu_pct: broker.pct(broker.server_us),
        remote_over_local,
        nodes: vec![local, remote],
    });
    Ok(report)
}

fn node(
    role: &str,
    w: &Window,
    latencies: &hdrhistogram::Histogram<u64>,
    expected: u64,
    received: u64,
) -> NodeFigures {
    let per = |us: Option<f64>| us.filter(|_| w.ops > 0).map(|u| u / w.ops as f64);
    NodeFigures {
        role: role.to_string(),
        deliveries: w.ops,
        lost: expected.saturating_sub(received),
        cpu_us_per_delivery: per(w.cpu.server_us),
        sys_us_per_delivery: per(w.cpu.server_sys_us),
        cpu_pct: w.cpu.pct(w.cpu.server_us),
        latency_us: Latency::of(latencies),
    }
}
