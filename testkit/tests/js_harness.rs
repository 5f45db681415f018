//! Self-test of the JS interop harness (`roomcast_testkit::js`).

use std::time::Duration;

use roomcast_testkit::js::{require_js_deps, require_node, run_node, run_node_file};

#[tokio::test]
async fn selftest_script_reports_pinned_clients() {
    let Some(_) = require_js_deps() else { return };
    let out = run_node_file(
        "selftest.mjs",
        &[("ROOMCAST_SELFTEST_ECHO", "pong".to_string())],
        Duration::from_secs(30),
    )
    .await;
    out.assert_success();
    let lines = out.json_lines();
    assert_eq!(lines.len(), 1, "expected one JSON line: {}", out.describe());
    let v = &lines[0];
    assert_eq!(v["ok"], true, "{}", out.describe());
    assert_eq!(v["sio"], "4.8.4");
    assert_eq!(v["eio"], "6.6.8");
    assert_eq!(v["sioProtocol"], 5);
    assert_eq!(v["eioProtocol"], 4);
    assert_eq!(v["echo"], "pong");
}

#[tokio::test]
async fn hung_script_is_killed_on_timeout() {
    let Some(_) = require_node() else { return };
    let out = run_node(
        "console.log('started'); setInterval(() => {}, 1000);",
        &[],
        Duration::from_millis(1500),
    )
    .await;
    assert!(out.timed_out, "{}", out.describe());
    assert!(!out.success());
    assert!(out.stdout.contains("started"), "{}", out.describe());
}

#[tokio::test]
async fn failing_script_reports_status_and_stderr() {
    let Some(_) = require_node() else { return };
    let out = run_node(
        "console.error('boom'); process.exit(3);",
        &[],
        Duration::from_secs(30),
    )
    .await;
    assert!(!out.timed_out);
    assert_eq!(out.status.and_then(|s| s.code()), Some(3));
    assert!(out.stderr.contains("boom"));
}
