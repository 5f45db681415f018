//! The sockets of one connection: at most one per namespace.
//!
//! The connection's [`Client`](crate::client) owns the table and routes
//! packets through it; each socket holds it weakly, to leave it when it
//! ends and to reach its siblings for [`Socket::disconnect_all`]. A socket
//! is in the table from its CONNECT until it is `Disconnected` (see
//! [`lifecycle`](super::lifecycle)).

use std::collections::HashMap;

use parking_lot::Mutex;
use roomcast_core::{ClientId, CloseReason};

use super::Socket;

/// One connection's sockets by namespace name.
#[derive(Default)]
pub(crate) struct ConnectionSockets(Mutex<HashMap<String, Socket>>);

impl ConnectionSockets {
    pub(crate) fn get(&self, ns: &str) -> Option<Socket> {
        self.0.lock().get(ns).cloned()
    }

    pub(crate) fn insert(&self, socket: Socket) {
        self.0.lock().insert(socket.ns().name().to_string(), socket);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.lock().is_empty()
    }

    /// Every socket, removed from the table.
    pub(crate) fn take_all(&self) -> Vec<Socket> {
        self.0.lock().drain().map(|(_, s)| s).collect()
    }

    /// A socket ended: forget it, if it is still the one for its namespace.
    pub(super) fn forget(&self, ns: &str, id: ClientId) {
        let mut sockets = self.0.lock();
        if sockets.get(ns).map(|s| s.id()) == Some(id) {
            sockets.remove(ns);
        }
    }

    /// Disconnects every namespace, then closes the connection.
    pub(super) fn disconnect_all(&self, conn: &roomcast_engineio::Socket) {
        let sockets: Vec<Socket> = self.0.lock().values().cloned().collect();
        for socket in sockets {
            socket.disconnect();
        }
        conn.close(CloseReason::Forced);
    }
}
