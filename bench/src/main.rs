//! `roomcast-bench`: runs one scenario against a Socket.IO server (or a bare
//! WebSocket server with `--raw`), prints a progress line every second to
//! stderr and a table at the end, and writes JSON with `--json`.
//! `roomcast-bench report DIR` writes BENCHMARKS.md from such JSON files.
//!
//! ```sh
//! roomcast-bench echo --addr 127.0.0.1:3000 -c 100 -w 8 --server-pid $PID --json echo.json
//! roomcast-bench fanout -n 1000 -b 10
//! roomcast-bench fanout-latency -n 10000 --rate 10
//! roomcast-bench cluster-fanout -n 500 -b 10 --addr 127.0.0.1:3001 --remote-addr 127.0.0.1:3002
//! roomcast-bench connect -k 50
//! roomcast-bench idle -c 10000 --server-pid $PID
//! roomcast-bench polling -c 50 -w 4
//! roomcast-bench recovery -n 10000 --churn 0.05 --rate 20 --server-pid $PID
//! ```
//!
//! The runtime is tokio's `current_thread` one: the generator uses one
//! core, so it can be pinned beside a server pinned to another.

use std::process::ExitCode;

use clap::Parser;
use roomcast_bench::cli::{Cli, Command};
use roomcast_bench::{markdown, scenarios};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (json, report) = match cli.command {
        Command::Report(args) => {
            return match markdown::write(&args) {
                Ok(()) => {
                    eprintln!("wrote {}", args.out.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("report failed: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        command => {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let local = tokio::task::LocalSet::new();
            roomcast_bench::now_us();
            local.block_on(&runtime, async move {
                match command {
                    Command::Echo(a) => (a.common.json.clone(), scenarios::echo::run(a).await),
                    Command::Fanout(a) => (
                        a.common.json.clone(),
                        scenarios::fanout::run_closed(a).await,
                    ),
                    Command::ClusterFanout(a) => (
                        a.common.json.clone(),
                        scenarios::cluster_fanout::run(a).await,
                    ),
                    Command::FanoutLatency(a) => {
                        (a.common.json.clone(), scenarios::fanout::run_open(a).await)
                    }
                    Command::Connect(a) => {
                        (a.common.json.clone(), scenarios::connect::run(a).await)
                    }
                    Command::Idle(a) => (a.common.json.clone(), scenarios::idle::run(a).await),
                    Command::ReconnectStorm(a) => {
                        (a.common.json.clone(), scenarios::storm::run(a).await)
                    }
                    Command::Recovery(a) => {
                        (a.common.json.clone(), scenarios::recovery::run(a).await)
                    }
                    Command::Polling(a) => {
                        (a.common.json.clone(), scenarios::polling::run(a).await)
                    }
                    Command::Report(_) => unreachable!("handled above"),
                }
            })
        }
    };
    match report {
        Ok(report) => {
            report.print();
            if let Some(path) = json {
                if let Err(e) = report.write_json(&path) {
                    eprintln!("cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("scenario failed: {e}");
            ExitCode::FAILURE
        }
    }
}
