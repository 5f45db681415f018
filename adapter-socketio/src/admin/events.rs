//! `aggregatedEvents` of `server_stats` (the UI's connection charts):
//! counts per second of `rawConnection` and `rawDisconnection` (with the
//! reason as `subType`), taken and cleared at each stats tick.
//!
//! Connections are seen through their sockets: one opens when its first
//! socket enters a namespace, and closes when its last socket leaves.
//! Node also counts packets and bytes here, from the engine's events;
//! roomcast's engine does not report them to this module, so the UI's
//! bytes chart stays empty.

use std::collections::HashMap;

use parking_lot::Mutex;
use roomcast_core::ClientId;
use serde_json::{json, Value};

use super::clock;

/// (second in ms, type, subType, count).
type Count = (u64, &'static str, Option<&'static str>, u64);

#[derive(Default)]
pub(super) struct EventBuffer {
    counts: Mutex<Vec<Count>>,
    /// Sockets per open connection.
    connections: Mutex<HashMap<ClientId, usize>>,
}

impl EventBuffer {
    fn push(&self, kind: &'static str, sub: Option<&'static str>) {
        let second = clock::millis(std::time::SystemTime::now()) / 1000 * 1000;
        let mut counts = self.counts.lock();
        match counts
            .iter_mut()
            .find(|(t, k, s, _)| *t == second && *k == kind && *s == sub)
        {
            Some(entry) => entry.3 += 1,
            None => counts.push((second, kind, sub, 1)),
        }
    }

    /// A socket of connection `conn` entered a namespace.
    pub(super) fn socket_opened(&self, conn: ClientId) {
        let first = {
            let mut connections = self.connections.lock();
            let n = connections.entry(conn).or_insert(0);
            *n += 1;
            *n == 1
        };
        if first {
            self.push("rawConnection", None);
        }
    }

    /// A socket of connection `conn` left, for `reason`.
    pub(super) fn socket_closed(&self, conn: ClientId, reason: &'static str) {
        let last = {
            let mut connections = self.connections.lock();
            match connections.get_mut(&conn) {
                Some(n) if *n > 1 => {
                    *n -= 1;
                    false
                }
                Some(_) => {
                    connections.remove(&conn);
                    true
                }
                None => false,
            }
        };
        if last {
            self.push("rawDisconnection", Some(reason));
        }
    }

    /// Everything counted since the last call.
    pub(super) fn take(&self) -> Vec<Value> {
        std::mem::take(&mut *self.counts.lock())
            .into_iter()
            .map(|(timestamp, kind, sub, count)| match sub {
                Some(sub) => {
                    json!({ "timestamp": timestamp, "type": kind, "subType": sub, "count": count })
                }
                None => json!({ "timestamp": timestamp, "type": kind, "count": count }),
            })
            .collect()
    }
}
