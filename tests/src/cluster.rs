//! Clusters for the interop tests: nodes that answer the cluster contract
//! (the Rust `cluster-node` example, or the Node socket.io 4.8 server with
//! `@socket.io/redis-adapter` in `tests/js/cluster/cluster-node.mjs`) run as
//! child processes on free loopback ports, sharing one Redis under a key
//! prefix of their own; scripts in `tests/js/cluster/` drive real
//! `socket.io-client` clients against them and print one JSON line per
//! check, which [`Checks::assert`] holds against the expected list.
//!
//! A node is ready once it printed `{"listening": port, ...}`;
//! [`wait_subscribed`] then waits until every Redis node of the cluster
//! subscribes to the request channel, so no early publish is lost.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::process::{Child, Command};

use crate::redis::Redis;
use roomcast_testkit::js::{js_dir, require_node, require_npm_packages, run_node_file, NodeOutput};
use roomcast_testkit::process::{capture, workspace_bin};
use roomcast_testkit::Log;

/// Which implementation a node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// The `cluster-node` example.
    Rust,
    /// The Node reference server.
    Node,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Rust => "Rust",
            Kind::Node => "Node",
        })
    }
}

/// How long a node may take to start.
const START: Duration = Duration::from_secs(30);

/// The `cluster-node` binary, built once per test process with `cargo build`
/// (same profile as the test), or `$ROOMCAST_CLUSTER_NODE_BIN`.
pub fn cluster_node_bin() -> PathBuf {
    workspace_bin(
        "roomcast-examples",
        "cluster-node",
        "ROOMCAST_CLUSTER_NODE_BIN",
    )
}

/// Node, the npm packages, and the cluster's ones among them (installed
/// with `npm ci` when an older `node_modules` lacks them); `None` with a
/// SKIP line outside CI when unavailable.
pub fn require_cluster_js() -> Option<PathBuf> {
    require_node()?;
    require_npm_packages(&js_dir(), "@socket.io/redis-emitter")
}

/// One running node, killed when dropped.
pub struct ClusterNode {
    /// Its name in checks (and its answer to `whoami`).
    pub name: String,
    /// What it runs.
    pub kind: Kind,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Whether it joins the cluster through Redis.
    pub redis: bool,
    child: Child,
    output: Log<String>,
}

/// Where a node joins: the Redis and the key prefix.
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    /// The shared Redis.
    pub redis: Redis,
    /// The key prefix of this cluster.
    pub key: String,
}

impl ClusterNode {
    /// The Rust `cluster-node` example; `adapter` is `redis` or `memory`.
    pub async fn rust(name: &str, spec: &ClusterSpec, adapter: &str) -> ClusterNode {
        Self::rust_with_env(name, spec, adapter, &[]).await
    }

    /// [`ClusterNode::rust`] with extra environment variables (`RECOVERY=1`).
    pub async fn rust_with_env(
        name: &str,
        spec: &ClusterSpec,
        adapter: &str,
        env: &[(&str, &str)],
    ) -> ClusterNode {
        let mut cmd = Command::new(cluster_node_bin());
        cmd.envs(env.iter().copied());
        cmd.arg("0").env("ADAPTER", adapter).env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or("info".into()),
        );
        let redis = adapter == "redis" || adapter == "streams";
        Self::start(cmd, name, Kind::Rust, spec, redis).await
    }

    /// The Node reference server (socket.io 4.8 + @socket.io/redis-adapter).
    pub async fn node(name: &str, spec: &ClusterSpec) -> ClusterNode {
        Self::node_with_env(name, spec, &[]).await
    }

    /// [`ClusterNode::node`] with extra environment variables
    /// (`ADAPTER=streams`, `RECOVERY=1`, `PARSER=msgpack`).
    pub async fn node_with_env(
        name: &str,
        spec: &ClusterSpec,
        env: &[(&str, &str)],
    ) -> ClusterNode {
        let node = require_node().expect("gate the test with require_cluster_js()");
        let mut cmd = Command::new(node);
        cmd.envs(env.iter().copied());
        cmd.arg(js_dir().join("cluster/cluster-node.mjs"))
            .arg("0")
            .current_dir(js_dir());
        Self::start(cmd, name, Kind::Node, spec, true).await
    }

    async fn start(
        mut cmd: Command,
        name: &str,
        kind: Kind,
        spec: &ClusterSpec,
        redis: bool,
    ) -> ClusterNode {
        cmd.env("REDIS_URL", spec.redis.url())
            .env("KEY", &spec.key)
            .env("NAME", name)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {kind} node {name}: {e}"));
        let output = Log::default();
        capture(child.stdout.take().expect("piped"), "", &output);
        capture(child.stderr.take().expect("piped"), "stderr: ", &output);
        let mut node = ClusterNode {
            name: name.to_string(),
            kind,
            port: 0,
            redis,
            child,
            output,
        };
        let deadline = Instant::now() + START;
        node.port = loop {
            let port = node.lines().iter().find_map(|l| {
                serde_json::from_str::<Value>(l).ok()?["listening"]
                    .as_u64()
                    .and_then(|p| u16::try_from(p).ok())
            });
            if let Some(port) = port {
                break port;
            }
            if let Ok(Some(status)) = node.child.try_wait() {
                panic!("{kind} node {name} exited ({status}):\n{}", node.dump());
            }
            if Instant::now() > deadline {
                panic!(
                    "{kind} node {name} not ready after {START:?}:\n{}",
                    node.dump()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        node
    }

    /// Every line it printed so far (stderr ones prefixed).
    pub fn lines(&self) -> Vec<String> {
        self.output.all()
    }

    /// Its output, for failure messages.
    pub fn dump(&self) -> String {
        self.lines().join("\n")
    }

    /// `{"name", "port"}` for the scripts' `SERVERS`.
    pub fn json(&self) -> Value {
        json!({"name": self.name, "port": self.port})
    }
}

/// Waits until as many connections subscribe to the cluster's request
/// channel of `/` as `nodes` has Redis nodes.
pub async fn wait_subscribed(spec: &ClusterSpec, nodes: &[&ClusterNode]) {
    wait_subscribers(spec, nodes, &format!("{}-request#/#", spec.key)).await;
}

/// [`wait_subscribed`] for a streams cluster: the subscribers of its
/// public channel of `/` (`KEY#/#`, the streams adapter's node count).
pub async fn wait_subscribed_streams(spec: &ClusterSpec, nodes: &[&ClusterNode]) {
    wait_subscribers(spec, nodes, &format!("{}#/#", spec.key)).await;
}

async fn wait_subscribers(spec: &ClusterSpec, nodes: &[&ClusterNode], channel: &str) {
    let want = nodes.iter().filter(|n| n.redis).count() as i64;
    let deadline = Instant::now() + START;
    loop {
        let got = spec.redis.subscribers(channel).await.unwrap_or(-1);
        if got == want {
            return;
        }
        if Instant::now() > deadline {
            let dumps: String = nodes
                .iter()
                .map(|n| format!("--- {} ---\n{}\n", n.name, n.dump()))
                .collect();
            panic!("{got} subscribers to {channel}, expected {want}:\n{dumps}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One expected check: (check, from, to).
pub type Expected = (String, String, String);

/// The checks `contract.mjs` makes for servers named `names`.
pub fn contract_checks(names: &[&str]) -> Vec<Expected> {
    let mut all = Vec::new();
    for from in names {
        for to in names {
            for check in [
                "join",
                "fanout",
                "fanout-binary",
                "room-size",
                "ack-all",
                "fanout-except",
                "fanout-local",
                "sockets-join",
                "sockets-leave",
                "fetch-data",
                "remote-emit",
                "leave",
                "kick",
            ] {
                all.push((check.to_string(), from.to_string(), to.to_string()));
            }
        }
        for check in ["echo", "echo-ack", "servers"] {
            all.push((check.to_string(), from.to_string(), from.to_string()));
        }
        for check in ["room-size", "ack-all", "fanout"] {
            all.push((check.to_string(), from.to_string(), "*".to_string()));
        }
    }
    all
}

/// The checks `emitter.mjs` makes for servers named `names`.
pub fn emitter_checks(names: &[&str]) -> Vec<Expected> {
    let checks = [
        "emit-all",
        "emit-room",
        "emit-except",
        "emit-rooms-except",
        "server-side-emit",
        "sockets-join",
        "sockets-leave",
        "disconnect-sockets",
    ];
    names
        .iter()
        .flat_map(|to| {
            checks
                .iter()
                .map(move |c| (c.to_string(), "emitter".to_string(), to.to_string()))
        })
        .collect()
}

/// What a script reported.
pub struct Checks {
    /// The script's run.
    pub output: NodeOutput,
    lines: Vec<Value>,
    kinds: BTreeMap<String, Kind>,
    dumps: String,
}

/// Runs `tests/js/cluster/<script>` against `nodes` with clients on
/// `transport`; `env` adds variables (e.g. `KEY`).
pub async fn run_checks(
    script: &str,
    nodes: &[&ClusterNode],
    transport: &str,
    env: &[(&str, String)],
) -> Checks {
    let servers = Value::Array(nodes.iter().map(|n| n.json()).collect());
    let mut vars = vec![
        ("SERVERS", servers.to_string()),
        ("TRANSPORT", transport.to_string()),
    ];
    vars.extend(env.iter().cloned());
    let output = run_node_file(
        &format!("cluster/{script}"),
        &vars,
        Duration::from_secs(120),
    )
    .await;
    Checks {
        lines: output.json_lines(),
        output,
        kinds: nodes.iter().map(|n| (n.name.clone(), n.kind)).collect(),
        dumps: nodes
            .iter()
            .map(|n| format!("--- {} ({}) ---\n{}\n", n.name, n.kind, n.dump()))
            .collect(),
    }
}

impl Checks {
    fn direction(&self, from: &str, to: &str) -> String {
        let kind = |name: &str| match name {
            "emitter" => "redis-emitter".to_string(),
            "*" => "everyone".to_string(),
            n => self
                .kinds
                .get(n)
                .map_or_else(|| n.to_string(), |k| k.to_string()),
        };
        if from == to {
            format!("{} (same node)", kind(from))
        } else {
            format!("{}→{}", kind(from), kind(to))
        }
    }

    /// A summary per direction (`Rust→Node: 7/7`) and every failure.
    pub fn report(&self, expected: &[Expected]) -> (String, usize) {
        let mut per_direction: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let mut failures = String::new();
        for (check, from, to) in expected {
            let line = self.lines.iter().find(|l| {
                l["check"] == check.as_str() && l["from"] == from.as_str() && l["to"] == to.as_str()
            });
            let entry = per_direction.entry(self.direction(from, to)).or_default();
            entry.1 += 1;
            match line {
                Some(l) if l["ok"] == true => entry.0 += 1,
                Some(l) => {
                    let _ = writeln!(
                        failures,
                        "FAIL {check} {from}→{to}: got {} want {}",
                        l["got"], l["want"]
                    );
                }
                None => {
                    let _ = writeln!(failures, "MISSING {check} {from}→{to}");
                }
            }
        }
        let mut summary = String::new();
        for (direction, (ok, all)) in &per_direction {
            let _ = writeln!(summary, "{direction}: {ok}/{all} checks pass");
        }
        let failed = failures.lines().count();
        (format!("{summary}{failures}"), failed)
    }

    /// Panics (with the summary, the failures, the script's and the nodes'
    /// output) unless every expected check is there and ok and the script
    /// exited cleanly.
    #[track_caller]
    pub fn assert(&self, expected: &[Expected]) {
        let (report, failed) = self.report(expected);
        {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "{report}");
        }
        let done = self.lines.iter().any(|l| l["done"] == true);
        if failed > 0 || !done || !self.output.success() {
            // The script's own lines, but the passing checks.
            let stdout: Vec<&str> = self
                .output
                .stdout
                .lines()
                .filter(|l| !l.contains(r#""ok":true"#))
                .collect();
            panic!(
                "{failed} cluster check(s) failed{}:\n{report}\nscript ({}):\n{}\n{}\n{}",
                if done { "" } else { " (script did not finish)" },
                match self.output.status {
                    Some(status) => status.to_string(),
                    None => "killed after its timeout".to_string(),
                },
                stdout.join("\n"),
                self.output.stderr,
                self.dumps
            );
        }
    }
}
