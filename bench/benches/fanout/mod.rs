//! What the fan-out micro-benchmarks (`broadcast`, `metrics`) share: a
//! `Hub` with in-memory clients in one room, each with its own `Outbox`,
//! and one broadcast to them followed by every outbox drained (what the
//! transports do).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use roomcast_core::{ClientId, Delivery, Flags, Frame, Hub, Message, Outbox, OutboxConfig, Target};

/// The event every fan-out bench broadcasts.
pub fn message() -> Message {
    Message::from(Frame::text(
        "42[\"fanout\",[1,123456,\"xxxxxxxxxxxxxxxx\"]]",
    ))
}

/// `members` clients in the room `bench` of a hub of namespace `/`.
pub struct Audience {
    hub: Hub,
    outboxes: Vec<Arc<Outbox>>,
    target: Target,
    batch: Vec<Frame>,
}

impl Audience {
    pub fn new(members: usize) -> Self {
        let hub = Hub::new("/");
        let outboxes = (0..members)
            .map(|_| {
                let id = ClientId::random();
                let outbox = Arc::new(Outbox::new(OutboxConfig::default()));
                hub.connect(id, outbox.clone()).expect("connect");
                hub.join(id, ["bench"]).expect("join");
                outbox
            })
            .collect();
        Audience {
            hub,
            outboxes,
            target: Target::to(["bench"]),
            batch: Vec::with_capacity(4),
        }
    }

    /// One broadcast of `message` to the room, then every outbox drained.
    pub fn broadcast_and_drain(&mut self, message: &Message) -> Delivery {
        let delivery = self
            .hub
            .broadcast(&self.target, black_box(message), Flags::default());
        for outbox in &self.outboxes {
            outbox.drain(&mut self.batch);
            self.batch.clear();
        }
        delivery
    }
}

/// Ends group `g` with one benchmark per audience size in `sizes`: one
/// broadcast of [`message`] and every outbox drained per iteration. The
/// benchmark of a size is named `id(size)`, and counts the members as its
/// throughput when `per_member`.
pub fn bench_sizes(
    mut g: BenchmarkGroup<'_, WallTime>,
    sizes: &[usize],
    id: impl Fn(usize) -> BenchmarkId,
    per_member: bool,
) {
    let message = message();
    for &members in sizes {
        let mut audience = Audience::new(members);
        if per_member {
            g.throughput(Throughput::Elements(members as u64));
        }
        g.bench_with_input(id(members), &members, |b, _| {
            b.iter(|| audience.broadcast_and_drain(&message))
        });
    }
    g.finish();
}

/// `samples` samples over two seconds, after 300 ms of warm-up.
pub fn config(samples: usize) -> Criterion {
    Criterion::default()
        .sample_size(samples)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
}
