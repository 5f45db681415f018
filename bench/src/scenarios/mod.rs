//! The scenarios. Each is a body run by [`Scenario::run`], which sets up
//! the counters and the progress line and makes the [`Report`]; the body
//! sets up its connections (a bounded number at once, with [`Setup`]), runs
//! a warmup and a measured window, and says what it [`Measured`].

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::cli::Common;
use crate::report::Report;
use crate::stats::{spawn_progress, Stats, Window};

pub mod attempt;
pub mod cluster_fanout;
pub mod connect;
pub mod echo;
pub mod fanout;
pub mod idle;
pub mod polling;
pub mod recovery;
pub mod storm;

/// Connections being set up and how that went.
pub struct Setup {
    /// Limits how many connections are being set up at once.
    pub gate: Semaphore,
    /// Connections set up.
    pub ready: Cell<usize>,
    /// Connections that failed to set up.
    pub failed: Cell<usize>,
}

impl Setup {
    /// `concurrency` set-ups at once.
    pub fn new(concurrency: usize) -> Rc<Self> {
        Rc::new(Setup {
            gate: Semaphore::new(concurrency.max(1)),
            ready: Cell::new(0),
            failed: Cell::new(0),
        })
    }

    /// Runs one connection's set-up under the gate, counting the outcome.
    pub async fn run<T>(
        &self,
        stats: &Stats,
        setup: impl Future<Output = io::Result<T>>,
    ) -> Option<T> {
        let permit = self.gate.acquire().await.ok()?;
        let result = setup.await;
        drop(permit);
        match result {
            Ok(v) => {
                self.ready.set(self.ready.get() + 1);
                stats.conn(true);
                Some(v)
            }
            Err(e) => {
                self.failed.set(self.failed.get() + 1);
                stats.fail("connection setup", e);
                None
            }
        }
    }

    /// Waits until `n` connections are either set up or failed; an error
    /// if none could be set up.
    pub async fn wait(&self, n: usize) -> io::Result<usize> {
        while self.ready.get() + self.failed.get() < n {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        match self.ready.get() {
            0 => Err(io::Error::other("no connection could be set up")),
            ready => Ok(ready),
        }
    }
}

/// Aborts tasks when dropped.
#[derive(Default)]
pub struct Tasks(Vec<JoinHandle<()>>);

impl Tasks {
    /// Takes charge of a spawned task.
    pub fn from_handle(handle: JoinHandle<()>) -> Self {
        Tasks(vec![handle])
    }

    /// Spawns a task on the local set.
    pub fn spawn(&mut self, fut: impl Future<Output = ()> + 'static) {
        self.0.push(tokio::task::spawn_local(fut));
    }
}

impl Drop for Tasks {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// A scenario: its name, what it counts, the case it runs and its
/// parameters. [`Scenario::run`] does what every scenario does around its
/// body.
pub struct Scenario {
    /// The scenario (`echo`, `fanout`, …).
    pub name: &'static str,
    /// What an operation is (events, deliveries, connections).
    pub unit: &'static str,
    /// The scenario with the parameters that define it (`fanout n=1000 b=10`).
    pub case: String,
    /// The scenario's own parameters (a JSON object); the common ones
    /// (warmup, duration, path) come first in the report.
    pub params: Value,
}

/// What a scenario's body measured.
pub struct Measured {
    /// The measured window.
    pub window: Window,
    /// Connections open during the window.
    pub connections: usize,
    /// Parameters found while running (a JSON object, or null), added
    /// after the scenario's.
    pub params: Value,
    /// Deliveries expected and received (fanout scenarios).
    pub deliveries: Option<Deliveries>,
    /// The server's memory (idle).
    pub rss: Option<Rss>,
}

impl Measured {
    /// A window and the connections it ran with; nothing else.
    pub fn new(window: Window, connections: usize) -> Self {
        Measured {
            window,
            connections,
            params: Value::Null,
            deliveries: None,
            rss: None,
        }
    }
}

/// Deliveries expected and received; what is missing is lost.
pub struct Deliveries {
    /// Deliveries the server should have made.
    pub expected: u64,
    /// Deliveries the subscribers got.
    pub received: u64,
}

/// The server's resident memory, in KiB, with no client and loaded.
pub struct Rss {
    /// With no client.
    pub empty_kib: u64,
    /// With `connections` clients.
    pub loaded_kib: u64,
    /// Connections up when the loaded figure was read.
    pub connections: u64,
}

impl Scenario {
    /// A scenario named `name` counting `unit`s, running `case` with
    /// `params`.
    pub fn new(name: &'static str, unit: &'static str, case: String, params: Value) -> Self {
        Scenario {
            name,
            unit,
            case,
            params,
        }
    }

    /// Runs `body` with the counters and the progress line up, then makes
    /// the report of what it measured. The body sets up its connections,
    /// runs the warmup and the window ([`measure`](crate::stats::measure)
    /// or a [`Timeline`](crate::stats::Timeline)) and stops its tasks.
    pub async fn run<F, Fut>(self, common: &Common, body: F) -> io::Result<Report>
    where
        F: FnOnce(Rc<Common>, Rc<Stats>) -> Fut,
        Fut: Future<Output = io::Result<Measured>>,
    {
        let common = Rc::new(common.clone());
        let stats = Stats::new(self.unit);
        let _progress = Tasks::from_handle(spawn_progress(stats.clone(), common.quiet));
        let measured = body(common.clone(), stats).await?;
        let common_params = json!({
            "warmup_s": common.warmup,
            "duration_s": common.duration,
            "path": common.path,
            "sources": common.sources,
        });
        let params = merge(merge(common_params, self.params), measured.params);
        let window = &measured.window;
        let mut report = Report::new(self.name, self.case, &common, self.unit, params, window);
        report.connections = measured.connections as u64;
        if let Some(d) = measured.deliveries {
            report.expected = Some(d.expected);
            report.received = Some(d.received);
            report.lost = Some(d.expected.saturating_sub(d.received));
        }
        if let Some(rss) = measured.rss {
            report.rss_kib_empty = Some(rss.empty_kib);
            report.rss_kib_loaded = Some(rss.loaded_kib);
            report.rss_bytes_per_conn = Some(
                (rss.loaded_kib.saturating_sub(rss.empty_kib) * 1024) as f64
                    / rss.connections.max(1) as f64,
            );
        }
        Ok(report)
    }
}

/// `params` with the fields of `extra` added after its own (both JSON
/// objects; anything else in `extra` adds nothing).
pub fn merge(mut params: Value, extra: Value) -> Value {
    if let (Some(p), Value::Object(e)) = (params.as_object_mut(), extra) {
        p.extend(e);
    }
    params
}
