//! `connect`: new connections per second. K workers each loop: TCP
//! connect, WebSocket upgrade, the Engine.IO open packet, Socket.IO CONNECT
//! to `/` and its reply (raw mode: up to the upgrade), timed; then a
//! WebSocket close frame and the socket is dropped.

use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use super::{common_params, finish, with_params, Tasks};
use crate::cli::ConnectArgs;
use crate::client;
use crate::report::Report;
use crate::stats::{measure, spawn_progress, Stats};

/// Runs the scenario.
pub async fn run(args: ConnectArgs) -> io::Result<Report> {
    let common = Rc::new(args.common.clone());
    let stats = Stats::new("connections");
    let _progress = Tasks::from_handle(spawn_progress(stats.clone(), common.quiet));
    let mut tasks = Tasks::default();
    for _ in 0..args.inflight.max(1) {
        let (common, stats) = (common.clone(), stats.clone());
        tasks.spawn(async move {
            loop {
                let start = Instant::now();
                match client::connect(&common).await {
                    Ok(mut ws) => {
                        stats.record(start.elapsed().as_micros() as u64);
                        stats.op();
                        let _ = ws.send(Message::Close(None)).await;
                    }
                    Err(e) => {
                        stats.fail("connect", e);
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        });
    }
    let window = measure(&stats, &common).await;
    let latencies = stats.latencies();
    drop(tasks);
    let case = format!("connect k={}", args.inflight);
    let params = with_params(common_params(&common), json!({ "inflight": args.inflight }));
    let report = Report::new(
        "connect",
        case,
        &common,
        "connections",
        params,
        &window,
        Some(&latencies),
    );
    Ok(finish(report, args.inflight))
}
