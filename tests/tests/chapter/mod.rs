//! Support for `chapter_browser.rs`: the `chapter` binary as a child
//! process with its output captured, and GET requests to it.
//!
//! The binary is built once per test process with `cargo build` (same
//! profile and target directory as the test), or taken from
//! `$ROOMCAST_CHAPTER_BIN`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use roomcast_testkit::http::{http, HttpResponse};
use roomcast_testkit::js::{require_npm_packages, workspace_root as repo_root};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

/// The start of the line the binary prints once it listens.
pub const READY: &str = "Server running on port ";

pub fn chapter_dir() -> PathBuf {
    repo_root().join("examples/chapter")
}

/// The `chapter` binary, built once per test process.
pub fn chapter_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("ROOMCAST_CHAPTER_BIN").filter(|b| !b.is_empty()) {
            return PathBuf::from(bin);
        }
        let cargo = std::env::var_os("CARGO")
            .or_else(|| option_env!("CARGO").map(Into::into))
            .unwrap_or_else(|| "cargo".into());
        let mut cmd = std::process::Command::new(cargo);
        cmd.args(["build", "-p", "roomcast-examples", "--bin", "chapter"])
            .arg("--message-format=json-render-diagnostics")
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .stderr(Stdio::inherit());
        if !cfg!(debug_assertions) {
            cmd.arg("--release");
        }
        let out = cmd.output().expect("failed to run cargo build");
        assert!(
            out.status.success(),
            "cargo build of the chapter example failed"
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "chapter")
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .expect("cargo build reported no chapter executable")
    })
    .clone()
}

/// socket.io-client's browser bundle in `examples/chapter/node_modules`,
/// installed from the lockfile with `npm ci` when missing.
pub fn require_chapter_client() -> Option<()> {
    require_npm_packages(&chapter_dir(), "socket.io-client/dist").map(drop)
}

/// A running `chapter` binary with its output captured.
pub struct Chapter {
    _child: Child,
    pub port: u16,
    out: Arc<Mutex<Vec<String>>>,
}

impl Chapter {
    /// Starts the binary on a free port; `dir` overrides `CHAPTER_DIR`.
    pub async fn start(dir: Option<&Path>) -> Chapter {
        let mut cmd = Command::new(chapter_bin());
        cmd.env("PORT", "0")
            .env("HOST", "127.0.0.1")
            .env_remove("CHAPTER_DIR")
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(dir) = dir {
            cmd.env("CHAPTER_DIR", dir);
        }
        let mut child = cmd.spawn().expect("failed to start the chapter binary");
        let out = Arc::new(Mutex::new(Vec::new()));
        capture(child.stdout.take().unwrap(), "", &out);
        capture(child.stderr.take().unwrap(), "stderr: ", &out);
        let mut server = Chapter {
            _child: child,
            port: 0,
            out,
        };
        let ready = server
            .wait_until(Duration::from_secs(30), |lines| {
                lines
                    .iter()
                    .find_map(|l| l.strip_prefix(READY).map(str::to_string))
            })
            .await
            .unwrap_or_else(|| panic!("the chapter binary never got ready:\n{}", server.dump()));
        server.port = ready
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port in the ready line");
        server
    }

    /// Polls the captured output until `check` returns something.
    pub async fn wait_until<T>(
        &self,
        within: Duration,
        check: impl Fn(&[String]) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(found) = check(&self.out.lock().unwrap()) {
                return Some(found);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The `[socket.io] …` lines printed so far.
    pub fn socket_io_lines(&self) -> Vec<String> {
        let out = self.out.lock().unwrap();
        out.iter()
            .filter(|l| l.starts_with("[socket.io]"))
            .cloned()
            .collect()
    }

    pub fn dump(&self) -> String {
        self.out.lock().unwrap().join("\n")
    }
}

/// `GET path` with extra `headers`.
pub async fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    http(
        SocketAddr::from(([127, 0, 0, 1], port)),
        "GET",
        path,
        headers,
        b"",
    )
    .await
}

/// Appends the lines of `pipe` to `out` as they come.
fn capture(
    pipe: impl AsyncRead + Send + Unpin + 'static,
    prefix: &'static str,
    out: &Arc<Mutex<Vec<String>>>,
) {
    let out = out.clone();
    tokio::spawn(async move {
        let mut lines = BufReader::new(pipe).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            out.lock().unwrap().push(format!("{prefix}{line}"));
        }
    });
}
