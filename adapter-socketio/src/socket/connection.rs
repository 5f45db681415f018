//! The sockets of one connection: at most one per namespace.
//!
//! The connection's `Client` owns the table and routes packets through
//! it; each socket holds it weakly, to leave it when it ends and to reach
//! its siblings for [`Socket::disconnect_all`]. A socket is in the table
//! from its CONNECT until it is `Disconnected` (see
//! [`lifecycle`](super::lifecycle)).
//!
//! A connection joins a few namespaces at most (most join one), so the
//! table is a short list searched by each socket's namespace name: no map
//! and no copy of the name per connection.

use parking_lot::Mutex;
use roomcast_core::{ClientId, CloseReason};

use super::Socket;

/// One connection's sockets, at most one per namespace name.
#[derive(Default)]
pub(crate) struct ConnectionSockets(Mutex<Vec<Socket>>);

impl ConnectionSockets {
    pub(crate) fn get(&self, ns: &str) -> Option<Socket> {
        self.0.lock().iter().find(|s| s.ns().name() == ns).cloned()
    }

    /// Adds a socket, replacing the one of the same namespace.
    pub(crate) fn insert(&self, socket: Socket) {
        let mut sockets = self.0.lock();
        match sockets
            .iter_mut()
            .find(|s| s.ns().name() == socket.ns().name())
        {
            Some(slot) => *slot = socket,
            None => {
                // Room for exactly one more: most connections stop at one.
                sockets.reserve_exact(1);
                sockets.push(socket);
            }
        }
    }

    /// Every socket, removed from the table.
    pub(crate) fn take_all(&self) -> Vec<Socket> {
        std::mem::take(&mut *self.0.lock())
    }

    /// A socket ended: forget it, if it is still the one for its namespace.
    pub(super) fn forget(&self, ns: &str, id: ClientId) {
        self.0
            .lock()
            .retain(|s| s.ns().name() != ns || s.id() != id);
    }

    /// Disconnects every namespace, then closes the connection.
    pub(super) fn disconnect_all(&self, conn: &roomcast_engineio::Socket) {
        let sockets: Vec<Socket> = self.0.lock().clone();
        for socket in sockets {
            socket.disconnect();
        }
        conn.close(CloseReason::Forced);
    }
}
