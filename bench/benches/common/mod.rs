//! What the codec micro-benchmarks share.

use std::time::Duration;

use criterion::Criterion;

/// Short runs: 20 samples over one second, after 300 ms of warm-up.
pub fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
}
