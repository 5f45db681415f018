//! Backpressure property of [`Hub`] broadcast: clients with small outboxes
//! (some never drained) next to clients that keep up. A non-volatile message
//! that does not fit closes a small outbox with `SlowConsumer` and empties it
//! (or is dropped and counted under `Overflow::Drop`); a volatile one is
//! dropped and counted in `dropped()`; a closed outbox takes nothing more and
//! is not counted. The [`Delivery`] counts and per-recipient results match a
//! model, and the other clients still receive every message, in order.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use roomcast_core::{
    ClientId, CloseReason, Delivery, Flags, Frame, Hub, Message, Outbox, OutboxConfig, Overflow,
    PushError, Pushed, Target,
};

const BIG: OutboxConfig = OutboxConfig {
    capacity: 1 << 20,
    overflow: Overflow::Disconnect,
};

#[derive(Debug, Clone)]
struct Slow {
    capacity: usize,
    overflow: Overflow,
}

#[derive(Debug, Clone)]
enum BpOp {
    Broadcast {
        volatile: bool,
        parts: usize,
    },
    /// Drain one slow client (the first one never drains).
    Drain(usize),
}

fn bp_op() -> impl Strategy<Value = BpOp> {
    prop_oneof![
        6 => (any::<bool>(), prop_oneof![3 => Just(1usize), 1 => 2..=3usize])
            .prop_map(|(volatile, parts)| BpOp::Broadcast { volatile, parts }),
        1 => (1..3usize).prop_map(BpOp::Drain),
    ]
}

fn slow() -> impl Strategy<Value = Slow> {
    (
        1..=4usize,
        prop_oneof![Just(Overflow::Disconnect), Just(Overflow::Drop)],
    )
        .prop_map(|(capacity, overflow)| Slow { capacity, overflow })
}

/// Model of one small outbox.
#[derive(Default)]
struct SlowModel {
    pending: Vec<Frame>,
    delivered: Vec<Frame>,
    closed: Option<CloseReason>,
    dropped: u64,
}

impl SlowModel {
    fn push(&mut self, spec: &Slow, frames: &[Frame], volatile: bool) -> Result<Pushed, PushError> {
        if self.closed.is_some() {
            return Err(PushError::Closed);
        }
        if self.pending.len() + frames.len() > spec.capacity {
            if volatile || spec.overflow == Overflow::Drop {
                self.dropped += 1;
                return Ok(Pushed::Dropped);
            }
            self.closed = Some(CloseReason::SlowConsumer);
            self.pending.clear();
            return Err(PushError::Overflow);
        }
        self.pending.extend_from_slice(frames);
        Ok(Pushed::Queued)
    }
}

fn run_backpressure(fast: usize, slows: &[Slow], ops: &[BpOp]) -> Result<(), TestCaseError> {
    let hub = Hub::new("/");
    let mut fast_clients = Vec::new();
    for _ in 0..fast {
        let (id, o) = (ClientId::random(), Arc::new(Outbox::new(BIG)));
        hub.connect(id, o.clone()).unwrap();
        fast_clients.push((id, o, Vec::new()));
    }
    let mut slow_clients = Vec::new();
    for spec in slows {
        let id = ClientId::random();
        let config = OutboxConfig {
            capacity: spec.capacity,
            overflow: spec.overflow,
        };
        let o = Arc::new(Outbox::new(config));
        hub.connect(id, o.clone()).unwrap();
        slow_clients.push((id, o, SlowModel::default(), Vec::new()));
    }
    let mut expected_fast = Vec::new();
    for (k, op) in ops.iter().enumerate() {
        match op {
            BpOp::Broadcast { volatile, parts } => {
                let mut frames = vec![Frame::text(format!("m{k}"))];
                frames.extend((1..*parts).map(|p| Frame::binary(vec![p as u8])));
                let mut want = Delivery {
                    queued: fast,
                    ..Delivery::default()
                };
                let mut want_each = BTreeMap::new();
                for ((id, _, model, _), spec) in slow_clients.iter_mut().zip(slows) {
                    let r = model.push(spec, &frames, *volatile);
                    match r {
                        Ok(Pushed::Queued) => want.queued += 1,
                        Ok(Pushed::Dropped) => want.dropped += 1,
                        Err(PushError::Overflow) => want.overflowed += 1,
                        Err(PushError::Closed) => {}
                    }
                    want_each.insert(*id, r);
                }
                let flags = Flags {
                    volatile: *volatile,
                    local: true,
                };
                let mut seen = Vec::new();
                let message = Message::many(frames.clone());
                let got = hub.broadcast_each(&Target::all(), &message, flags, |id, r| {
                    seen.push((id, r));
                });
                prop_assert_eq!(got, want, "op {} {:?}", k, op);
                for (id, _, _) in &fast_clients {
                    want_each.insert(*id, Ok(Pushed::Queued));
                }
                let each: BTreeMap<_, _> = seen.iter().copied().collect();
                prop_assert_eq!(seen.len(), each.len(), "a client was pushed to twice");
                prop_assert_eq!(each, want_each);
                expected_fast.extend(frames);
            }
            BpOp::Drain(i) => {
                if let Some((_, o, model, got)) = slow_clients.get_mut(*i) {
                    prop_assert_eq!(o.drain(got), model.closed);
                    model.delivered.append(&mut model.pending);
                }
            }
        }
        for (_, o, model, got) in &slow_clients {
            prop_assert_eq!(o.len(), model.pending.len());
            prop_assert_eq!(o.closed(), model.closed);
            prop_assert_eq!(o.dropped(), model.dropped);
            prop_assert_eq!(got, &model.delivered);
        }
    }
    // The slow clients stay connected: closing the session is the layer above's job.
    prop_assert_eq!(hub.client_count(), fast + slows.len());
    for (_, o, got) in fast_clients.iter_mut() {
        prop_assert_eq!(o.drain(got), None);
        prop_assert_eq!(&*got, &expected_fast);
        prop_assert_eq!(o.dropped(), 0);
    }
    Ok(())
}

proptest! {
    #[test]
    fn overflow_is_per_client(
        fast in 1..=3usize,
        mut slows in vec(slow(), 1..=3),
        ops in vec(bp_op(), 1..60),
    ) {
        // The first slow client never drains and disconnects on overflow.
        slows[0].overflow = Overflow::Disconnect;
        run_backpressure(fast, &slows, &ops)?;
    }
}

/// A fixed scenario, so that every backpressure path is surely exercised.
#[test]
fn a_stalled_client_is_closed_while_others_get_everything() {
    let hub = Hub::new("/");
    let (fast, slow) = (ClientId::random(), ClientId::random());
    let fast_box = Arc::new(Outbox::new(BIG));
    let slow_box = Arc::new(Outbox::new(OutboxConfig {
        capacity: 3,
        overflow: Overflow::Disconnect,
    }));
    hub.connect(fast, fast_box.clone()).unwrap();
    hub.connect(slow, slow_box.clone()).unwrap();
    let send = |k: usize, volatile: bool| {
        let flags = Flags {
            volatile,
            local: true,
        };
        hub.broadcast(
            &Target::all(),
            &Message::from(Frame::text(format!("m{k}"))),
            flags,
        )
    };
    let d = |queued, dropped, overflowed| Delivery {
        queued,
        dropped,
        overflowed,
    };
    for k in 0..3 {
        assert_eq!(send(k, true), d(2, 0, 0));
    }
    assert_eq!(send(3, true), d(1, 1, 0));
    assert_eq!(send(4, true), d(1, 1, 0));
    assert_eq!(
        (slow_box.len(), slow_box.dropped(), slow_box.closed()),
        (3, 2, None)
    );
    assert_eq!(send(5, false), d(1, 0, 1));
    assert_eq!(slow_box.closed(), Some(CloseReason::SlowConsumer));
    assert_eq!(slow_box.len(), 0);
    assert_eq!(send(6, false), d(1, 0, 0), "a closed outbox is not counted");
    assert_eq!(send(7, true), d(1, 0, 0));
    assert_eq!(slow_box.dropped(), 2);
    let mut got = Vec::new();
    assert_eq!(slow_box.drain(&mut got), Some(CloseReason::SlowConsumer));
    assert!(
        got.is_empty(),
        "frames queued before an overflow are discarded"
    );
    assert_eq!(fast_box.drain(&mut got), None);
    let want: Vec<Frame> = (0..8).map(|k| Frame::text(format!("m{k}"))).collect();
    assert_eq!(got, want);
}
