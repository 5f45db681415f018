//! Deadlines: every waiting step of a test fails the test after [`STEP`]
//! instead of hanging, and conditions are polled (every 5 ms) rather than
//! slept on. One deadline for every crate's tests: a step that needs longer
//! is a step that is stuck.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The longest one waiting step of a test may take.
pub const STEP: Duration = Duration::from_secs(15);

/// Awaits `fut`, failing the test after [`STEP`].
///
/// ```no_run
/// # async fn demo() {
/// let n = roomcast_testkit::within("the answer", async { 42 }).await;
/// # }
/// ```
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(STEP, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {STEP:?}: {what}"),
    }
}

/// Polls `cond` every 5 ms until it holds, failing the test after [`STEP`].
///
/// ```no_run
/// # async fn demo(sessions: impl Fn() -> usize) {
/// roomcast_testkit::eventually("no session left", || sessions() == 0).await;
/// # }
/// ```
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    within(what, async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
}

/// A list that a server's handlers append to and the test reads.
///
/// ```no_run
/// # async fn demo() {
/// let log = roomcast_testkit::Log::default();
/// log.push("connected");
/// assert_eq!(log.wait_len(1, "a connect").await, ["connected"]);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Log<T>(Arc<Mutex<Vec<T>>>);

impl<T> Default for Log<T> {
    fn default() -> Self {
        Log(Arc::new(Mutex::new(Vec::new())))
    }
}

impl<T: Clone> Log<T> {
    fn entries(&self) -> MutexGuard<'_, Vec<T>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends an entry.
    pub fn push(&self, v: T) {
        self.entries().push(v);
    }

    /// Every entry so far.
    pub fn all(&self) -> Vec<T> {
        self.entries().clone()
    }

    /// How many entries so far.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// Whether there is no entry yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until the log holds at least `n` entries; returns them all.
    pub async fn wait_len(&self, n: usize, what: &str) -> Vec<T> {
        eventually(what, || self.len() >= n).await;
        self.all()
    }

    /// Waits until an entry matches `pred`; returns it.
    pub async fn wait_for(&self, what: &str, mut pred: impl FnMut(&T) -> bool) -> T {
        let mut found = None;
        eventually(what, || {
            found = self.entries().iter().find(|v| pred(v)).cloned();
            found.is_some()
        })
        .await;
        found.expect("eventually returned, so an entry matched")
    }
}
