//! `connect`: new connections per second. K workers each loop: TCP
//! connect, WebSocket upgrade, the Engine.IO open packet, Socket.IO CONNECT
//! to `/` and its reply (raw mode, against the ceiling: the same frames
//! without the protocols, [`client::raw_connect`]), timed; then a
//! WebSocket close frame and the socket is dropped. With `--upgrade`, each
//! connection takes the default client's path instead (polling handshake
//! and CONNECT, probe, upgrade: [`crate::upgrade`]) up to the `5` sent over
//! the WebSocket.

use std::io;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use super::{Measured, Scenario, Tasks};
use crate::cli::ConnectArgs;
use crate::report::Report;
use crate::stats::measure;
use crate::{client, upgrade};

/// Runs the scenario.
pub async fn run(args: ConnectArgs) -> io::Result<Report> {
    if args.upgrade && args.common.raw {
        return Err(io::Error::other("--upgrade has no raw mode"));
    }
    let case = format!(
        "connect k={}{}",
        args.inflight,
        if args.upgrade { " upgrade" } else { "" }
    );
    let scenario = Scenario::new(
        "connect",
        "connections",
        case,
        json!({ "inflight": args.inflight, "upgrade": args.upgrade }),
    );
    scenario
        .run(&args.common, |common, stats| async move {
            let mut tasks = Tasks::default();
            for _ in 0..args.inflight.max(1) {
                let (common, stats) = (common.clone(), stats.clone());
                tasks.spawn(async move {
                    loop {
                        let start = Instant::now();
                        let conn = if args.upgrade {
                            upgrade::connect(&common).await
                        } else if common.raw {
                            client::raw_connect(&common).await
                        } else {
                            client::connect(&common).await
                        };
                        match conn {
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
