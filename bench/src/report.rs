//! The result of one scenario run: a table on stdout, JSON on request.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cli::Common;
use crate::stats::{fmt_us, Latency, Window};

/// One scenario run against one server.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct Report {
    /// The scenario (`echo`, `fanout`, …).
    pub scenario: String,
    /// The scenario with the parameters that define it (`fanout n=1000
    /// b=10`): runs with the same case are comparable.
    pub case: String,
    /// The server's name (`--label`).
    pub label: String,
    /// The server's address.
    pub addr: String,
    /// Plain WebSocket frames (no Engine.IO / Socket.IO).
    pub raw: bool,
    /// Every parameter.
    pub params: Value,
    /// What an operation is (events, deliveries, connections).
    pub unit: String,
    /// Connections open during the window.
    pub connections: u64,
    /// Wall seconds of the measured window.
    pub secs: f64,
    /// Operations completed in the window.
    pub ops: u64,
    /// Operations per second.
    pub ops_per_s: f64,
    /// Failures in the window.
    pub errors: u64,
    /// Latency percentiles over the window (µs).
    pub latency_us: Option<Latency>,
    /// Deliveries expected, received and lost (fanout scenarios).
    pub expected: Option<u64>,
    /// Deliveries received.
    pub received: Option<u64>,
    /// Deliveries lost.
    pub lost: Option<u64>,
    /// The server's CPU time over the window (µs).
    pub server_cpu_us: Option<f64>,
    /// The server's CPU time per operation (µs).
    pub server_cpu_us_per_op: Option<f64>,
    /// The kernel's share of `server_cpu_us_per_op` (stime, µs).
    #[serde(default)]
    pub server_sys_us_per_op: Option<f64>,
    /// The server's CPU use, % of one core.
    pub server_cpu_pct: Option<f64>,
    /// The generator's CPU use, % of one core (100 = saturated).
    pub gen_cpu_pct: Option<f64>,
    /// CPU use of everything else on the machine, % of one core.
    pub other_cpu_pct: Option<f64>,
    /// 1-minute load average at the window's start.
    pub load1_start: f64,
    /// 1-minute load average at the window's end.
    pub load1_end: f64,
    /// Server RSS with no client (KiB; `idle`).
    pub rss_kib_empty: Option<u64>,
    /// Server RSS with the idle clients connected (KiB; `idle`).
    pub rss_kib_loaded: Option<u64>,
    /// (loaded − empty) / connections, in bytes (`idle`).
    pub rss_bytes_per_conn: Option<f64>,
    /// When the run ended (seconds since the epoch).
    pub unix_time: u64,
    /// Per-node figures (`cluster-fanout`).
    #[serde(default)]
    pub cluster: Option<ClusterFigures>,
}

/// The nodes of a `cluster-fanout` run.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct ClusterFigures {
    /// The local node (the trigger's) first, then the remote one.
    pub nodes: Vec<NodeFigures>,
    /// Remote CPU per delivery / local CPU per delivery.
    pub remote_over_local: Option<f64>,
    /// The broker's CPU time per delivery (all nodes' deliveries), µs.
    pub broker_cpu_us_per_delivery: Option<f64>,
    /// The broker's CPU use, % of one core.
    pub broker_cpu_pct: Option<f64>,
}

/// One node of a `cluster-fanout` run: its deliveries and its CPU.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct NodeFigures {
    /// `local` (the trigger's node) or `remote`.
    pub role: String,
    /// Deliveries to its subscribers in the window.
    pub deliveries: u64,
    /// Deliveries to its subscribers lost (whole run).
    pub lost: u64,
    /// Its CPU time per delivery to its subscribers, µs.
    pub cpu_us_per_delivery: Option<f64>,
    /// The kernel's share of it, µs.
    pub sys_us_per_delivery: Option<f64>,
    /// Its CPU use, % of one core.
    pub cpu_pct: Option<f64>,
    /// Delivery latency of its subscribers.
    pub latency_us: Option<Latency>,
}

impl Report {
    /// A report from a measured window.
    pub fn new(
        scenario: &str,
        case: String,
        common: &Common,
        unit: &str,
        params: Value,
        window: &Window,
    ) -> Self {
        let cpu = &window.cpu;
        let ops = window.ops;
        Report {
            scenario: scenario.to_string(),
            case,
            label: common.label.clone(),
            addr: common.addr.to_string(),
            raw: common.raw,
            params,
            unit: unit.to_string(),
            connections: 0,
            secs: cpu.secs,
            ops,
            ops_per_s: ops as f64 / cpu.secs,
            errors: window.errors,
            latency_us: Latency::of(&window.latencies),
            expected: None,
            received: None,
            lost: None,
            server_cpu_us: cpu.server_us,
            server_cpu_us_per_op: cpu.server_us.filter(|_| ops > 0).map(|u| u / ops as f64),
            server_sys_us_per_op: cpu
                .server_sys_us
                .filter(|_| ops > 0)
                .map(|u| u / ops as f64),
            server_cpu_pct: cpu.pct(cpu.server_us),
            gen_cpu_pct: cpu.pct(cpu.own_us),
            other_cpu_pct: cpu.pct(cpu.other_us),
            load1_start: window.load1.0,
            load1_end: window.load1.1,
            rss_kib_empty: None,
            rss_kib_loaded: None,
            rss_bytes_per_conn: None,
            unix_time: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            cluster: None,
        }
    }

    /// Prints the result as a small table on stdout.
    pub fn print(&self) {
        let opt = |v: Option<f64>, digits: usize| match v {
            Some(v) => format!("{v:.digits$}"),
            None => "-".to_string(),
        };
        println!();
        println!("{} — {} ({})", self.case, self.label, self.addr);
        println!("  {:<26} {:.2} s", "window", self.secs);
        println!("  {:<26} {}", "connections open", self.connections);
        println!("  {:<26} {}", self.unit, self.ops);
        println!("  {:<26} {:.0}", format!("{}/s", self.unit), self.ops_per_s);
        if let Some(l) = &self.latency_us {
            println!(
                "  {:<26} p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  (n={})",
                "latency",
                fmt_us(l.p50),
                fmt_us(l.p90),
                fmt_us(l.p99),
                fmt_us(l.p999),
                fmt_us(l.max),
                l.count
            );
        }
        if let (Some(e), Some(r), Some(l)) = (self.expected, self.received, self.lost) {
            println!(
                "  {:<26} expected {e}  received {r}  lost {l}",
                "deliveries"
            );
        }
        if let (Some(a), Some(b)) = (self.rss_kib_empty, self.rss_kib_loaded) {
            println!(
                "  {:<26} {a} KiB empty, {b} KiB loaded, {} bytes/connection",
                "server RSS",
                opt(self.rss_bytes_per_conn, 0)
            );
        }
        println!("  {:<26} {}", "errors", self.errors);
        println!(
            "  {:<26} {} µs/{}, of which kernel {}  ({} % of a core)",
            "server CPU",
            opt(self.server_cpu_us_per_op, 3),
            singular(&self.unit),
            opt(self.server_sys_us_per_op, 3),
            opt(self.server_cpu_pct, 1)
        );
        if let Some(c) = &self.cluster {
            for n in &c.nodes {
                let (p50, p99) = n
                    .latency_us
                    .as_ref()
                    .map_or(("-".into(), "-".into()), |l| (fmt_us(l.p50), fmt_us(l.p99)));
                println!(
                    "  {:<26} {} deliveries, lost {}, {} µs/delivery (kernel {}, {} % of a core), p50 {p50} p99 {p99}",
                    format!("{} node", n.role),
                    n.deliveries,
                    n.lost,
                    opt(n.cpu_us_per_delivery, 3),
                    opt(n.sys_us_per_delivery, 3),
                    opt(n.cpu_pct, 1),
                );
            }
            println!(
                "  {:<26} {}",
                "remote / local CPU",
                opt(c.remote_over_local, 3)
            );
            println!(
                "  {:<26} {} µs/delivery ({} % of a core)",
                "broker CPU",
                opt(c.broker_cpu_us_per_delivery, 3),
                opt(c.broker_cpu_pct, 1)
            );
        }
        println!("  {:<26} {} %", "generator CPU", opt(self.gen_cpu_pct, 1));
        println!(
            "  {:<26} {} %",
            "other CPU (interference)",
            opt(self.other_cpu_pct, 1)
        );
        println!(
            "  {:<26} {:.2} → {:.2}",
            "load average (1 min)", self.load1_start, self.load1_end
        );
    }

    /// Writes the report as pretty JSON.
    pub fn write_json(&self, path: &Path) -> io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(io::Error::other)?;
        std::fs::write(path, text + "\n")
    }
}

/// "events" → "event", "deliveries" → "delivery".
pub fn singular(unit: &str) -> String {
    match unit.strip_suffix("ies") {
        Some(stem) => format!("{stem}y"),
        None => unit.trim_end_matches('s').to_string(),
    }
}
