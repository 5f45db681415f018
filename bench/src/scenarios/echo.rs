//! `echo` over WebSocket: C connections, each keeping W events in flight.
//!
//! Each event carries its send time (µs on the generator's clock) as its
//! first argument: `42["echo",<t>,"xx…"]`; the server emits it back
//! (`42["echo",<t>,…]`), or with `--ack` acks it (`42<id>["echo-ack",<t>,…]`
//! answered by `43<id>[<t>,…]`). Every answer is timed and replaced by a
//! new event, so the window stays full. Raw mode sends `<t> xx…` frames
//! that the server sends back unchanged.

use std::io;

use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use super::{merge, Measured, Scenario, Setup, Tasks};
use crate::cli::EchoArgs;
use crate::client::{self, send_all};
use crate::now_us;
use crate::proto::{self, Incoming};
use crate::report::Report;
use crate::stats::measure;

/// Runs the scenario.
pub async fn run(args: EchoArgs) -> io::Result<Report> {
    let ack = if args.ack { " ack" } else { "" };
    let case = format!("echo c={} w={}{ack}", args.connections, args.window);
    let event = json!({ "event": if args.ack { "echo-ack" } else { "echo" } });
    let scenario = Scenario::new("echo", "events", case, merge(event, params(&args)));
    scenario
        .run(&args.common, |common, stats| async move {
            let setup = Setup::new(common.setup_concurrency);
            let mut tasks = Tasks::default();
            for _ in 0..args.connections {
                let (common, stats, setup) = (common.clone(), stats.clone(), setup.clone());
                let (window, padding, ack) = (args.window.max(1), args.payload_bytes, args.ack);
                tasks.spawn(async move {
                    let Some(mut ws) = setup.run(&stats, client::connect(&common)).await else {
                        return;
                    };
                    let mut sender = Sender {
                        raw: common.raw,
                        ack,
                        padding,
                        next_id: 0,
                    };
                    let mut out: Vec<Message> = (0..window).map(|_| sender.next()).collect();
                    if let Err(e) = send_all(&mut ws, &mut out).await {
                        stats.fail("send", e);
                        stats.conn(false);
                        return;
                    }
                    loop {
                        let turn = client::pump(&mut ws, common.raw, &mut out, |text, out| {
                            if let Some(sent) = sender.answer_time(text) {
                                stats.record(now_us().saturating_sub(sent));
                                stats.op();
                                out.push(sender.next());
                            }
                        });
                        if let Err(e) = turn.await {
                            stats.fail("connection", e);
                            stats.conn(false);
                            return;
                        }
                    }
                });
            }
            let connections = setup.wait(args.connections).await?;
            let window = measure(&stats, &common).await;
            drop(tasks);
            Ok(Measured::new(window, connections))
        })
        .await
}

/// The parameters of an `echo` or `polling` run.
pub fn params(args: &EchoArgs) -> Value {
    let (connections, window) = (args.connections, args.window);
    json!({ "connections": connections, "window": window, "payload_bytes": args.payload_bytes })
}

/// Builds a connection's events and reads the send time back from answers.
struct Sender {
    raw: bool,
    ack: bool,
    padding: usize,
    next_id: u64,
}

impl Sender {
    fn next(&mut self) -> Message {
        let t = now_us();
        let text = if self.raw {
            proto::raw(&[t], self.padding)
        } else if self.ack {
            self.next_id += 1;
            proto::event("echo-ack", Some(self.next_id), &[t], self.padding)
        } else {
            proto::event("echo", None, &[t], self.padding)
        };
        Message::text(text)
    }

    /// The send time carried by an answer, if `text` is one.
    fn answer_time(&self, text: &str) -> Option<u64> {
        let ints = if self.raw {
            proto::leading_ints::<1>(text)
        } else {
            match proto::parse(text) {
                Incoming::Event { name: "echo", rest } if !self.ack => {
                    proto::leading_ints::<1>(rest)
                }
                Incoming::Ack { args, .. } if self.ack => proto::leading_ints::<1>(args),
                _ => None,
            }
        };
        ints.map(|[t]| t)
    }
}
