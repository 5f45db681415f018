//! `server_stats`, sent to the admin namespace at once and then every
//! `stats_interval`; in development mode the same tick reports, as
//! `socket_updated`, the sockets whose transport (an upgrade) or data
//! changed since the last tick.
//!
//! The stats are this server's: Engine.IO sessions (`clientsCount`),
//! those of them on polling (`pollingClientsCount`, counted over the
//! sessions that joined a namespace), and sockets per namespace. Each node
//! of a cluster sends its own; the UI shows one row per `serverId`.
//! Namespaces are listed by name (Node: by creation). `uptime` is the
//! seconds since `instrument` (Node: since the process
//! started). `aggregatedEvents`: see [`events`](super::events).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use roomcast_core::ClientId;
use serde_json::{json, Value};

use super::events::EventBuffer;
use super::{serialize, AdminMode, AdminOptions};
use crate::{Namespace, Server};

/// The machine's name (Linux), else `localhost`.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_string())
}

/// What the UI last saw of a local socket.
struct Seen {
    transport: &'static str,
    data: Value,
}

pub(super) fn spawn(
    io: &Server,
    admin: Namespace,
    events: Arc<EventBuffer>,
    options: &AdminOptions,
) {
    let host = hostname();
    let server_id = options.server_id.clone().unwrap_or_else(|| host.clone());
    let pid = std::process::id();
    let every = options.stats_interval;
    let development = options.mode == AdminMode::Development;
    let io = io.downgrade();
    let started = Instant::now();
    tokio::spawn(async move {
        let mut seen: HashMap<ClientId, Seen> = HashMap::new();
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let Some(io) = io.upgrade() else { return };
            let mut namespaces = io.registry().all();
            namespaces.sort_by(|a, b| a.name().cmp(b.name()));
            let mut polling = HashSet::new();
            let mut details = Vec::with_capacity(namespaces.len());
            for ns in &namespaces {
                details.push(json!({ "name": ns.name(), "socketsCount": ns.len() }));
                for socket in ns.sockets().into_iter().filter_map(|id| ns.socket(id)) {
                    if socket.transport().as_str() == "polling" {
                        polling.insert(socket.conn().id());
                    }
                }
            }
            let stats = json!({
                "serverId": server_id,
                "hostname": host,
                "pid": pid,
                "uptime": started.elapsed().as_secs_f64(),
                "clientsCount": io.engine().session_count(),
                "pollingClientsCount": polling.len(),
                "aggregatedEvents": events.take(),
                "namespaces": details,
            });
            admin.emit("server_stats", &stats).ok();
            if development {
                report_updates(&admin, &namespaces, &mut seen);
            }
        }
    });
}

/// `socket_updated` for each socket whose transport or data changed.
fn report_updates(admin: &Namespace, namespaces: &[Namespace], seen: &mut HashMap<ClientId, Seen>) {
    let mut live = HashSet::new();
    for ns in namespaces {
        for socket in ns.sockets().into_iter().filter_map(|id| ns.socket(id)) {
            live.insert(socket.id());
            let transport = socket.transport().as_str();
            let data = socket.data_json();
            // First seen: compared with the transport it opened on, so an
            // upgrade before the first tick is reported too.
            let last = seen.entry(socket.id()).or_insert_with(|| Seen {
                transport: socket.handshake().transport(),
                data: data.clone(),
            });
            let mut update = serde_json::Map::new();
            if last.transport != transport {
                update.insert("transport".into(), transport.into());
                last.transport = transport;
            }
            if last.data != data {
                update.insert("data".into(), serialize::data(&data));
                last.data = data;
            }
            if !update.is_empty() {
                update.insert("id".into(), socket.id().as_str().into());
                update.insert("nsp".into(), ns.name().into());
                admin.emit("socket_updated", &Value::Object(update)).ok();
            }
        }
    }
    seen.retain(|id, _| live.contains(id));
}
