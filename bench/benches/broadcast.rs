//! Broadcast fan-out in the core with in-memory clients: a `Hub` with 1k
//! and 10k members in one room, each with its own `Outbox`; one broadcast,
//! then every outbox drained (what the transports do), per iteration.
//!
//! `cargo bench -p roomcast-bench --bench broadcast`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use roomcast_core::{ClientId, Flags, Frame, Hub, Message, Outbox, OutboxConfig, Target};

fn fanout(c: &mut Criterion) {
    let mut g = c.benchmark_group("hub broadcast + drain");
    for members in [1_000usize, 10_000] {
        let hub = Hub::new("/");
        let outboxes: Vec<Arc<Outbox>> = (0..members)
            .map(|_| {
                let id = ClientId::random();
                let outbox = Arc::new(Outbox::new(OutboxConfig::default()));
                hub.connect(id, outbox.clone()).expect("connect");
                hub.join(id, ["bench"]).expect("join");
                outbox
            })
            .collect();
        let target = Target::to(["bench"]);
        let message = Message::from(Frame::text(
            "42[\"fanout\",[1,123456,\"xxxxxxxxxxxxxxxx\"]]",
        ));
        let mut batch = Vec::with_capacity(4);
        g.throughput(Throughput::Elements(members as u64));
        g.bench_with_input(BenchmarkId::from_parameter(members), &members, |b, _| {
            b.iter(|| {
                let delivery = hub.broadcast(&target, black_box(&message), Flags::default());
                for outbox in &outboxes {
                    outbox.drain(&mut batch);
                    batch.clear();
                }
                delivery
            })
        });
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = fanout
}
criterion_main!(benches);
