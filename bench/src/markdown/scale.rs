//! How the per-connection figures move with the number of connections:
//! one table over every size that has an `idle` case (memory, set-up CPU)
//! or a `fanout` case with batches of one (`fanout -n N -b 1`: CPU per
//! delivery, p99, loss), one row per size and server. Sizes come from the
//! results (`IDLE_CLIENTS`, `FANOUT_CLIENTS` of `scripts/bench.sh`); the
//! section is left out with fewer than two sizes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{cell, count, ms, servers, Runs, Table};
use crate::report::Report;

/// The cases of one size, by server.
#[derive(Default)]
struct Size<'a> {
    idle: Option<&'a BTreeMap<String, Runs>>,
    fanout: Option<&'a BTreeMap<String, Runs>>,
}

fn param(r: &Report, key: &str) -> Option<u64> {
    r.params.get(key).and_then(serde_json::Value::as_u64)
}

/// The sizes found in `table`, smallest first.
fn sizes(table: &Table) -> BTreeMap<u64, Size<'_>> {
    let mut sizes: BTreeMap<u64, Size<'_>> = BTreeMap::new();
    for by_server in table.values() {
        let Some(any) = by_server.values().next().and_then(|r| r.0.first()) else {
            continue;
        };
        match any.scenario.as_str() {
            "idle" => {
                if let Some(n) = param(any, "connections") {
                    sizes.entry(n).or_default().idle = Some(by_server);
                }
            }
            "fanout" if param(any, "batch") == Some(1) => {
                if let Some(n) = param(any, "subscribers") {
                    sizes.entry(n).or_default().fanout = Some(by_server);
                }
            }
            _ => {}
        }
    }
    sizes
}

/// Writes the section (nothing with fewer than two sizes).
pub(super) fn write_scale(w: &mut String, table: &Table) {
    let sizes = sizes(table);
    if sizes.len() < 2 {
        return;
    }
    let _ = writeln!(w, "## Scale\n");
    let _ = writeln!(
        w,
        "Per connection, by the number of connections: memory and set-up CPU from `idle` at \
         that size, CPU per delivery, p99 and loss from `fanout` to that many subscribers with \
         batches of one event (`fanout -n N -b 1`). Medians over the runs, as above.\n"
    );
    let _ = writeln!(
        w,
        "| connections | server | bytes/connection (idle) | set-up CPU µs/connection | fanout ×1 CPU µs/delivery | of which kernel | fanout ×1 p99 | lost / expected |"
    );
    let _ = writeln!(w, "|---:|---|---:|---:|---:|---:|---:|---:|");
    for (n, size) in &sizes {
        let mut names: Vec<&String> = Vec::new();
        for by_server in [size.idle, size.fanout].into_iter().flatten() {
            for name in servers(by_server) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        for name in names {
            let idle = size.idle.and_then(|s| s.get(name));
            let fanout = size.fanout.and_then(|s| s.get(name));
            let loss = fanout.map_or_else(
                || "–".to_string(),
                |r| {
                    let lost: u64 = r.0.iter().filter_map(|x| x.lost).sum();
                    let expected: u64 = r.0.iter().filter_map(|x| x.expected).sum();
                    format!("{lost} / {expected}")
                },
            );
            let _ = writeln!(
                w,
                "| {} | {name} | {} | {} | {} | {} | {} | {loss} |",
                count(Some(*n as f64)),
                cell(idle.and_then(|r| r.median(|x| x.rss_bytes_per_conn))),
                cell(idle.and_then(|r| r.median(|x| x.server_cpu_us_per_op))),
                cell(fanout.and_then(|r| r.median(|x| x.server_cpu_us_per_op))),
                cell(fanout.and_then(|r| r.median(|x| x.server_sys_us_per_op))),
                ms(fanout.and_then(|r| r.latency(|l| l.p99))),
            );
        }
    }
    let _ = writeln!(w);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(scenario: &str, case: &str, label: &str, params: serde_json::Value) -> Report {
        Report {
            scenario: scenario.into(),
            case: case.into(),
            label: label.into(),
            params,
            server_cpu_us_per_op: Some(2.0),
            rss_bytes_per_conn: Some(3000.0),
            lost: Some(0),
            expected: Some(100),
            ..Report::default()
        }
    }

    fn add(table: &mut Table, r: Report) {
        table
            .entry(r.case.clone())
            .or_default()
            .entry(r.label.clone())
            .or_insert_with(|| Runs(Vec::new()))
            .0
            .push(r);
    }

    #[test]
    fn one_row_per_size_and_server_from_idle_and_single_event_fanout() {
        let mut table = Table::new();
        for n in [1000u64, 10000] {
            for label in ["roomcast", "ceiling"] {
                let idle = json!({ "connections": n });
                add(
                    &mut table,
                    report("idle", &format!("idle c={n}"), label, idle),
                );
                let fanout = json!({ "subscribers": n, "batch": 1 });
                add(
                    &mut table,
                    report("fanout", &format!("fanout n={n} b=1"), label, fanout),
                );
            }
        }
        // A batch of two is another case: not in the table.
        let other = json!({ "subscribers": 5000, "batch": 2 });
        add(
            &mut table,
            report("fanout", "fanout n=5000 b=2", "roomcast", other),
        );
        let mut w = String::new();
        write_scale(&mut w, &table);
        let rows: Vec<&str> = w.lines().filter(|l| l.starts_with("| 1")).collect();
        assert_eq!(rows.len(), 4, "{w}");
        assert!(
            rows[0].starts_with("| 1,000 | roomcast | 3,000 | 2.00 | 2.00 |"),
            "{w}"
        );
        assert!(rows[3].starts_with("| 10,000 | ceiling |"), "{w}");
        assert!(!w.contains("5,000"), "{w}");
    }

    #[test]
    fn no_section_with_one_size() {
        let mut table = Table::new();
        add(
            &mut table,
            report(
                "idle",
                "idle c=10000",
                "roomcast",
                json!({ "connections": 10000 }),
            ),
        );
        let mut w = String::new();
        write_scale(&mut w, &table);
        assert!(w.is_empty());
    }
}
