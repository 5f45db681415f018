//! Broadcast fan-out in the core with in-memory clients: a `Hub` with 1k
//! and 10k members in one room, each with its own `Outbox`; one broadcast,
//! then every outbox drained (what the transports do), per iteration.
//!
//! `cargo bench -p roomcast-bench --bench broadcast`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

mod fanout;

fn fanout(c: &mut Criterion) {
    let g = c.benchmark_group("hub broadcast + drain");
    fanout::bench_sizes(g, &[1_000, 10_000], BenchmarkId::from_parameter, true);
}

criterion_group! {
    name = benches;
    config = fanout::config(10);
    targets = fanout
}
criterion_main!(benches);
