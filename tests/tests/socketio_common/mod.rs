//! Shared helpers for the Socket.IO interop tests (`tests/tests/socketio_*.rs`):
//! serving a `roomcast_socketio::Server` on 127.0.0.1:0, running the node scripts
//! of `tests/js/socketio/` against it, deadlines and polling.

#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use roomcast_socketio::Server;
use roomcast_tests::js::{run_node_file, NodeOutput};
use serde_json::Value;

/// The longest one waiting step of a test may take.
pub const STEP: Duration = Duration::from_secs(15);

/// Serves `io` on a fresh local port; returns the port.
pub async fn serve(io: &Server) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let io = io.clone();
    tokio::spawn(async move { io.serve(listener).await });
    port
}

/// Runs `tests/js/socketio/<script>` against `port` with extra env vars;
/// the script is killed after `timeout`.
pub async fn node(script: &str, port: u16, env: &[(&str, &str)], timeout: Duration) -> NodeOutput {
    let mut vars: Vec<(&str, String)> = vec![
        ("PORT", port.to_string()),
        (
            "DEADLINE_MS",
            (timeout.as_millis() as u64)
                .saturating_sub(2000)
                .to_string(),
        ),
    ];
    vars.extend(env.iter().map(|(k, v)| (*k, v.to_string())));
    run_node_file(&format!("socketio/{script}"), &vars, timeout).await
}

/// Runs the script and returns its JSON lines, failing the test (with the
/// script's output) unless it exited with status 0.
pub async fn node_ok(
    script: &str,
    port: u16,
    env: &[(&str, &str)],
    timeout: Duration,
) -> Vec<Value> {
    let out = node(script, port, env, timeout).await;
    out.assert_success();
    out.json_lines()
}

/// The JSON lines whose `"step"` is `step`.
pub fn steps<'a>(lines: &'a [Value], step: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["step"] == step).collect()
}

/// The single JSON line whose `"step"` is `step`.
#[track_caller]
pub fn step<'a>(lines: &'a [Value], step: &str) -> &'a Value {
    let found = steps(lines, step);
    assert_eq!(found.len(), 1, "expected one {step:?} line in {lines:#?}");
    found[0]
}

/// Awaits `fut`, failing the test after [`STEP`].
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(STEP, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {STEP:?}: {what}"),
    }
}

/// Polls `cond` every 5 ms until it holds, failing after [`STEP`].
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    within(what, async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
}

/// A list the server's handlers append to and the test reads.
#[derive(Clone)]
pub struct Log<T>(Arc<Mutex<Vec<T>>>);

impl<T> Default for Log<T> {
    fn default() -> Self {
        Log(Arc::new(Mutex::new(Vec::new())))
    }
}

impl<T: Clone> Log<T> {
    pub fn push(&self, v: T) {
        self.0.lock().push(v);
    }

    pub fn all(&self) -> Vec<T> {
        self.0.lock().clone()
    }

    pub fn len(&self) -> usize {
        self.0.lock().len()
    }

    /// Waits (polling) until the log holds at least `n` entries.
    pub async fn wait_len(&self, n: usize, what: &str) -> Vec<T> {
        eventually(what, || self.len() >= n).await;
        self.all()
    }

    /// Waits until an entry matches `pred`; returns it.
    pub async fn wait_for(&self, what: &str, mut pred: impl FnMut(&T) -> bool) -> T {
        let mut found = None;
        eventually(what, || {
            found = self.0.lock().iter().find(|v| pred(v)).cloned();
            found.is_some()
        })
        .await;
        found.unwrap()
    }
}
