//! Shared helpers for the Socket.IO interop tests (`tests/tests/socketio_*.rs`):
//! serving a `roomcast_socketio::Server` on 127.0.0.1:0, running the node scripts
//! of `tests/js/socketio/` against it; the deadlines are `roomcast_testkit`'s.

#![allow(dead_code)]

use std::time::Duration;

use roomcast_socketio::Server;
use roomcast_testkit::js::{run_node_file, NodeOutput};
use serde_json::Value;

#[allow(unused_imports)] // each test file uses a different part
pub use roomcast_testkit::{eventually, within, Log, STEP};

/// Serves `io` on a fresh local port; returns the port.
pub async fn serve(io: &Server) -> u16 {
    let io = io.clone();
    let (addr, _) = roomcast_testkit::spawn_server(|l| async move { io.serve(l).await }).await;
    addr.port()
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
