//! `fanout` (closed loop) and `fanout-latency` (open loop).
//!
//! N subscribers join one room (`42<id>["join","bench"]`, acked). A trigger
//! connection, not in the room, emits `42<id>["fanout",{"room":"bench",
//! "count":B,"payload":[<batch>,<t>,"xx…"]}]`; the server emits B events
//! `42["fanout",[<batch>,<t>,"xx…"]]` to the room. Every subscriber times
//! each delivery against `<t>` and counts it.
//!
//! - closed loop: the trigger sends the next batch only once every
//!   subscriber has all B of the current one (or after `--batch-timeout`).
//! - open loop: `--rate` single-event broadcasts per second, whatever the
//!   deliveries do.
//!
//! Loss: deliveries expected (batches × B × subscribers) minus received,
//! counted after the last batch completed or the grace period ended. In raw
//! mode (a bare broadcast server) subscribers do not join, and the trigger
//! sends B frames `<batch> <t> xx…` that the server writes to every other
//! socket.

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::{Deliveries, Measured, Scenario, Setup, Tasks};
use crate::cli::{BatchArgs, Common, FanoutArgs, FanoutLatencyArgs};
use crate::client::{self, send_all, Ws};
use crate::now_us;
use crate::proto::{self, Incoming};
use crate::report::Report;
use crate::stats::{Stats, Timeline};

/// State shared by the subscribers and the trigger.
pub(super) struct Room {
    stats: Rc<Stats>,
    /// The batch being delivered (closed loop).
    batch: Cell<u64>,
    /// Deliveries of the current batch still missing.
    remaining: Cell<u64>,
    /// Set when `remaining` reaches zero; `done` is notified then.
    pub(super) complete: Cell<bool>,
    pub(super) done: Notify,
    /// Deliveries received, every batch.
    pub(super) received: Cell<u64>,
}

impl Room {
    fn delivered(&self, batch: u64, sent: u64) {
        self.stats.record(now_us().saturating_sub(sent));
        self.stats.op();
        self.received.set(self.received.get() + 1);
        if batch == self.batch.get() && self.remaining.get() > 0 {
            let left = self.remaining.get() - 1;
            self.remaining.set(left);
            if left == 0 {
                self.complete.set(true);
                self.done.notify_one();
            }
        }
    }

    /// Starts batch `batch` of `deliveries`.
    pub(super) fn start_batch(&self, batch: u64, deliveries: u64) {
        self.batch.set(batch);
        self.remaining.set(deliveries);
        self.complete.set(deliveries == 0);
    }
}

/// Connects `n` subscribers that join `room` and count deliveries.
pub(super) async fn subscribe(
    common: &Rc<Common>,
    state: &Rc<Room>,
    room: &str,
    n: usize,
    tasks: &mut Tasks,
) -> io::Result<usize> {
    let setup = Setup::new(common.setup_concurrency);
    for i in 0..n {
        let (common, state, setup, room) = (
            common.for_client(i),
            state.clone(),
            setup.clone(),
            room.to_string(),
        );
        tasks.spawn(async move {
            let stats = state.stats.clone();
            let join = async {
                let mut ws = client::connect(&common).await?;
                if !common.raw {
                    client::request(&mut ws, proto::join(&room, 1), 1).await?;
                }
                Ok(ws)
            };
            let Some(mut ws) = setup.run(&stats, join).await else {
                return;
            };
            let raw = common.raw;
            let mut out = Vec::new();
            loop {
                let turn = client::pump(&mut ws, raw, &mut out, |text, _| {
                    let ints = if raw {
                        proto::leading_ints::<2>(text)
                    } else {
                        match proto::parse(text) {
                            Incoming::Event {
                                name: "fanout",
                                rest,
                            } => proto::leading_ints::<2>(rest),
                            _ => None,
                        }
                    };
                    if let Some([batch, sent]) = ints {
                        state.delivered(batch, sent);
                    }
                });
                if let Err(e) = turn.await {
                    stats.fail("subscriber", e);
                    stats.conn(false);
                    return;
                }
            }
        });
    }
    setup.wait(n).await
}

/// The trigger's requests for batch `batch` of `count` events.
pub(super) fn batch_frames(
    common: &Common,
    room: &str,
    batch: u64,
    count: u32,
    padding: usize,
) -> Vec<Message> {
    let t = now_us();
    if common.raw {
        (0..count)
            .map(|_| Message::text(proto::raw(&[batch, t], padding)))
            .collect()
    } else {
        vec![Message::text(proto::fanout(
            room,
            count,
            batch,
            &[batch, t],
            padding,
        ))]
    }
}

/// Sends batch `batch` on the trigger (after what `out` already holds),
/// then waits until each of `rooms` has it whole or the batch timeout has
/// passed, answering the trigger's pings meanwhile. `false` when the batch
/// timed out.
pub(super) async fn run_batch(
    trigger: &mut Ws,
    out: &mut Vec<Message>,
    common: &Common,
    args: &BatchArgs,
    batch: u64,
    rooms: &[&Room],
) -> io::Result<bool> {
    let raw = common.raw;
    out.extend(batch_frames(
        common,
        &args.room,
        batch,
        args.batch,
        args.payload_bytes,
    ));
    send_all(trigger, out).await?;
    let deadline = tokio::time::sleep(args.timeout());
    tokio::pin!(deadline);
    for room in rooms {
        while !room.complete.get() {
            tokio::select! {
                _ = room.done.notified() => {}
                _ = &mut deadline => return Ok(false),
                frame = trigger.next() => {
                    trigger_read(raw, frame, out)?;
                    send_all(trigger, out).await?;
                }
            }
        }
    }
    Ok(true)
}

/// Reads one frame of the trigger's connection (acks, pings).
pub(super) fn trigger_read(
    raw: bool,
    frame: Option<Result<Message, impl std::fmt::Display>>,
    out: &mut Vec<Message>,
) -> io::Result<()> {
    match frame {
        Some(Ok(Message::Text(t))) => {
            if !raw && proto::parse(&t) == Incoming::Ping {
                out.push(Message::text(proto::PONG));
            }
            Ok(())
        }
        Some(Ok(Message::Close(_))) | None => Err(io::Error::other("trigger connection closed")),
        Some(Ok(_)) => Ok(()),
        Some(Err(e)) => Err(client::io_err(e)),
    }
}

/// The subscribers in the room and the trigger that asks for broadcasts.
struct Audience {
    room: Rc<Room>,
    /// Subscribers set up.
    subscribers: usize,
    trigger: Ws,
    tasks: Tasks,
}

impl Audience {
    /// Connects `n` subscribers to `room`, then the trigger.
    async fn open(
        common: &Rc<Common>,
        stats: &Rc<Stats>,
        room: &str,
        n: usize,
    ) -> io::Result<Self> {
        let state = new_room(stats);
        let mut tasks = Tasks::default();
        let subscribers = subscribe(common, &state, room, n, &mut tasks).await?;
        let trigger = client::connect(common).await?;
        Ok(Audience {
            room: state,
            subscribers,
            trigger,
            tasks,
        })
    }

    /// Stops the subscribers; `expected` against what they received.
    fn close(self, expected: u64) -> Deliveries {
        drop(self.tasks);
        Deliveries {
            expected,
            received: self.room.received.get(),
        }
    }
}

/// Closed loop: runs batches until the window ends.
pub async fn run_closed(args: FanoutArgs) -> io::Result<Report> {
    let case = format!("fanout n={} b={}", args.subscribers, args.batches.batch);
    let batch = ("batch", json!(args.batches.batch));
    let params = params(args.subscribers, batch, args.batches.payload_bytes);
    let scenario = Scenario::new("fanout", "deliveries", case, params);
    scenario
        .run(&args.common, |common, stats| async move {
            let mut audience =
                Audience::open(&common, &stats, &args.batches.room, args.subscribers).await?;
            let (state, trigger) = (audience.room.clone(), &mut audience.trigger);
            let per_batch = audience.subscribers as u64 * u64::from(args.batches.batch);
            let batch_timeout = args.batches.timeout();
            let (mut batch, mut expected, mut timeouts) = (0u64, 0u64, 0u64);
            let mut timeline = Timeline::start(&stats, &common);
            let mut out = Vec::new();
            while timeline.at(Instant::now(), &stats) {
                batch += 1;
                expected += per_batch;
                state.start_batch(batch, per_batch);
                let rooms = [&*state];
                if !run_batch(trigger, &mut out, &common, &args.batches, batch, &rooms).await? {
                    timeouts += 1;
                }
            }
            let window = timeline.stop(&stats)?;
            // Every batch but a timed-out one completed: what is missing now
            // is lost (a timed-out batch gets one more timeout to arrive).
            if timeouts > 0 {
                tokio::time::sleep(batch_timeout).await;
            }
            let subscribers = audience.subscribers;
            Ok(Measured {
                params: json!({ "batches": batch, "batch_timeouts": timeouts }),
                deliveries: Some(audience.close(expected)),
                ..Measured::new(window, subscribers)
            })
        })
        .await
}

/// Open loop: `rate` single-event broadcasts per second.
pub async fn run_open(args: FanoutLatencyArgs) -> io::Result<Report> {
    let case = format!("fanout-latency n={} rate={}", args.subscribers, args.rate);
    let rate = ("rate", json!(args.rate));
    let params = params(args.subscribers, rate, args.payload_bytes);
    let scenario = Scenario::new("fanout-latency", "deliveries", case, params);
    scenario
        .run(&args.common, |common, stats| async move {
            let mut audience =
                Audience::open(&common, &stats, &args.room, args.subscribers).await?;
            let n = audience.subscribers;
            let trigger = &mut audience.trigger;
            let period = Duration::from_secs_f64(1.0 / args.rate.max(0.001));
            let mut ticker = tokio::time::interval(period);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let (mut batch, mut expected) = (0u64, 0u64);
            let mut out = Vec::new();
            let mut timeline = Timeline::start(&stats, &common);
            loop {
                tokio::select! {
                    at = ticker.tick() => {
                        if !timeline.at(at, &stats) {
                            break;
                        }
                        batch += 1;
                        expected += n as u64;
                        out.extend(batch_frames(&common, &args.room, batch, 1, args.payload_bytes));
                    }
                    frame = trigger.next() => trigger_read(common.raw, frame, &mut out)?,
                }
                send_all(trigger, &mut out).await?;
            }
            let mut window = timeline.stop(&stats)?;
            // Late deliveries: wait for them, up to the grace period; their
            // latencies count.
            let grace_end = Instant::now() + Duration::from_secs_f64(args.grace.max(0.0));
            let received = || audience.room.received.get();
            while received() < expected && Instant::now() < grace_end {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            window.latencies = stats.latencies();
            Ok(Measured {
                params: json!({ "broadcasts": batch, "grace_s": args.grace }),
                deliveries: Some(audience.close(expected)),
                ..Measured::new(window, n)
            })
        })
        .await
}

/// The parameters of a fanout run; `pace` is the batch or the rate.
fn params(subscribers: usize, pace: (&str, Value), payload_bytes: usize) -> Value {
    let mut params = json!({ "subscribers": subscribers });
    params[pace.0] = pace.1;
    params["payload_bytes"] = json!(payload_bytes);
    params
}

pub(super) fn new_room(stats: &Rc<Stats>) -> Rc<Room> {
    Rc::new(Room {
        stats: stats.clone(),
        batch: Cell::new(0),
        remaining: Cell::new(0),
        complete: Cell::new(true),
        done: Notify::new(),
        received: Cell::new(0),
    })
}

pub(super) fn set_loss(report: &mut Report, expected: u64, received: u64) {
    report.expected = Some(expected);
    report.received = Some(received);
    report.lost = Some(expected.saturating_sub(received));
}
