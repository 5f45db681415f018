//! What the `metrics` counters cost a broadcast: the hub's fan-out (one
//! broadcast, then every outbox drained) to 1, 100 and 1000 members with
//! the counters on, next to the counters' own work per broadcast (one call
//! of `metrics::broadcast`: four relaxed adds, plus summing the frames'
//! lengths). The counters run once per broadcast, whatever the number of
//! recipients, so the 1-member case is the worst ratio.
//!
//! `cargo bench -p roomcast-bench --features metrics --bench metrics`
//!
//! Measured (2 cores shared with other builds, load average ~12):
//! counters per broadcast 2.9 ns; broadcast + drain to 1 member 211 ns
//! (1.4 %), to 100 members 18.3 µs (0.02 %), to 1000 members 157 µs
//! (0.002 %). With one atomic `fetch_add` per counter instead of the
//! per-thread blocks the counters took 43.7 ns (25 % of the 1-member
//! broadcast).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use roomcast_core::metrics;

mod fanout;

fn cost(c: &mut Criterion) {
    assert!(
        metrics::ENABLED,
        "build with roomcast-core's metrics feature"
    );
    let message = fanout::message();
    let mut g = c.benchmark_group("metrics");
    g.bench_function("counters per broadcast", |b| {
        b.iter(|| {
            let m = black_box(&message);
            let bytes = m.frames().iter().map(|f| f.len()).sum();
            metrics::broadcast(black_box(1), bytes);
        })
    });
    let id = |members| BenchmarkId::new("broadcast + drain", members);
    fanout::bench_sizes(g, &[1, 100, 1_000], id, false);
}

criterion_group! {
    name = benches;
    config = fanout::config(20);
    targets = cost
}
criterion_main!(benches);
