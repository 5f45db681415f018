//! The harness for interop tests that drive real JavaScript clients
//! (socket.io-client, engine.io-client, playwright-core with Debian's
//! chromium) from Rust.
//!
//! - Node scripts live under [`js_dir()`] (the workspace's `tests/js`, or
//!   `$ROOMCAST_JS_DIR`) and run with that directory as cwd, so
//!   `import { io } from "socket.io-client"` resolves.
//! - Scripts report results as JSON, one object per stdout line (see
//!   [`NodeOutput::json_lines`]); other stdout lines are ignored.
//! - Tests gate themselves with `let Some(..) = require_xxx() else { return };`.
//!   Outside CI a missing tool prints a loud SKIP line; under `CI=true` (or
//!   `CI=1`) it panics, so CI cannot go green by skipping.
//! - A script is killed when its timeout passes; its output so far is kept.
//!
//! ```no_run
//! # async fn demo() {
//! use roomcast_testkit::js::{require_js_deps, run_node_file};
//! let Some(_) = require_js_deps() else { return };
//! let env = [("PORT", "3000".to_string())];
//! let out = run_node_file("socketio/connect.mjs", &env, std::time::Duration::from_secs(30)).await;
//! out.assert_success();
//! # }
//! ```

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::Command;

/// Where Debian's chromium lives (override with `ROOMCAST_CHROMIUM`).
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Flags every headless chromium launch uses on this (root, offline) machine.
pub const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
];

/// True when running under CI (`CI=true` or `CI=1`).
pub fn is_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true") | Ok("1"))
}

/// Under CI: panics. Otherwise: prints a loud SKIP line and returns `None`.
/// (Written to the real stderr, not `eprintln!`, so libtest's capture does
/// not hide it.)
fn skip_or_panic<T>(what: &str, detail: &str) -> Option<T> {
    if is_ci() {
        panic!("{what} is required for interop tests under CI=true: {detail}");
    }
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIP: {what} unavailable ({detail}); interop test skipped (fails under CI=true) ***\n"
    );
    None
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit/ is in the workspace")
        .to_path_buf()
}

/// Path to `node`, or `None` (with a SKIP line) when it is missing outside CI.
pub fn require_node() -> Option<PathBuf> {
    static NODE: OnceLock<Option<PathBuf>> = OnceLock::new();
    match NODE.get_or_init(|| find_in_path("node")) {
        Some(p) => Some(p.clone()),
        None => skip_or_panic("node", "`node` not found in PATH"),
    }
}

/// The directory of the JS test scripts and their `node_modules`:
/// `$ROOMCAST_JS_DIR`, else the workspace's `tests/js`.
pub fn js_dir() -> PathBuf {
    match std::env::var_os("ROOMCAST_JS_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => workspace_root().join("tests/js"),
    }
}

/// Ensures the npm packages locked in `dir` are installed: when
/// `dir/node_modules/<probe>` is missing, runs `npm ci` there (once per
/// test process and directory). `None` (with a SKIP line) when that fails
/// outside CI; under CI it panics.
pub fn require_npm_packages(dir: &Path, probe: &str) -> Option<PathBuf> {
    static INSTALLED: OnceLock<Mutex<HashMap<PathBuf, Result<(), String>>>> = OnceLock::new();
    let mut installed = INSTALLED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let result = installed
        .entry(dir.to_path_buf())
        .or_insert_with(|| npm_ci(dir, probe));
    match result {
        Ok(()) => Some(dir.to_path_buf()),
        Err(e) => skip_or_panic("npm packages (npm ci)", e),
    }
}

fn npm_ci(dir: &Path, probe: &str) -> Result<(), String> {
    if dir.join("node_modules").join(probe).exists() {
        return Ok(());
    }
    let npm = find_in_path("npm").ok_or("`npm` not found in PATH")?;
    let _ = writeln!(
        std::io::stderr(),
        "roomcast-testkit: running `npm ci` in {}",
        dir.display()
    );
    let out = std::process::Command::new(npm)
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("failed to spawn npm ci in {}: {e}", dir.display()))?;
    if !out.status.success() {
        return Err(format!(
            "`npm ci` in {} failed ({}):\n{}\n{}",
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// Ensures node and the npm packages of [`js_dir()`] are there; returns
/// [`js_dir()`].
pub fn require_js_deps() -> Option<PathBuf> {
    require_node()?;
    require_npm_packages(&js_dir(), "socket.io-client")
}

/// Path to chromium (`$ROOMCAST_CHROMIUM` or [`CHROMIUM`]), or `None` with
/// a SKIP line. `bash scripts/setup-test-deps.sh` installs it.
pub fn require_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("ROOMCAST_CHROMIUM")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(CHROMIUM));
    if path.is_file() {
        Some(path)
    } else {
        let detail = format!(
            "not found at {}; run scripts/setup-test-deps.sh",
            path.display()
        );
        skip_or_panic("chromium", &detail)
    }
}

/// The result of a node run.
#[derive(Debug, Clone)]
pub struct NodeOutput {
    /// Exit status; `None` if the process was killed on timeout.
    pub status: Option<ExitStatus>,
    /// Whether the process was killed on timeout.
    pub timed_out: bool,
    /// What it wrote to stdout.
    pub stdout: String,
    /// What it wrote to stderr.
    pub stderr: String,
}

impl NodeOutput {
    /// Whether node exited with status 0.
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// Panics (printing stdout and stderr) unless node exited with status 0.
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        if !self.success() {
            panic!("node script failed: {}", self.describe());
        }
        self
    }

    /// Every stdout line that parses as a JSON object or array, in order.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with('{') || l.starts_with('['))
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The status and both outputs, for assertion messages.
    pub fn describe(&self) -> String {
        let status = match (self.timed_out, self.status) {
            (true, _) => "killed after timeout".to_string(),
            (false, Some(s)) => s.to_string(),
            (false, None) => "unknown".to_string(),
        };
        format!(
            "{status}\n--- stdout ---\n{}\n--- stderr ---\n{}\n--------------",
            self.stdout, self.stderr
        )
    }
}

/// The value of `key` in the first of `lines` that has it (a script's
/// [`NodeOutput::json_lines`]); panics, showing every line, when none has.
#[track_caller]
pub fn first_value<'a>(lines: &'a [serde_json::Value], key: &str) -> &'a serde_json::Value {
    lines
        .iter()
        .find_map(|l| l.get(key))
        .unwrap_or_else(|| panic!("no {key:?} line in {lines:#?}"))
}

/// Runs `node <js_dir>/<script>` (a path relative to [`js_dir()`]) with
/// cwd = js_dir and the extra `env` vars; the process is killed after
/// `timeout`. Panics if node is missing: gate the test with
/// [`require_js_deps`] first.
pub async fn run_node_file(script: &str, env: &[(&str, String)], timeout: Duration) -> NodeOutput {
    let dir = js_dir();
    let path = dir.join(script);
    assert!(path.is_file(), "node script not found: {}", path.display());
    run(vec![path.into_os_string()], &dir, env, timeout).await
}

/// Runs an inline ES-module `script` (`node --input-type=module -e`) with
/// cwd = js_dir, so bare imports resolve against its `node_modules`. Same
/// timeout behaviour as [`run_node_file`].
pub async fn run_node(script: &str, env: &[(&str, String)], timeout: Duration) -> NodeOutput {
    let args = vec!["--input-type=module".into(), "-e".into(), script.into()];
    run(args, &js_dir(), env, timeout).await
}

async fn run(
    args: Vec<OsString>,
    cwd: &Path,
    env: &[(&str, String)],
    timeout: Duration,
) -> NodeOutput {
    let node = require_node().expect("node not found: gate the test with require_js_deps()");
    let mut cmd = Command::new(node);
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("failed to spawn node");

    let mut out_pipe = child.stdout.take().expect("stdout piped");
    let mut err_pipe = child.stderr.take().expect("stderr piped");
    let stdout = tokio::spawn(async move {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf).await;
        buf
    });
    let stderr = tokio::spawn(async move {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf).await;
        buf
    });

    let (status, timed_out) = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(status) => (Some(status.expect("waiting for node failed")), false),
        Err(_) => {
            let _ = child.kill().await;
            (None, true)
        }
    };

    // A grandchild still holding the pipes must not hang the test: bound the drain.
    let drain = |h: tokio::task::JoinHandle<Vec<u8>>| async move {
        match tokio::time::timeout(Duration::from_secs(5), h).await {
            Ok(Ok(buf)) => String::from_utf8_lossy(&buf).into_owned(),
            _ => "<output unavailable: pipe still open 5s after exit>".to_string(),
        }
    };
    let (stdout, stderr) = tokio::join!(drain(stdout), drain(stderr));
    NodeOutput {
        status,
        timed_out,
        stdout,
        stderr,
    }
}
