//! Crate-internal hook points for modules that watch the server (the
//! admin UI): a namespace was created, a socket entered its namespace.
//!
//! Semantics: observers are called synchronously, in registration order,
//! on the task that made the change — `socket_connected` after the socket
//! is in its namespace and its CONNECT was answered, before the connect
//! handler runs. They must not block. With no observer the cost is one
//! read of an empty list per namespace join.

use std::sync::Arc;

use parking_lot::RwLock;

use crate::{Namespace, Socket};

/// Something that watches namespaces and sockets.
pub(crate) trait Observer: Send + Sync + 'static {
    /// A namespace now exists (static or the child of a dynamic one).
    fn namespace_created(&self, _ns: &Namespace) {}
    /// A socket entered its namespace.
    fn socket_connected(&self, _socket: &Socket) {}
}

/// The observers of one server, shared by its namespaces.
#[derive(Default)]
pub(crate) struct Observers(RwLock<Vec<Arc<dyn Observer>>>);

impl Observers {
    #[cfg_attr(not(feature = "admin-ui"), allow(dead_code))]
    pub(crate) fn add(&self, observer: Arc<dyn Observer>) {
        self.0.write().push(observer);
    }

    fn each(&self, f: impl Fn(&dyn Observer)) {
        let observers = self.0.read().clone();
        for o in observers {
            f(&*o);
        }
    }

    pub(crate) fn namespace_created(&self, ns: &Namespace) {
        self.each(|o| o.namespace_created(ns));
    }

    pub(crate) fn socket_connected(&self, socket: &Socket) {
        if self.0.read().is_empty() {
            return;
        }
        self.each(|o| o.socket_connected(socket));
    }
}
