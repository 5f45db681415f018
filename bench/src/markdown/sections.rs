//! The lines some cases add under their table: HTTP requests per event
//! (polling), the storm's recovery, recovery's deliveries, a cluster's
//! nodes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{cell, count, ms, num, servers, Runs};
use crate::report::Report;

/// Long-polling: HTTP requests per echoed event, each server's.
pub(super) fn write_requests(w: &mut String, by_server: &BTreeMap<String, Runs>) {
    let per_server: Vec<String> = servers(by_server)
        .into_iter()
        .filter_map(|name| {
            let v = by_server[name].median(|x| {
                x.params
                    .get("requests_per_event")
                    .and_then(serde_json::Value::as_f64)
            })?;
            Some(format!("{name} {v:.3}"))
        })
        .collect();
    if !per_server.is_empty() {
        let _ = writeln!(
            w,
            "\nHTTP requests (GET and POST) per echoed event: {}.",
            per_server.join(", ")
        );
    }
}

/// A reconnect storm: how long until every client was back, and what failed.
pub(super) fn write_storm(w: &mut String, by_server: &BTreeMap<String, Runs>) {
    for name in servers(by_server) {
        let r = &by_server[name];
        let p =
            |k: &'static str| move |x: &Report| x.params.get(k).and_then(serde_json::Value::as_f64);
        let _ = writeln!(
            w,
            "\n{name}: all {} clients back {} s after the first disconnect; handshake errors {}, \
             attempts refused while the server was down {}, attempts the generator could not make \
             {}; peak open descriptors: generator {}, server {} (limit {}).",
            count(r.median(p("connections"))),
            cell(r.median(p("all_back_s"))),
            count(r.median(p("handshake_errors"))),
            count(r.median(p("refused_attempts"))),
            count(r.median(p("generator_failures"))),
            count(r.median(p("peak_fds_generator"))),
            count(r.median(p("peak_fds_server"))),
            count(r.median(p("fd_limit"))),
        );
    }
}

/// Recovery under churn: delivered / expected, sessions, the store.
pub(super) fn write_recovery(w: &mut String, by_server: &BTreeMap<String, Runs>) {
    for name in servers(by_server) {
        let r = &by_server[name];
        let p =
            |k: &'static str| move |x: &Report| x.params.get(k).and_then(serde_json::Value::as_f64);
        let expected: u64 = r.0.iter().filter_map(|x| x.expected).sum();
        let received: u64 = r.0.iter().filter_map(|x| x.received).sum();
        let pct = 100.0 * received as f64 / expected.max(1) as f64;
        let kib = |k: &'static str| {
            r.median(p(k))
                .map_or("–".into(), |v| format!("{} MiB", num(v / 1024.0)))
        };
        let store = match r.median(p("stored_packets")) {
            Some(n) => format!(
                "; the store held {} packets, {} bytes",
                count(Some(n)),
                count(r.median(p("stored_bytes")))
            ),
            None => String::new(),
        };
        let _ = writeln!(
            w,
            "\n{name}: delivered {received} of {expected} ({pct:.3} %); {} reconnections \
             ({} recovered, {} fresh, {} failed), {} duplicates, {} out of order; server RSS {} \
             with every subscriber connected, {} at the end{store}.",
            count(r.median(p("reconnections"))),
            count(r.median(p("recovered"))),
            count(r.median(p("fresh"))),
            count(r.median(p("failed_reconnects"))),
            count(r.median(p("duplicates"))),
            count(r.median(p("out_of_order"))),
            kib("rss_kib_connected"),
            kib("rss_kib_end"),
        );
    }
}

/// Per node of a cluster case: the local (trigger's) and the remote node.
pub(super) fn write_nodes(w: &mut String, by_server: &BTreeMap<String, Runs>) {
    let _ = writeln!(
        w,
        "\nPer node (local = the trigger's node; CPU per delivery to that node's own subscribers):\n"
    );
    let _ = writeln!(
        w,
        "| server | node | deliveries/s | p50 | p99 | CPU µs/delivery | of which kernel | CPU % | lost |"
    );
    let _ = writeln!(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut notes = Vec::new();
    for name in servers(by_server) {
        let r = &by_server[name];
        for (i, role) in ["local", "remote"].iter().enumerate() {
            let node = |x: &Report| x.cluster.as_ref().and_then(|c| c.nodes.get(i)).cloned();
            let lat = |f: fn(&crate::stats::Latency) -> u64| {
                r.median(|x| node(x)?.latency_us.map(|l| f(&l) as f64))
            };
            let lost: u64 = r.0.iter().filter_map(|x| node(x).map(|n| n.lost)).sum();
            let _ = writeln!(
                w,
                "| {name} | {role} | {} | {} | {} | {} | {} | {} | {lost} |",
                cell(r.median(|x| node(x).map(|n| n.deliveries as f64 / x.secs))),
                ms(lat(|l| l.p50)),
                ms(lat(|l| l.p99)),
                cell(r.median(|x| node(x)?.cpu_us_per_delivery)),
                cell(r.median(|x| node(x)?.sys_us_per_delivery)),
                cell(r.median(|x| node(x)?.cpu_pct)),
            );
        }
        notes.push(format!(
            "{name}: remote / local CPU per delivery ×{}, broker (redis-server) {} µs per delivery",
            cell(r.median(|x| x.cluster.as_ref()?.remote_over_local)),
            cell(r.median(|x| x.cluster.as_ref()?.broker_cpu_us_per_delivery)),
        ));
    }
    let _ = writeln!(w, "\n{}.", notes.join("; "));
}
