//! Command-line options: one subcommand per scenario, plus `report`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// A load generator for Socket.IO v5 / Engine.IO v4 servers.
#[derive(Parser, Debug)]
#[command(name = "roomcast-bench", version)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The scenarios, and the report.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// C connections each keep W `echo` events in flight; the server emits
    /// each back (or acks it, with --ack): events/s and round-trip latency.
    Echo(EchoArgs),
    /// N subscribers in one room; a trigger asks for B `fanout` events and
    /// waits until every subscriber has all B before the next batch.
    Fanout(FanoutArgs),
    /// N subscribers on each of two cluster nodes; a trigger on the first
    /// asks for B `fanout` events per batch (closed loop): each node's CPU
    /// per delivery, local vs remote.
    ClusterFanout(ClusterFanoutArgs),
    /// N subscribers; R single-event broadcasts per second (open loop):
    /// delivery latency and loss.
    FanoutLatency(FanoutLatencyArgs),
    /// New connections: TCP connect to namespace CONNECT reply, K in
    /// flight, each then closed.
    Connect(ConnectArgs),
    /// C clients connected, the server restarted by the script, all
    /// reconnecting with socket.io-client's default backoff: time until all
    /// are back, server CPU per reconnection, handshake errors.
    ReconnectStorm(StormArgs),
    /// N subscribers in one room, R broadcasts per second, a fraction of
    /// the subscribers cut and reconnecting (recovering their session if
    /// the server lets them) every second: delivered / expected,
    /// duplicates, recovered vs fresh sessions.
    Recovery(RecoveryArgs),
    /// Server RSS with no client and with N idle connected clients.
    Idle(IdleArgs),
    /// `echo` over HTTP long-polling only.
    Polling(EchoArgs),
    /// Writes BENCHMARKS.md from a directory of JSON results.
    Report(ReportArgs),
}

/// Options every scenario has.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// The Engine.IO path.
    #[arg(long, default_value = "/socket.io/")]
    pub path: String,
    /// Plain WebSocket frames, no Engine.IO / Socket.IO (for `ceiling`).
    #[arg(long)]
    pub raw: bool,
    /// The server's PID: its CPU time (/proc/PID/stat) over the measured
    /// window, and its RSS for `idle`.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// A name for the server in the results (roomcast, node, ceiling...).
    #[arg(long, default_value = "server")]
    pub label: String,
    /// Seconds before the measured window.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Seconds of the measured window.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Connections being set up at once.
    #[arg(long, default_value_t = 100)]
    pub setup_concurrency: usize,
    /// Writes the result as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// No progress line every second.
    #[arg(long)]
    pub quiet: bool,
    /// Loopback source addresses that `idle`, `fanout` and
    /// `reconnect-storm` spread their connections over (127.0.0.2,
    /// 127.0.0.3, ...: connection i always from the (i mod N)-th, as a
    /// device keeps its address); 0: the kernel's choice (127.0.0.1). One source
    /// address has about 28,000 ephemeral ports towards the server, fewer
    /// while earlier runs' sockets wait in TIME_WAIT. The server must
    /// listen on 127.0.0.1 or a wildcard.
    #[arg(long, default_value_t = 0)]
    pub sources: u8,
    /// The local address connections are made from (none: the kernel's
    /// choice); set per client by scenarios that spread their clients over
    /// several loopback addresses.
    #[arg(skip)]
    pub source: Option<std::net::IpAddr>,
}

impl Common {
    /// The warmup as a duration.
    pub fn warmup(&self) -> Duration {
        Duration::from_secs_f64(self.warmup.max(0.0))
    }

    /// The measured window as a duration.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration.max(0.1))
    }

    /// The options of set-up connection `i`: from its source address among
    /// `--sources` (the same options when there are none).
    pub fn for_client(self: &Rc<Self>, i: usize) -> Rc<Self> {
        match crate::client::loopback_source(i, self.sources) {
            None => self.clone(),
            source => Rc::new(Common {
                source,
                ..(**self).clone()
            }),
        }
    }
}

/// `echo` and `polling`.
#[derive(Args, Debug, Clone)]
pub struct EchoArgs {
    #[command(flatten)]
    pub common: Common,
    /// Connections.
    #[arg(short, long, default_value_t = 100)]
    pub connections: usize,
    /// Events each connection keeps in flight.
    #[arg(short, long, default_value_t = 8)]
    pub window: usize,
    /// Bytes of padding in each event (a string argument after the timestamp).
    #[arg(long, default_value_t = 16)]
    pub payload_bytes: usize,
    /// Emit `echo-ack` with an ack id and wait for the ack, not the echo.
    #[arg(long)]
    pub ack: bool,
    /// `echo` only: connect with the generator's own WebSocket client,
    /// offering `permessage-deflate` (`on`) or not (`off`), and report the
    /// bytes on the wire per event (both directions). Without it, the
    /// tungstenite client as for the other scenarios.
    #[arg(long, value_parser = ["on", "off"])]
    pub compress: Option<String>,
}

/// The batches of `fanout` and `cluster-fanout`.
#[derive(Args, Debug, Clone)]
pub struct BatchArgs {
    /// Events per batch (the `count` of each `fanout` request).
    #[arg(short, long, default_value_t = 10)]
    pub batch: u32,
    /// Bytes of padding in each payload.
    #[arg(long, default_value_t = 16)]
    pub payload_bytes: usize,
    /// Seconds a batch may take before its missing deliveries count as lost.
    #[arg(long, default_value_t = 10.0)]
    pub batch_timeout: f64,
    /// The room.
    #[arg(long, default_value = "bench")]
    pub room: String,
}

impl BatchArgs {
    /// How long a batch may take (at least 10 ms).
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.batch_timeout.max(0.01))
    }
}

/// `fanout` (closed loop).
#[derive(Args, Debug, Clone)]
pub struct FanoutArgs {
    #[command(flatten)]
    pub common: Common,
    /// Subscribers in the room.
    #[arg(short = 'n', long, default_value_t = 1000)]
    pub subscribers: usize,
    #[command(flatten)]
    pub batches: BatchArgs,
}

/// `cluster-fanout` (closed loop over two nodes).
#[derive(Args, Debug, Clone)]
pub struct ClusterFanoutArgs {
    /// `--addr` and `--server-pid` are the local node's (the trigger's).
    #[command(flatten)]
    pub common: Common,
    /// The remote node's address.
    #[arg(long)]
    pub remote_addr: SocketAddr,
    /// The remote node's PID (its CPU time).
    #[arg(long)]
    pub remote_pid: Option<u32>,
    /// The broker's PID (redis-server; its CPU time).
    #[arg(long)]
    pub broker_pid: Option<u32>,
    /// Subscribers in the room on each node.
    #[arg(short = 'n', long, default_value_t = 500)]
    pub subscribers: usize,
    #[command(flatten)]
    pub batches: BatchArgs,
}

/// `fanout-latency` (open loop).
#[derive(Args, Debug, Clone)]
pub struct FanoutLatencyArgs {
    #[command(flatten)]
    pub common: Common,
    /// Subscribers in the room.
    #[arg(short = 'n', long, default_value_t = 10_000)]
    pub subscribers: usize,
    /// Broadcasts per second (one event each).
    #[arg(short, long, default_value_t = 10.0)]
    pub rate: f64,
    /// Bytes of padding in each payload.
    #[arg(long, default_value_t = 16)]
    pub payload_bytes: usize,
    /// Seconds to wait for late deliveries after the last broadcast.
    #[arg(long, default_value_t = 3.0)]
    pub grace: f64,
    /// The room.
    #[arg(long, default_value = "bench")]
    pub room: String,
}

/// `connect`.
#[derive(Args, Debug, Clone)]
pub struct ConnectArgs {
    #[command(flatten)]
    pub common: Common,
    /// Connections being opened at once.
    #[arg(short = 'k', long, default_value_t = 50)]
    pub inflight: usize,
    /// Connect as the default socket.io-client does: polling handshake and
    /// CONNECT, then the WebSocket probe and upgrade.
    #[arg(long)]
    pub upgrade: bool,
}

/// `reconnect-storm`.
#[derive(Args, Debug, Clone)]
pub struct StormArgs {
    #[command(flatten)]
    pub common: Common,
    /// Clients.
    #[arg(short, long, default_value_t = 10_000)]
    pub connections: usize,
    /// Reconnect over WebSocket only (default: the default client's path,
    /// polling handshake then upgrade).
    #[arg(long)]
    pub ws_only: bool,
    /// Created once every client is connected: the script then restarts
    /// the server.
    #[arg(long)]
    pub ready_file: PathBuf,
    /// Where the script writes the new server's PID.
    #[arg(long)]
    pub pid_file: PathBuf,
    /// Seconds the storm may take at most.
    #[arg(long, default_value_t = 120.0)]
    pub timeout: f64,
}

/// `recovery`.
#[derive(Args, Debug, Clone)]
pub struct RecoveryArgs {
    #[command(flatten)]
    pub common: Common,
    /// Subscribers in the room.
    #[arg(short = 'n', long, default_value_t = 10_000)]
    pub subscribers: usize,
    /// Fraction of the subscribers cut every second.
    #[arg(long, default_value_t = 0.05)]
    pub churn: f64,
    /// Broadcasts per second (one event each).
    #[arg(short, long, default_value_t = 20.0)]
    pub rate: f64,
    /// Bytes of padding in each payload.
    #[arg(long, default_value_t = 16)]
    pub payload_bytes: usize,
    /// Milliseconds between a cut and the reconnection.
    #[arg(long, default_value_t = 200)]
    pub reconnect_delay_ms: u64,
    /// Seconds to wait, after the last broadcast, for every subscriber to
    /// be back and the deliveries to settle.
    #[arg(long, default_value_t = 10.0)]
    pub grace: f64,
    /// The room.
    #[arg(long, default_value = "bench")]
    pub room: String,
}

/// `idle`.
#[derive(Args, Debug, Clone)]
pub struct IdleArgs {
    #[command(flatten)]
    pub common: Common,
    /// Idle connections.
    #[arg(short, long, default_value_t = 10_000)]
    pub connections: usize,
    /// Seconds to wait once all are connected before reading the RSS.
    #[arg(long, default_value_t = 5.0)]
    pub settle: f64,
}

/// `report`.
#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    /// Directory of JSON results (searched recursively).
    pub dir: PathBuf,
    /// Where to write the markdown.
    #[arg(long, default_value = "BENCHMARKS.md")]
    pub out: PathBuf,
    /// The command that reproduces the run (printed in the report).
    #[arg(long, default_value = "bash scripts/bench.sh")]
    pub command: String,
    /// The 1-minute load average before the run started, and how long the
    /// script waited for a quiet machine (free text).
    #[arg(long, default_value = "")]
    pub machine_note: String,
    /// A markdown file appended as the analysis section.
    #[arg(long)]
    pub analysis: Option<PathBuf>,
}
