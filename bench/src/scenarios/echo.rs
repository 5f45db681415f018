//! `echo` over WebSocket: C connections, each keeping W events in flight.
//!
//! Each event carries its send time (µs on the generator's clock) as its
//! first argument: `42["echo",<t>,"xx…"]`; the server emits it back
//! (`42["echo",<t>,…]`), or with `--ack` acks it (`42<id>["echo-ack",<t>,…]`
//! answered by `43<id>[<t>,…]`). Every answer is timed and replaced by a
//! new event, so the window stays full. Raw mode sends `<t> xx…` frames
//! that the server sends back unchanged.

use std::cell::Cell;
use std::fmt::Write;
use std::io;
use std::rc::Rc;

use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use super::{merge, Measured, Scenario, Setup, Tasks};
use crate::cli::EchoArgs;
use crate::client::{self, send_all};
use crate::deflate_client::{DeflateWs, Wire};
use crate::now_us;
use crate::proto::{self, Incoming};
use crate::report::Report;
use crate::stats::{measure, Meter};

/// Runs the scenario.
pub async fn run(args: EchoArgs) -> io::Result<Report> {
    if let Some(mode) = args.compress.clone() {
        return run_compress(args, mode == "on").await;
    }
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

/// `echo --compress on|off`: the same loop over [`DeflateWs`], with the
/// bytes on the wire per event in the report's parameters
/// (`wire_bytes_per_event`, both directions, headers included) and whether
/// the server agreed to compress (`deflate`).
async fn run_compress(args: EchoArgs, offer: bool) -> io::Result<Report> {
    let mode = if offer { "on" } else { "off" };
    let case = format!(
        "echo c={} w={} p={} compress={mode}",
        args.connections, args.window, args.payload_bytes
    );
    let event = json!({ "event": "echo", "compress": mode });
    let scenario = Scenario::new("echo", "events", case, merge(event, params(&args)));
    scenario
        .run(&args.common, |common, stats| async move {
            let wire = Rc::new(Wire::default());
            let seed = Rc::new(Cell::new(1u64));
            let agreed = Rc::new(Cell::new(0usize));
            let setup = Setup::new(common.setup_concurrency);
            let mut tasks = Tasks::default();
            for _ in 0..args.connections {
                let (common, stats, setup) = (common.clone(), stats.clone(), setup.clone());
                let (wire, agreed, seed) = (wire.clone(), agreed.clone(), seed.clone());
                let (window, padding) = (args.window.max(1), args.payload_bytes);
                tasks.spawn(async move {
                    let connect = DeflateWs::connect(&common, offer, wire);
                    let Some(mut ws) = setup.run(&stats, connect).await else {
                        return;
                    };
                    agreed.set(agreed.get() + usize::from(ws.compressed));
                    let sender = Sender {
                        raw: false,
                        ack: false,
                        padding,
                        next_id: 0,
                    };
                    // Every event its own records: what context takeover
                    // gains is what real traffic shares (keys, shape).
                    let next = || {
                        seed.set(seed.get() + 1);
                        let body = json_like(padding, seed.get());
                        format!("42[\"echo\",{},{body}]", now_us())
                    };
                    let mut out: Vec<String> = (0..window).map(|_| next()).collect();
                    loop {
                        if let Err(e) = ws.send_all(&mut out).await {
                            stats.fail("send", e);
                            stats.conn(false);
                            return;
                        }
                        let turn = ws.read_turn(&mut out, |text, out| {
                            if let Some(sent) = sender.answer_time(text) {
                                stats.record(now_us().saturating_sub(sent));
                                stats.op();
                                out.push(next());
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
            stats.phase.set("warmup");
            tokio::time::sleep(common.warmup()).await;
            let before = wire.total();
            let meter = Meter::start(&stats, common.server_pid);
            tokio::time::sleep(common.duration()).await;
            let window = meter.stop(&stats);
            let bytes = wire.total() - before;
            drop(tasks);
            let per_event = bytes as f64 / window.ops.max(1) as f64;
            let mut measured = Measured::new(window, connections);
            measured.params = json!({
                "deflate": agreed.get() == connections && connections > 0,
                "wire_bytes_per_event": (per_event * 10.0).round() / 10.0,
            });
            Ok(measured)
        })
        .await
}

/// About `n` bytes of JSON that compresses as application data does (an
/// array of small records with varying values), not as padding does.
fn json_like(n: usize, seed: u64) -> String {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut out = String::from("[");
    let words = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa"];
    for i in 0u64.. {
        if out.len() >= n {
            break;
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"id\":{},\"user\":\"user-{}\",\"score\":{}.{:03},\"tag\":\"{}\"}}",
            x % 100_000,
            x % 977,
            x % 100,
            (x >> 20) % 1000,
            words[(x >> 40) as usize % words.len()]
        );
    }
    out.push(']');
    out
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
        Message::text(self.next_text())
    }

    fn next_text(&mut self) -> String {
        let t = now_us();
        if self.raw {
            proto::raw(&[t], self.padding)
        } else if self.ack {
            self.next_id += 1;
            proto::event("echo-ack", Some(self.next_id), &[t], self.padding)
        } else {
            proto::event("echo", None, &[t], self.padding)
        }
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
