//! `connect`: new connections per second. K workers each loop: TCP
//! connect, WebSocket upgrade, the Engine.IO open packet, Socket.IO CONNECT
//! to `/` and its reply (raw mode: up to the upgrade), timed; then a
//! WebSocket close frame and the socket is dropped.

use std::io;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use super::{Measured, Scenario, Tasks};
use crate::cli::ConnectArgs;
use crate::client;
use crate::report::Report;
use crate::stats::measure;

/// Runs the scenario.
pub async fn run(args: ConnectArgs) -> io::Result<Report> {
    let case = format!("connect k={}", args.inflight);
    let scenario = Scenario::new(
        "connect",
        "connections",
        case,
        json!({ "inflight": args.inflight }),
    );
    scenario
        .run(&args.common, |common, stats| async move {
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
            Ok(Measured::new(window, args.inflight))
        })
        .await
}
