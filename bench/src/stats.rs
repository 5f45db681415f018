//! Counters and latency histograms shared by a scenario's tasks, the
//! progress line, and the measured window ([`measure`], or [`Timeline`] for
//! a scenario that drives its own loop).

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::cli::Common;
use crate::procfs::{self, CpuDelta, Sample};

/// Latencies are recorded in microseconds, up to 10 minutes, 3 digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// What a scenario's tasks count. One thread: plain cells.
pub struct Stats {
    /// Completed operations (events, deliveries, connections).
    pub ops: Cell<u64>,
    /// Failed operations or connections.
    pub errors: Cell<u64>,
    /// Connections up.
    pub conns: Cell<u64>,
    /// What the scenario is doing (setup, warmup, measure, drain).
    pub phase: Cell<&'static str>,
    /// The name of an operation, for the progress line.
    pub unit: &'static str,
    window: RefCell<Histogram<u64>>,
    tick: RefCell<Histogram<u64>>,
}

impl Stats {
    /// Fresh counters; `unit` names an operation ("events").
    pub fn new(unit: &'static str) -> Rc<Self> {
        Rc::new(Stats {
            ops: Cell::new(0),
            errors: Cell::new(0),
            conns: Cell::new(0),
            phase: Cell::new("setup"),
            unit,
            window: RefCell::new(histogram()),
            tick: RefCell::new(histogram()),
        })
    }

    /// One operation done.
    pub fn op(&self) {
        self.ops.set(self.ops.get() + 1);
    }

    /// One failure.
    pub fn error(&self) {
        self.errors.set(self.errors.get() + 1);
    }

    /// One failure, printed to stderr if it is among the first few.
    pub fn fail(&self, what: &str, e: impl std::fmt::Display) {
        if self.errors.get() < 5 {
            eprintln!("error: {what}: {e}");
        }
        self.error();
    }

    /// One connection more (`up`) or less.
    pub fn conn(&self, up: bool) {
        let n = self.conns.get();
        self.conns.set(if up { n + 1 } else { n.saturating_sub(1) });
    }

    /// A latency, in microseconds.
    pub fn record(&self, us: u64) {
        let us = us.max(1);
        self.window.borrow_mut().saturating_record(us);
        self.tick.borrow_mut().saturating_record(us);
    }

    /// Forgets the latencies recorded so far (start of the window).
    pub fn reset_latencies(&self) {
        self.window.borrow_mut().reset();
    }

    /// A copy of the latencies recorded since the window started.
    pub fn latencies(&self) -> Histogram<u64> {
        self.window.borrow().clone()
    }
}

/// Prints a line to stderr every second until the task is aborted.
pub fn spawn_progress(stats: Rc<Stats>, quiet: bool) -> tokio::task::JoinHandle<()> {
    tokio::task::spawn_local(async move {
        if quiet {
            return;
        }
        let start = Instant::now();
        let mut last_ops = stats.ops.get();
        let mut last_errors = stats.errors.get();
        let mut last = Instant::now();
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let now = Instant::now();
            let secs = now.duration_since(last).as_secs_f64();
            let ops = stats.ops.get();
            let errors = stats.errors.get();
            let mut tick = stats.tick.borrow_mut();
            let lat = if tick.is_empty() {
                String::new()
            } else {
                format!(
                    " | p50 {} p99 {} max {}",
                    fmt_us(tick.value_at_quantile(0.5)),
                    fmt_us(tick.value_at_quantile(0.99)),
                    fmt_us(tick.max())
                )
            };
            tick.reset();
            drop(tick);
            eprintln!(
                "[{:>4.0}s] {:<8} conns {:>6} | {:>10.0} {}/s{} | errors {}",
                now.duration_since(start).as_secs_f64(),
                stats.phase.get(),
                stats.conns.get(),
                (ops - last_ops) as f64 / secs,
                stats.unit,
                lat,
                errors - last_errors,
            );
            last_ops = ops;
            last_errors = errors;
            last = now;
        }
    })
}

/// Microseconds, readably.
pub fn fmt_us(us: u64) -> String {
    if us >= 10_000 {
        format!("{:.1}ms", us as f64 / 1000.0)
    } else {
        format!("{us}µs")
    }
}

/// Latency percentiles, in microseconds.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct Latency {
    /// Samples.
    pub count: u64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest.
    pub max: u64,
}

impl Latency {
    /// The percentiles of a histogram (`None` if it is empty).
    pub fn of(h: &Histogram<u64>) -> Option<Self> {
        if h.is_empty() {
            return None;
        }
        Some(Latency {
            count: h.len(),
            mean: h.mean(),
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        })
    }
}

/// What happened in a measured window.
pub struct Window {
    /// Wall time and CPU use.
    pub cpu: CpuDelta,
    /// Operations completed in the window.
    pub ops: u64,
    /// Failures in the window.
    pub errors: u64,
    /// The 1-minute load average at its start and end.
    pub load1: (f64, f64),
    /// The latencies recorded in the window (µs).
    pub latencies: Histogram<u64>,
}

/// The start of a measured window.
pub struct Meter {
    start: Sample,
    ops: u64,
    errors: u64,
    load1: f64,
    pid: Option<u32>,
}

impl Meter {
    /// Starts the window now: latencies recorded so far are forgotten.
    pub fn start(stats: &Stats, pid: Option<u32>) -> Self {
        stats.phase.set("measure");
        stats.reset_latencies();
        Meter {
            start: Sample::take(pid),
            ops: stats.ops.get(),
            errors: stats.errors.get(),
            load1: procfs::loadavg1(),
            pid,
        }
    }

    /// Ends the window now (its latencies are those recorded so far).
    pub fn stop(self, stats: &Stats) -> Window {
        let end = Sample::take(self.pid);
        stats.phase.set("drain");
        Window {
            cpu: CpuDelta::between(&self.start, &end),
            ops: stats.ops.get() - self.ops,
            errors: stats.errors.get() - self.errors,
            load1: (self.load1, procfs::loadavg1()),
            latencies: stats.latencies(),
        }
    }
}

/// Warmup, then the measured window (lengths and server from `common`),
/// for scenarios whose tasks run on their own meanwhile.
pub async fn measure(stats: &Stats, common: &Common) -> Window {
    stats.phase.set("warmup");
    tokio::time::sleep(common.warmup()).await;
    let meter = Meter::start(stats, common.server_pid);
    tokio::time::sleep(common.duration()).await;
    meter.stop(stats)
}

/// Warmup, then the measured window, for a scenario that drives its own
/// loop: it calls [`Timeline::at`] at each step, which starts the window
/// once the warmup is over and says when the window is over.
pub struct Timeline {
    warmup_end: Instant,
    end: Instant,
    pid: Option<u32>,
    meter: Option<Meter>,
}

impl Timeline {
    /// The warmup starts now (lengths and server from `common`).
    pub fn start(stats: &Stats, common: &Common) -> Self {
        stats.phase.set("warmup");
        let warmup_end = Instant::now() + common.warmup();
        Timeline {
            warmup_end,
            end: warmup_end + common.duration(),
            pid: common.server_pid,
            meter: None,
        }
    }

    /// Moves to `now`: starts the window if the warmup is over; `false`
    /// once the window is over.
    pub fn at(&mut self, now: Instant, stats: &Stats) -> bool {
        if self.meter.is_none() && now >= self.warmup_end {
            self.meter = Some(Meter::start(stats, self.pid));
        }
        now < self.end
    }

    /// Ends the window; an error if it never started.
    pub fn stop(self, stats: &Stats) -> io::Result<Window> {
        let meter = self
            .meter
            .ok_or_else(|| io::Error::other("the window never started"))?;
        Ok(meter.stop(stats))
    }
}
