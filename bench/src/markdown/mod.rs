//! `BENCHMARKS.md` from a directory of JSON results: every server's figures
//! per case (medians over the runs, each run's value beside), the ratios
//! roomcast/socketioxide, roomcast/Node and roomcast/ceiling, and each
//! target met or missed.
//! Every number in it comes from the JSON files; none is typed by hand.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use crate::cli::ReportArgs;
use crate::report::{singular, Report};

mod describe;
mod scale;
mod sections;

use describe::describe;
use sections::{write_nodes, write_recovery, write_requests, write_storm};

/// The label of the server the targets are about.
const SUBJECT: &str = "roomcast";
/// Servers in the order they are shown.
const ORDER: [&str; 4] = ["roomcast", "socketioxide", "node", "ceiling"];
/// The peers roomcast is compared with, in the order of the ratio lines.
const PEERS: [&str; 3] = ["socketioxide", "node", "ceiling"];

/// One of the targets.
struct Target {
    what: &'static str,
    /// The case it applies to.
    case: &'static str,
    check: fn(&Runs) -> (String, bool),
}

const TARGETS: [Target; 8] = [
    Target {
        what: "echo: server CPU ≤ 3 µs per echoed event",
        case: "echo c=100 w=8",
        check: |r| upto(r.median(|x| x.server_cpu_us_per_op), 3.0, "µs/event"),
    },
    Target {
        what: "fanout 1k × B=10: ≤ 0.25 µs per delivery, zero loss",
        case: "fanout n=1000 b=10",
        check: |r| {
            with_loss(
                r,
                upto(r.median(|x| x.server_cpu_us_per_op), 0.25, "µs/delivery"),
            )
        },
    },
    Target {
        what: "fanout 10k × B=2: ≤ 0.5 µs per delivery, zero loss",
        case: "fanout n=10000 b=2",
        check: |r| {
            with_loss(
                r,
                upto(r.median(|x| x.server_cpu_us_per_op), 0.5, "µs/delivery"),
            )
        },
    },
    Target {
        what: "fanout-latency 10k × 10/s: p99 < 50 ms, zero loss",
        case: "fanout-latency n=10000 rate=10",
        check: |r| {
            let p99 = r.median(|x| x.latency_us.as_ref().map(|l| l.p99 as f64));
            let (text, ok) = upto(p99.map(|v| v / 1000.0), 50.0, "ms p99");
            with_loss(r, (text, ok && p99.is_some_and(|v| v < 50_000.0)))
        },
    },
    Target {
        what: "idle: ≤ 5 KB (5000 bytes) RSS per WebSocket connection at 10k",
        case: "idle c=10000",
        check: |r| {
            upto(
                r.median(|x| x.rss_bytes_per_conn),
                5000.0,
                "bytes/connection",
            )
        },
    },
    Target {
        what: "idle, round 2: ≤ 4 KB (4000 bytes) RSS per WebSocket connection at 19k \
               (100k in the issue; one process may hold 20,000 files here)",
        case: "idle c=19000",
        check: |r| {
            upto(
                r.median(|x| x.rss_bytes_per_conn),
                4000.0,
                "bytes/connection",
            )
        },
    },
    Target {
        what: "connect: ≤ 20 µs server CPU per connection",
        case: "connect k=50",
        check: |r| upto(r.median(|x| x.server_cpu_us_per_op), 20.0, "µs/connection"),
    },
    Target {
        what:
            "cluster-fanout 2 × 500: a remote delivery costs ≤ 1.15× a local one (CPU), zero loss",
        case: "cluster-fanout n=500+500 b=10",
        check: |r| {
            let v = r.median(|x| x.cluster.as_ref().and_then(|c| c.remote_over_local));
            with_loss(r, upto(v, 1.15, "× (remote / local µs per delivery)"))
        },
    },
];

fn upto(v: Option<f64>, limit: f64, unit: &str) -> (String, bool) {
    match v {
        Some(v) => (format!("{} {unit}", num(v)), v <= limit),
        None => ("no data".to_string(), false),
    }
}

fn with_loss(r: &Runs, (text, ok): (String, bool)) -> (String, bool) {
    let lost: u64 = r.0.iter().filter_map(|x| x.lost).sum();
    let expected: u64 = r.0.iter().filter_map(|x| x.expected).sum();
    (
        format!("{text}, {lost} lost of {expected}"),
        ok && lost == 0 && expected > 0,
    )
}

/// The runs of one case against one server.
pub struct Runs(pub Vec<Report>);

impl Runs {
    fn values(&self, f: impl Fn(&Report) -> Option<f64>) -> Vec<f64> {
        self.0
            .iter()
            .filter_map(f)
            .filter(|v| v.is_finite())
            .collect()
    }

    /// The median of `f` over the runs that have it.
    pub fn median(&self, f: impl Fn(&Report) -> Option<f64>) -> Option<f64> {
        let mut v = self.values(f);
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        Some(if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        })
    }

    fn latency(&self, f: impl Fn(&crate::stats::Latency) -> u64) -> Option<f64> {
        self.median(|x| x.latency_us.as_ref().map(|l| f(l) as f64))
    }
}

/// A number with a sensible number of digits.
fn num(v: f64) -> String {
    let a = v.abs();
    if a >= 1000.0 {
        let s = format!("{v:.0}");
        // Thousands separators.
        let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |d| ("-", d));
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        format!("{sign}{out}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn cell(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), num)
}

/// A whole number (thousands separated from 1000 on).
fn count(v: Option<f64>) -> String {
    match v {
        Some(v) if v.abs() >= 1000.0 => num(v),
        Some(v) => format!("{v:.0}"),
        None => "–".to_string(),
    }
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), |us| format!("{} ms", num(us / 1000.0)))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "–".to_string(),
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

/// Case → server → runs.
pub type Table = BTreeMap<String, BTreeMap<String, Runs>>;

fn load(dir: &Path) -> io::Result<(Table, Vec<String>)> {
    let mut files = Vec::new();
    collect(dir, &mut files)?;
    files.sort();
    let mut table: Table = BTreeMap::new();
    let mut order = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f)?;
        let report: Report = match serde_json::from_str(&text) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("skipping {}: {e}", f.display());
                continue;
            }
        };
        if !order.contains(&report.case) {
            order.push(report.case.clone());
        }
        table
            .entry(report.case.clone())
            .or_default()
            .entry(report.label.clone())
            .or_insert_with(|| Runs(Vec::new()))
            .0
            .push(report);
    }
    // Scenario order of the issue, then parameters.
    let rank = |case: &str| {
        [
            "echo",
            "fanout ",
            "fanout-latency",
            "connect",
            "idle",
            "polling",
            "reconnect-storm",
            "recovery",
            "cluster-fanout",
        ]
        .iter()
        .position(|p| case.starts_with(p))
        .unwrap_or(9)
    };
    order.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then_with(|| natural(a).cmp(&natural(b)))
    });
    Ok((table, order))
}

/// Sorts "n=1000" before "n=10000".
fn natural(s: &str) -> Vec<(String, u64)> {
    s.split(' ')
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), v.parse().unwrap_or(0)),
            None => (w.to_string(), 0),
        })
        .collect()
}

fn servers(by_server: &BTreeMap<String, Runs>) -> Vec<&String> {
    let mut names: Vec<&String> = by_server.keys().collect();
    names.sort_by_key(|n| ORDER.iter().position(|o| o == n).unwrap_or(ORDER.len()));
    names
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')))
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cpus = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map(|kib| format!("{:.0} GiB", kib as f64 / 1048576.0))
        .unwrap_or_default();
    format!("{model}, {cpus} CPUs, {mem} RAM, Linux {}", kernel.trim())
}

/// A UTC date from seconds since the epoch. (`roomcast_core::UtcTime`
/// does the same; the generator depends on no roomcast crate, so that it
/// measures any Socket.IO server alike.)
fn date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// Writes the markdown report.
pub fn write(args: &ReportArgs) -> io::Result<()> {
    let (table, order) = load(&args.dir)?;
    if table.is_empty() {
        return Err(io::Error::other(format!(
            "no JSON results in {}",
            args.dir.display()
        )));
    }
    let all: Vec<&Report> = table
        .values()
        .flat_map(|s| s.values())
        .flat_map(|r| r.0.iter())
        .collect();
    let (first, last) = all.iter().fold((u64::MAX, 0), |(a, b), r| {
        (a.min(r.unix_time), b.max(r.unix_time))
    });
    let runs = all
        .iter()
        .map(|r| r.case.clone() + &r.label)
        .fold(BTreeMap::new(), |mut m, k| {
            *m.entry(k).or_insert(0usize) += 1;
            m
        });
    let max_runs = runs.values().copied().max().unwrap_or(0);
    let max_other = all
        .iter()
        .filter_map(|r| r.other_cpu_pct)
        .fold(0.0f64, f64::max);
    let max_load = all.iter().map(|r| r.load1_start).fold(0.0f64, f64::max);

    let mut md = String::new();
    let w = &mut md;
    let _ = writeln!(w, "# Benchmarks\n");
    let _ = writeln!(
        w,
        "Generated by `roomcast-bench report` from the JSON results of a run of \
         `scripts/bench.sh`; every figure below comes from that run. Do not edit by hand: rerun \
         the script.\n"
    );
    let _ = writeln!(w, "- **Date**: {} to {}", date(first), date(last));
    let _ = writeln!(w, "- **Machine**: {}", machine());
    let _ = writeln!(w, "- **Reproduce**: `{}`", args.command);
    let _ = writeln!(
        w,
        "- **Method**: each server pinned to CPU 0, the generator (`roomcast-bench`, one thread) \
         to CPU 1, with `taskset`; a fresh server process per scenario run. Server CPU is utime + \
         stime of the whole server process (`/proc/PID/stat`) over the measured window, divided \
         by the operations completed in it; *of which kernel* is the stime part (on loopback the \
         sender's write also runs the receiving socket's TCP input and wake-up). *Generator CPU* near 100 % means the generator, not \
         the server, was the limit. *Other CPU* is the machine's busy time outside both \
         processes (`/proc/stat`): anything above a few % means something else was running."
    );
    let _ = writeln!(
        w,
        "- **Runs**: up to {max_runs} per case; each figure is the median over the runs (each \
         metric separately), with every run's server-CPU figure listed."
    );
    let _ = writeln!(
        w,
        "- **Quiet?** highest 1-minute load average at a window's start: {max_load:.2} (it \
         includes the benchmark's own two processes); highest other-CPU share in a window: \
         {max_other:.0} % of a core."
    );
    if !args.machine_note.is_empty() {
        let _ = writeln!(w, "- **Note**: {}", args.machine_note);
    }
    let _ = writeln!(w);

    let _ = writeln!(w, "## Targets (roomcast, one worker thread on one core)\n");
    let _ = writeln!(w, "| target | measured (median) | |");
    let _ = writeln!(w, "|---|---|---|");
    for t in &TARGETS {
        let (text, ok) = match table.get(t.case).and_then(|s| s.get(SUBJECT)) {
            Some(runs) => (t.check)(runs),
            None => ("not run".to_string(), false),
        };
        let verdict = if ok { "**met**" } else { "**missed**" };
        let _ = writeln!(w, "| {} | {} | {} |", t.what, text, verdict);
    }
    for t in &crate::ratios::TARGETS {
        let (text, ok) = (t.check)(&table).unwrap_or_else(|| ("not run".to_string(), false));
        let verdict = if ok { "**met**" } else { "**missed**" };
        let _ = writeln!(w, "| {} | {} | {} |", t.what, text, verdict);
    }
    let _ = writeln!(w);

    let _ = writeln!(w, "## Results\n");
    for case in &order {
        let by_server = &table[case];
        let any = by_server.values().next().and_then(|r| r.0.first());
        let Some(any) = any else { continue };
        let unit = singular(&any.unit);
        let _ = writeln!(w, "### {case}\n");
        let _ = writeln!(w, "{}\n", describe(any));
        let is_idle = any.scenario == "idle";
        let has_loss = any.expected.is_some();
        let mut head = format!(
            "| server | {}/s | p50 | p99 | p99.9 | server CPU µs/{unit} | of which kernel | server CPU % | generator CPU % | other CPU % | load (1 min) |",
            any.unit
        );
        let mut rule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|".to_string();
        if has_loss {
            head += " lost / expected |";
            rule += "---:|";
        }
        if is_idle {
            head += " RSS empty | RSS loaded | bytes/connection |";
            rule += "---:|---:|---:|";
        }
        head += " runs: server CPU µs/op |";
        rule += "---|";
        let _ = writeln!(w, "{head}\n{rule}");
        for name in servers(by_server) {
            let r = &by_server[name];
            let mut row = format!(
                "| {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(r.median(|x| Some(x.ops_per_s))),
                ms(r.latency(|l| l.p50)),
                ms(r.latency(|l| l.p99)),
                ms(r.latency(|l| l.p999)),
                cell(r.median(|x| x.server_cpu_us_per_op)),
                cell(r.median(|x| x.server_sys_us_per_op)),
                cell(r.median(|x| x.server_cpu_pct)),
                cell(r.median(|x| x.gen_cpu_pct)),
                cell(r.median(|x| x.other_cpu_pct)),
                cell(r.median(|x| Some(x.load1_start))),
            );
            if has_loss {
                let lost: u64 = r.0.iter().filter_map(|x| x.lost).sum();
                let expected: u64 = r.0.iter().filter_map(|x| x.expected).sum();
                let _ = write!(row, " {lost} / {expected} |");
            }
            if is_idle {
                let kib =
                    |v: Option<f64>| v.map_or("–".into(), |k| format!("{} MiB", num(k / 1024.0)));
                let _ = write!(
                    row,
                    " {} | {} | {} |",
                    kib(r.median(|x| x.rss_kib_empty.map(|v| v as f64))),
                    kib(r.median(|x| x.rss_kib_loaded.map(|v| v as f64))),
                    cell(r.median(|x| x.rss_bytes_per_conn)),
                );
            }
            let each: Vec<String> = r
                .values(|x| x.server_cpu_us_per_op)
                .into_iter()
                .map(num)
                .collect();
            let _ = write!(row, " {} |", each.join(", "));
            let _ = writeln!(w, "{row}");
        }
        let subject = by_server.get(SUBJECT);
        let mut ratios = Vec::new();
        for other in PEERS {
            if let (Some(s), Some(o)) = (subject, by_server.get(other)) {
                let metric = if is_idle {
                    format!(
                        "bytes/connection ×{}",
                        ratio(
                            s.median(|x| x.rss_bytes_per_conn),
                            o.median(|x| x.rss_bytes_per_conn)
                        )
                    )
                } else {
                    format!(
                        "throughput ×{}, server CPU per {unit} ×{}, p99 ×{}",
                        ratio(
                            s.median(|x| Some(x.ops_per_s)),
                            o.median(|x| Some(x.ops_per_s))
                        ),
                        ratio(
                            s.median(|x| x.server_cpu_us_per_op),
                            o.median(|x| x.server_cpu_us_per_op)
                        ),
                        ratio(s.latency(|l| l.p99), o.latency(|l| l.p99)),
                    )
                };
                ratios.push(format!("roomcast/{other}: {metric}"));
            }
        }
        if !ratios.is_empty() {
            let _ = writeln!(w, "\n{}.", ratios.join("; "));
        }
        if any.cluster.is_some() {
            write_nodes(w, by_server);
        }
        if any.scenario == "reconnect-storm" {
            write_storm(w, by_server);
        }
        if any.scenario == "polling" {
            write_requests(w, by_server);
        }
        if any.scenario == "recovery" {
            write_recovery(w, by_server);
        }
        let _ = writeln!(w);
    }

    scale::write_scale(w, &table);

    if let Some(path) = &args.analysis {
        let text = std::fs::read_to_string(path)?;
        let _ = writeln!(w, "{}", text.trim_end());
    }
    std::fs::write(&args.out, md)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_is_written_in_utc_to_the_minute() {
        assert_eq!(date(0), "1970-01-01 00:00 UTC");
        assert_eq!(date(1_796_614_412), "2026-12-07 03:33 UTC");
    }
}
