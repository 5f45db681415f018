//! The scenarios. Each sets up its connections (a bounded number at once),
//! runs a warmup and a measured window, and returns a [`Report`].

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::cli::Common;
use crate::report::Report;
use crate::stats::Stats;

pub mod cluster_fanout;
pub mod connect;
pub mod echo;
pub mod fanout;
pub mod idle;
pub mod polling;

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

/// The parameters every report carries.
pub fn common_params(common: &Common) -> serde_json::Value {
    serde_json::json!({
        "warmup_s": common.warmup,
        "duration_s": common.duration,
        "path": common.path,
    })
}

/// Adds `extra`'s fields to `params`.
pub fn with_params(mut params: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    if let (Some(p), serde_json::Value::Object(e)) = (params.as_object_mut(), extra) {
        p.extend(e);
    }
    params
}

/// Sets the number of connections the window ran with.
pub fn finish(mut report: Report, connections: usize) -> Report {
    report.connections = connections as u64;
    report
}
