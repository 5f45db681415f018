//! The session table: the open sessions, the closed polling sessions kept
//! for one last GET, and a count of the WebSockets still writing.
//!
//! Generic over the session type so that the session can hold a weak
//! reference to its table without the two modules depending on each other.
//! Every removal (and the end of every counted WebSocket) wakes
//! [`Sessions::wait_idle`], which is how shutdown waits for the last
//! session to go.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use dashmap::DashMap;
use roomcast_core::{ClientId, IdHasher};
use tokio::sync::Notify;

/// The engine's sessions. See the [module docs](self).
#[derive(Debug)]
pub(crate) struct Sessions<T> {
    open: DashMap<ClientId, Arc<T>, IdHasher>,
    /// Polling sessions closed by the server, out of `open`, until one more
    /// GET fetches their close packet (at most the linger time).
    closing: DashMap<ClientId, Arc<T>, IdHasher>,
    /// WebSocket connections still carrying frames (one whose session has
    /// closed may still be flushing).
    transports: AtomicUsize,
    /// Woken on every removal and at the end of every counted transport.
    changed: Notify,
}

impl<T: Send + Sync + 'static> Sessions<T> {
    pub(crate) fn new() -> Self {
        Sessions {
            open: DashMap::default(),
            closing: DashMap::default(),
            transports: AtomicUsize::new(0),
            changed: Notify::new(),
        }
    }

    /// Registers an open session.
    pub(crate) fn insert(&self, id: ClientId, session: Arc<T>) {
        self.open.insert(id, session);
    }

    /// An open session.
    pub(crate) fn get(&self, id: ClientId) -> Option<Arc<T>> {
        self.open.get(&id).map(|s| s.value().clone())
    }

    /// A closed session kept for its last GET.
    pub(crate) fn get_closing(&self, id: ClientId) -> Option<Arc<T>> {
        self.closing.get(&id).map(|s| s.value().clone())
    }

    /// The number of open sessions.
    pub(crate) fn len(&self) -> usize {
        self.open.len()
    }

    /// Every open session.
    pub(crate) fn all(&self) -> Vec<Arc<T>> {
        self.open.iter().map(|s| s.value().clone()).collect()
    }

    /// A session closed: it leaves the open table.
    pub(crate) fn remove(&self, id: ClientId) {
        self.open.remove(&id);
        self.changed.notify_waiters();
    }

    /// Keeps a closed session reachable with [`Sessions::get_closing`] for
    /// `linger` (or until [`Sessions::forget`]). Call it before
    /// [`Sessions::remove`], so that a request finds the session in one
    /// table or the other. Needs a Tokio runtime; without one, nothing is
    /// kept.
    pub(crate) fn linger(self: &Arc<Self>, id: ClientId, session: Arc<T>, linger: Duration) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        self.closing.insert(id, session);
        let table: Weak<Self> = Arc::downgrade(self);
        runtime.spawn(async move {
            tokio::time::sleep(linger).await;
            if let Some(table) = table.upgrade() {
                table.forget(id);
            }
        });
    }

    /// A closed session needs no more requests.
    pub(crate) fn forget(&self, id: ClientId) {
        if self.closing.remove(&id).is_some() {
            self.changed.notify_waiters();
        }
    }

    /// Counts a WebSocket connection until the guard drops.
    pub(crate) fn transport(self: &Arc<Self>) -> ActiveTransport<T> {
        self.transports.fetch_add(1, Ordering::AcqRel);
        ActiveTransport(self.clone())
    }

    /// No open session, no closed one awaiting its GET, no WebSocket
    /// writing.
    pub(crate) fn is_idle(&self) -> bool {
        self.open.is_empty()
            && self.closing.is_empty()
            && self.transports.load(Ordering::Acquire) == 0
    }

    /// Waits until [`Sessions::is_idle`], at most until `deadline`.
    pub(crate) async fn wait_idle(&self, deadline: tokio::time::Instant) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.is_idle() {
                return;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return;
            }
        }
    }

    /// Drops every session from both tables.
    pub(crate) fn clear(&self) {
        self.open.clear();
        self.closing.clear();
    }
}

/// A WebSocket counted by [`Sessions::transport`] while it lives: shutdown
/// waits for the last frames of every connection (each has `ping_timeout`
/// to take them; a peer that does not read them in time is dropped, so a
/// stalled client holds no task, socket or buffer past its session).
pub(crate) struct ActiveTransport<T: Send + Sync + 'static>(Arc<Sessions<T>>);

impl<T: Send + Sync + 'static> Drop for ActiveTransport<T> {
    fn drop(&mut self) {
        self.0.transports.fetch_sub(1, Ordering::AcqRel);
        self.0.changed.notify_waiters();
    }
}
