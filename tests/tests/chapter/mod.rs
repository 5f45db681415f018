//! Support for `chapter_browser.rs`: the `chapter` binary as a child
//! process with its output captured, and GET requests to it.
//!
//! The binary is built once per test process with `cargo build` (same
//! profile and target directory as the test), or taken from
//! `$ROOMCAST_CHAPTER_BIN`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use roomcast_testkit::http::{http, HttpResponse};
use roomcast_testkit::js::{require_npm_packages, workspace_root as repo_root};
use roomcast_testkit::process::{capture, workspace_bin};
use roomcast_testkit::Log;
use tokio::process::{Child, Command};

/// The start of the line the binary prints once it listens.
pub const READY: &str = "Server running on port ";

pub fn chapter_dir() -> PathBuf {
    repo_root().join("examples/chapter")
}

/// The `chapter` binary, built once per test process.
pub fn chapter_bin() -> PathBuf {
    workspace_bin("roomcast-examples", "chapter", "ROOMCAST_CHAPTER_BIN")
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
    out: Log<String>,
}

impl Chapter {
    /// Starts the binary on a free port; `dir` overrides `CHAPTER_DIR`.
    pub async fn start(dir: Option<&Path>) -> Chapter {
        Self::start_with(dir, &[]).await
    }

    /// Same as [`Chapter::start`], with extra environment variables.
    pub async fn start_with(dir: Option<&Path>, env: &[(&str, &str)]) -> Chapter {
        let mut cmd = Command::new(chapter_bin());
        cmd.envs(env.iter().copied());
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
        let out = Log::default();
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
            if let Some(found) = check(&self.out.all()) {
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
        let mut lines = self.out.all();
        lines.retain(|l| l.starts_with("[socket.io]"));
        lines
    }

    pub fn dump(&self) -> String {
        self.out.all().join("\n")
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
