//! Child processes of the tests: a workspace binary built with `cargo build`
//! once per test process (same profile as the test), and a child's output
//! captured line by line into a [`Log`] as it comes, so a test can wait on
//! what the child printed and show all of it when it fails.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Mutex, OnceLock};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use crate::js::workspace_root;
use crate::Log;

/// The binary `bin` of the workspace package `package`: `$<env>` when set
/// and not empty, else built with `cargo build` (in release when the test
/// is) once per test process; later calls return the same path.
///
/// ```no_run
/// let bin = roomcast_testkit::process::workspace_bin(
///     "roomcast-examples",
///     "chapter",
///     "ROOMCAST_CHAPTER_BIN",
/// );
/// ```
pub fn workspace_bin(package: &str, bin: &str, env: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(env).filter(|b| !b.is_empty()) {
        return PathBuf::from(path);
    }
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    built
        .entry(format!("{package}/{bin}"))
        .or_insert_with(|| cargo_build(package, bin))
        .clone()
}

fn cargo_build(package: &str, bin: &str) -> PathBuf {
    let cargo = std::env::var_os("CARGO")
        .or_else(|| option_env!("CARGO").map(Into::into))
        .unwrap_or_else(|| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    cmd.args(["build", "-p", package, "--bin", bin])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    let out = cmd.output().expect("failed to run cargo build");
    assert!(out.status.success(), "cargo build of {bin} failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == bin)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo build reported no {bin} executable"))
}

/// Appends each line of `pipe` to `out`, after `prefix`, as it comes (in a
/// task of its own, until the pipe closes).
///
/// ```no_run
/// # async fn demo(mut child: tokio::process::Child) {
/// let out = roomcast_testkit::Log::default();
/// roomcast_testkit::process::capture(child.stdout.take().unwrap(), "", &out);
/// roomcast_testkit::process::capture(child.stderr.take().unwrap(), "stderr: ", &out);
/// # }
/// ```
pub fn capture(
    pipe: impl AsyncRead + Unpin + Send + 'static,
    prefix: &'static str,
    out: &Log<String>,
) {
    let out = out.clone();
    tokio::spawn(async move {
        let mut lines = BufReader::new(pipe).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            out.push(format!("{prefix}{line}"));
        }
    });
}
