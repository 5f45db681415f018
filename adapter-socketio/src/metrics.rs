//! A Prometheus scrape of a server, behind the crate feature `metrics`:
//! [`render`] writes the text exposition format (version 0.0.4).
//!
//! It holds the process's counters (`roomcast_core::metrics`: events,
//! bytes, broadcasts and deliveries, dropped messages, slow-client
//! disconnects, handshake errors by code, sessions opened, upgrades,
//! cluster messages, Redis reconnects) and gauges read from the server at
//! scrape time: sockets per namespace and transport, rooms per namespace,
//! Engine.IO sessions and those on long-polling. Rendering walks every
//! socket once; the hot path only ever pays the counters' atomic adds.
//!
//! ```no_run
//! # fn f(io: roomcast_socketio::Server) {
//! // e.g. axum: .route("/metrics", get(move || async move { roomcast_socketio::metrics::render(&io) }))
//! let text = roomcast_socketio::metrics::render(&io);
//! assert!(text.contains("roomcast_sockets"));
//! # }
//! ```

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;

use roomcast_core::metrics;

use crate::Server;

/// The content type of [`render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The scrape of `io` and of the process's counters.
pub fn render(io: &Server) -> String {
    let mut out = String::with_capacity(4096);
    let mut sockets: BTreeMap<(String, &'static str), u64> = BTreeMap::new();
    let mut rooms: BTreeMap<String, usize> = BTreeMap::new();
    let mut polling = HashSet::new();
    for ns in io.registry().all() {
        rooms.insert(ns.name().to_string(), ns.hub().room_count());
        for transport in ["polling", "websocket"] {
            sockets.insert((ns.name().to_string(), transport), 0);
        }
        for socket in ns.sockets().into_iter().filter_map(|id| ns.socket(id)) {
            let transport = socket.transport().as_str();
            *sockets
                .entry((ns.name().to_string(), transport))
                .or_default() += 1;
            if transport == "polling" {
                polling.insert(socket.conn().id());
            }
        }
    }
    header(
        &mut out,
        "roomcast_sockets",
        "Connected sockets by namespace and transport.",
        "gauge",
    );
    for ((ns, transport), n) in &sockets {
        let ns = escape(ns);
        let _ = writeln!(
            out,
            "roomcast_sockets{{namespace=\"{ns}\",transport=\"{transport}\"}} {n}"
        );
    }
    header(
        &mut out,
        "roomcast_rooms",
        "Rooms by namespace, each socket's own room included.",
        "gauge",
    );
    for (ns, n) in &rooms {
        let _ = writeln!(out, "roomcast_rooms{{namespace=\"{}\"}} {n}", escape(ns));
    }
    header(
        &mut out,
        "roomcast_engine_sessions",
        "Open Engine.IO sessions.",
        "gauge",
    );
    let _ = writeln!(
        out,
        "roomcast_engine_sessions {}",
        io.engine().session_count()
    );
    header(
        &mut out,
        "roomcast_polling_sessions",
        "Sessions on long-polling (of those in a namespace).",
        "gauge",
    );
    let _ = writeln!(out, "roomcast_polling_sessions {}", polling.len());
    let mut last = "";
    for c in metrics::counters() {
        if c.name != last {
            header(&mut out, c.name, c.help, "counter");
            last = c.name;
        }
        match &c.label {
            Some((k, v)) => {
                let _ = writeln!(out, "{}{{{k}=\"{}\"}} {}", c.name, escape(v), c.value);
            }
            None => {
                let _ = writeln!(out, "{} {}", c.name, c.value);
            }
        }
    }
    out
}
