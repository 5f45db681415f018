//! `recovery`: connection state recovery under churn.
//!
//! 1. N subscribers connect (WebSocket) and join one room; a trigger
//!    connection, not in the room, then asks for `--rate` single-event
//!    broadcasts per second (`fanout` with count 1, as `fanout-latency`):
//!    `42["fanout",[<seq>,<t>,"xx…"]]`, plus the offset as a last argument
//!    when the server has recovery on.
//! 2. Every second of the window, `--churn` of the subscribers (the next
//!    ones in a round-robin order, among those connected) have their TCP
//!    connection cut abruptly (RST: `SO_LINGER` 0, no WebSocket or
//!    Engine.IO close), and reconnect after `--reconnect-delay-ms`.
//! 3. Each subscriber speaks the recovery protocol as socket.io-client
//!    does: it keeps the `pid` of the CONNECT answer and the offset of the
//!    last event, and reconnects with `40{"pid":…,"offset":…}`. The session
//!    is recovered when the answer carries the same `pid`; otherwise it is
//!    fresh and the subscriber joins the room again.
//! 4. Each subscriber counts every `<seq>` once (a bitset): a second copy
//!    is a duplicate, one below the highest seen so far out of order.
//!    Expected: broadcasts × subscribers set up; delivered: distinct
//!    `(subscriber, seq)` pairs, counted once the window is over, every
//!    subscriber is back and the deliveries stopped growing (at most
//!    `--grace` s).
//!
//! The store's size is reconstructed from the frames received: the first
//! copy of each `<seq>` adds its frame's bytes and the room's name, as the
//! server's store counts them — exact while the run is shorter than the
//! store's `max_disconnection_duration` (2 min) and under its 64 MiB, so
//! that every broadcast is still stored. The server's RSS is read once the
//! subscribers are connected and again at the end. There is no warmup
//! (`--warmup` is ignored): the window is the churn, from the first
//! broadcast to the last.

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::fanout::{batch_frames, trigger_read};
use super::{Deliveries, Measured, Scenario, Setup, Tasks};
use crate::cli::{Common, RecoveryArgs};
use crate::client::{self, io_err, send_all, Ws};
use crate::now_us;
use crate::procfs::rss_kib;
use crate::proto::{self, Incoming};
use crate::report::Report;
use crate::stats::{Meter, Stats};

/// What the subscribers share.
struct Shared {
    stats: Rc<Stats>,
    common: Rc<Common>,
    room: String,
    reconnect_delay: Duration,
    /// Distinct deliveries (subscriber, seq).
    received: Cell<u64>,
    duplicates: Cell<u64>,
    out_of_order: Cell<u64>,
    reconnections: Cell<u64>,
    recovered: Cell<u64>,
    fresh: Cell<u64>,
    failed_reconnects: Cell<u64>,
    /// Whether a CONNECT answer carried a `pid` (recovery on).
    pid_seen: Cell<bool>,
    /// Seqs seen by anyone, and the bytes the store keeps for them.
    stored: RefCell<Bits>,
    stored_bytes: Cell<u64>,
    /// Subscribers connected now.
    up: Cell<usize>,
    /// Once set, subscribers no longer reconnect after a failure.
    stopping: Cell<bool>,
}

/// A growable bitset of seqs.
#[derive(Default)]
struct Bits(Vec<u64>);

impl Bits {
    /// Sets bit `n`; whether it was clear.
    fn insert(&mut self, n: u64) -> bool {
        let (word, bit) = ((n / 64) as usize, n % 64);
        if word >= self.0.len() {
            self.0.resize(word + 1, 0);
        }
        let was_clear = self.0[word] & (1 << bit) == 0;
        self.0[word] |= 1 << bit;
        was_clear
    }
}

/// One subscriber's recovery state and deliveries.
#[derive(Default)]
struct Me {
    pid: Option<String>,
    offset: Option<String>,
    seen: Bits,
    max_seq: u64,
}

/// The per-subscriber handles the churn ticker uses.
struct Handle {
    cut: Notify,
    up: Cell<bool>,
}

/// Runs the scenario.
pub async fn run(args: RecoveryArgs) -> io::Result<Report> {
    if args.common.raw {
        return Err(io::Error::other("recovery has no raw mode"));
    }
    let case = format!(
        "recovery n={} churn={}% rate={}",
        args.subscribers,
        args.churn * 100.0,
        args.rate
    );
    let params = json!({
        "subscribers": args.subscribers,
        "churn_per_s": args.churn,
        "rate": args.rate,
        "payload_bytes": args.payload_bytes,
        "reconnect_delay_ms": args.reconnect_delay_ms,
    });
    let scenario = Scenario::new("recovery", "deliveries", case, params);
    let common = args.common.clone();
    scenario
        .run(&common, |common, stats| body(args, common, stats))
        .await
}

async fn body(args: RecoveryArgs, common: Rc<Common>, stats: Rc<Stats>) -> io::Result<Measured> {
    let shared = Rc::new(Shared {
        stats: stats.clone(),
        common: common.clone(),
        room: args.room.clone(),
        reconnect_delay: Duration::from_millis(args.reconnect_delay_ms),
        received: Cell::new(0),
        duplicates: Cell::new(0),
        out_of_order: Cell::new(0),
        reconnections: Cell::new(0),
        recovered: Cell::new(0),
        fresh: Cell::new(0),
        failed_reconnects: Cell::new(0),
        pid_seen: Cell::new(false),
        stored: RefCell::new(Bits::default()),
        stored_bytes: Cell::new(0),
        up: Cell::new(0),
        stopping: Cell::new(false),
    });
    stats.phase.set("setup");
    let setup = Setup::new(common.setup_concurrency);
    let mut tasks = Tasks::default();
    let mut handles = Vec::with_capacity(args.subscribers);
    for _ in 0..args.subscribers {
        let handle = Rc::new(Handle {
            cut: Notify::new(),
            up: Cell::new(false),
        });
        handles.push(handle.clone());
        let (shared, setup) = (shared.clone(), setup.clone());
        tasks.spawn(async move {
            let mut me = Me::default();
            let first = setup.run(&shared.stats, session(&shared, &mut me, false));
            let Some(ws) = first.await else { return };
            subscriber(ws, me, &shared, &handle).await;
        });
    }
    let n = setup.wait(args.subscribers).await?;
    let rss_connected = common.server_pid.and_then(rss_kib);
    let mut trigger = client::connect(&common).await?;

    let period = Duration::from_secs_f64(1.0 / args.rate.max(0.001));
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut churn = tokio::time::interval(Duration::from_secs(1));
    churn.tick().await;
    let per_tick = ((n as f64 * args.churn).round() as usize).min(n);
    let (mut cursor, mut cuts) = (0usize, 0u64);
    let (mut seq, mut out) = (0u64, Vec::new());
    let meter = Meter::start(&stats, common.server_pid);
    stats.phase.set("churn");
    let end = Instant::now() + common.duration();
    loop {
        tokio::select! {
            at = ticker.tick() => {
                if at >= end {
                    break;
                }
                seq += 1;
                out.extend(batch_frames(&common, &args.room, seq, 1, args.payload_bytes));
            }
            _ = churn.tick() => {
                // The next `per_tick` connected subscribers, round robin.
                let (mut done, mut looked) = (0, 0);
                while done < per_tick && looked < handles.len() {
                    let h = &handles[cursor];
                    cursor = (cursor + 1) % handles.len();
                    looked += 1;
                    if h.up.get() {
                        h.up.set(false);
                        h.cut.notify_one();
                        done += 1;
                    }
                }
                cuts += done as u64;
            }
            frame = trigger.next() => trigger_read(false, frame, &mut out)?,
        }
        send_all(&mut trigger, &mut out).await?;
    }
    let mut window = meter.stop(&stats);
    // Every subscriber back and the deliveries settled, or the grace ends.
    let expected = seq * n as u64;
    let grace_end = Instant::now() + Duration::from_secs_f64(args.grace.max(0.0));
    let mut last = (shared.received.get(), Instant::now());
    while Instant::now() < grace_end && shared.received.get() < expected {
        tokio::select! {
            frame = trigger.next() => trigger_read(false, frame, &mut out)?,
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
        send_all(&mut trigger, &mut out).await?;
        let now = shared.received.get();
        if now != last.0 || shared.up.get() < n {
            last = (now, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(1) {
            break;
        }
    }
    window.latencies = stats.latencies();
    let rss_end = common.server_pid.and_then(rss_kib);
    shared.stopping.set(true);
    drop(tasks);
    let recovery_on = shared.pid_seen.get();
    let store = |v: u64| if recovery_on { json!(v) } else { Value::Null };
    Ok(Measured {
        params: json!({
            "recovery": recovery_on,
            "broadcasts": seq,
            "cuts": cuts,
            "reconnections": shared.reconnections.get(),
            "recovered": shared.recovered.get(),
            "fresh": shared.fresh.get(),
            "failed_reconnects": shared.failed_reconnects.get(),
            "duplicates": shared.duplicates.get(),
            "out_of_order": shared.out_of_order.get(),
            "up_at_end": shared.up.get(),
            "rss_kib_connected": rss_connected,
            "rss_kib_end": rss_end,
            "stored_packets": store(seq),
            "stored_bytes": store(shared.stored_bytes.get()),
        }),
        deliveries: Some(Deliveries {
            expected,
            received: shared.received.get(),
        }),
        ..Measured::new(window, n)
    })
}

/// One subscriber after its first session: delivers until cut, then cuts
/// the TCP connection (RST), waits and reconnects, recovering if it can.
async fn subscriber(mut ws: Ws, mut me: Me, shared: &Shared, handle: &Handle) {
    let mut out = Vec::new();
    loop {
        shared.up.set(shared.up.get() + 1);
        handle.up.set(true);
        let cut = tokio::select! {
            e = deliver(&mut ws, &mut me, shared, &mut out) => {
                shared.stats.fail("subscriber", e);
                false
            }
            _ = handle.cut.notified() => true,
        };
        handle.up.set(false);
        shared.up.set(shared.up.get() - 1);
        shared.stats.conn(false);
        // Abrupt: no close frame, RST instead of FIN.
        let _ = ws.get_ref().set_zero_linger();
        drop(ws);
        if !cut && shared.stopping.get() {
            return;
        }
        ws = loop {
            tokio::time::sleep(shared.reconnect_delay).await;
            match session(shared, &mut me, true).await {
                Ok(ws) => break ws,
                Err(e) => {
                    shared
                        .failed_reconnects
                        .set(shared.failed_reconnects.get() + 1);
                    shared.stats.fail("reconnect", e);
                }
            }
        };
        shared.stats.conn(true);
    }
}

/// Reads events until the connection fails.
async fn deliver(ws: &mut Ws, me: &mut Me, shared: &Shared, out: &mut Vec<Message>) -> io::Error {
    loop {
        let turn = client::pump(ws, false, out, |text, _| {
            on_frame(text, me, shared);
        });
        if let Err(e) = turn.await {
            return e;
        }
    }
}

/// Counts an event frame; the ack id of an ACK frame.
fn on_frame(text: &str, me: &mut Me, shared: &Shared) -> Option<u64> {
    let rest = match proto::parse(text) {
        Incoming::Event {
            name: "fanout",
            rest,
        } => rest,
        Incoming::Ack { id, .. } => return Some(id),
        _ => return None,
    };
    let [seq, sent] = proto::leading_ints::<2>(rest)?;
    if let Some(offset) = last_offset(rest) {
        me.offset = Some(offset.to_string());
    }
    if !me.seen.insert(seq) {
        shared.duplicates.set(shared.duplicates.get() + 1);
        return None;
    }
    if seq < me.max_seq {
        shared.out_of_order.set(shared.out_of_order.get() + 1);
    }
    me.max_seq = me.max_seq.max(seq);
    shared.received.set(shared.received.get() + 1);
    shared.stats.op();
    shared.stats.record(now_us().saturating_sub(sent));
    if shared.stored.borrow_mut().insert(seq) {
        let size = text.len() + shared.room.len();
        shared
            .stored_bytes
            .set(shared.stored_bytes.get() + size as u64);
    }
    None
}

/// The offset of an event, from what follows its name:
/// `,[seq,t,"xx"],"<offset>"]` gives `<offset>`; `,[seq,t,"xx"]]` (no
/// recovery) nothing.
fn last_offset(rest: &str) -> Option<&str> {
    let body = rest.strip_suffix("\"]")?;
    Some(&body[body.rfind(",\"")? + 2..])
}

/// Opens a session: WebSocket, Engine.IO open, CONNECT (with `{pid,
/// offset}` when `me` has both), then, unless recovered, the room's join;
/// within [`client::SETUP_TIMEOUT`].
async fn session(shared: &Shared, me: &mut Me, reconnect: bool) -> io::Result<Ws> {
    let attempt = async {
        let mut ws = client::open_ws(&shared.common).await?;
        let asked = match (&me.pid, &me.offset) {
            (Some(pid), Some(offset)) => Some((pid.clone(), offset.clone())),
            _ => None,
        };
        let connect = match &asked {
            Some((pid, offset)) => format!("40{}", json!({ "pid": pid, "offset": offset })),
            None => proto::CONNECT.to_string(),
        };
        // Engine.IO open, then CONNECT; events may follow the answer at once.
        let answer = loop {
            let text = client::next_text(&mut ws).await?;
            match proto::parse(&text) {
                Incoming::Open(_) => ws
                    .send(Message::text(connect.as_str()))
                    .await
                    .map_err(io_err)?,
                Incoming::Ping => ws.send(Message::text(proto::PONG)).await.map_err(io_err)?,
                Incoming::Connected => break text,
                Incoming::ConnectError(e) => return Err(io_err(format!("connect error: {e}"))),
                Incoming::Close | Incoming::Disconnect => {
                    return Err(io_err("closed during connect"))
                }
                _ => {}
            }
        };
        let pid = serde_json::from_str::<Value>(&answer[2..])
            .ok()
            .and_then(|v| v.get("pid")?.as_str().map(str::to_string));
        if pid.is_some() {
            shared.pid_seen.set(true);
        }
        let recovered = asked.is_some() && asked.map(|a| a.0) == pid;
        me.pid = pid;
        if reconnect {
            shared.reconnections.set(shared.reconnections.get() + 1);
            let counter = if recovered {
                &shared.recovered
            } else {
                &shared.fresh
            };
            counter.set(counter.get() + 1);
        }
        if !recovered {
            // A fresh session: join the room again, counting what arrives
            // before the ack.
            ws.send(Message::text(proto::join(&shared.room, 1)))
                .await
                .map_err(io_err)?;
            loop {
                let text = client::next_text(&mut ws).await?;
                if text.as_str() == "2" {
                    ws.send(Message::text(proto::PONG)).await.map_err(io_err)?;
                } else if on_frame(&text, me, shared) == Some(1) {
                    break;
                }
            }
        }
        Ok(ws)
    };
    tokio::time::timeout(client::SETUP_TIMEOUT, attempt)
        .await
        .map_err(|_| io_err("session setup timed out"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_offset_only_when_there_is_one() {
        assert_eq!(last_offset(r#",[3,17,"xxxx"],"ab12-3"]"#), Some("ab12-3"));
        assert_eq!(last_offset(r#",[3,17],"7"]"#), Some("7"));
        assert_eq!(last_offset(r#",[3,17,"xxxx"]]"#), None);
        assert_eq!(last_offset(r#",[3,17]]"#), None);
    }

    #[test]
    fn bits_count_each_seq_once() {
        let mut bits = Bits::default();
        assert!(bits.insert(1));
        assert!(bits.insert(200));
        assert!(!bits.insert(1));
        assert!(!bits.insert(200));
        assert!(bits.insert(64));
    }
}
