//! Listener lists with Node's EventEmitter semantics.
//!
//! - Several listeners may be registered; they run in registration order
//!   (a prepended one first). Each registration returns a [`ListenerId`]
//!   that removes exactly that listener, wherever it is registered.
//! - A `once` listener is removed before it runs, so it runs at most once
//!   even if two packets race.
//! - A list is copied on write and shared on read: delivering a packet
//!   clones one `Arc`, never the list, and a listener that adds or removes
//!   listeners while running does not change the pass in progress (as in
//!   Node, which iterates over a copy).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;

/// Names one registered listener (an event handler, a catch-all or a
/// packet middleware) of one socket; give it to
/// [`Socket::remove_listener`](crate::Socket::remove_listener). Node
/// removes a listener by its function; a Rust closure has no identity, so
/// registration hands out this id instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ListenerId(u64);

impl ListenerId {
    pub(super) fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        ListenerId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// One registered listener: its id, the event it listens to (unused for
/// catch-alls) and whether it runs once.
pub(super) struct Entry<F> {
    pub(super) id: ListenerId,
    pub(super) event: Box<str>,
    pub(super) once: bool,
    pub(super) f: F,
}

/// A copy-on-write list of listeners: `None` while empty (most lists of
/// most sockets stay empty, and then hold no allocation), else one
/// allocation of exactly its entries.
pub(super) struct Listeners<F>(RwLock<Option<Arc<[Entry<F>]>>>);

/// A list as it was when read ([`Listeners::snapshot`]): a slice of its
/// entries.
pub(super) struct Snapshot<F>(Option<Arc<[Entry<F>]>>);

impl<F> std::ops::Deref for Snapshot<F> {
    type Target = [Entry<F>];

    fn deref(&self) -> &[Entry<F>] {
        self.0.as_deref().unwrap_or(&[])
    }
}

impl<F> Default for Listeners<F> {
    fn default() -> Self {
        Listeners(RwLock::new(None))
    }
}

impl<F: Clone> Listeners<F> {
    fn change(&self, change: impl FnOnce(&mut Vec<Entry<F>>)) {
        let mut list = self.0.write();
        let old = list.as_deref().unwrap_or(&[]);
        let mut copy: Vec<Entry<F>> = Vec::with_capacity(old.len() + 1);
        copy.extend(old.iter().map(|e| Entry {
            id: e.id,
            event: e.event.clone(),
            once: e.once,
            f: e.f.clone(),
        }));
        change(&mut copy);
        *list = (!copy.is_empty()).then(|| Arc::from(copy));
    }

    /// Adds a listener at the end (or the start when `prepend`).
    pub(super) fn add(&self, event: &str, once: bool, prepend: bool, f: F) -> ListenerId {
        let id = ListenerId::next();
        let entry = Entry {
            id,
            event: event.into(),
            once,
            f,
        };
        self.change(|list| match prepend {
            true => list.insert(0, entry),
            false => list.push(entry),
        });
        id
    }

    /// The list as it is now.
    pub(super) fn snapshot(&self) -> Snapshot<F> {
        Snapshot(self.0.read().clone())
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.read().is_none()
    }

    /// Removes the listener `id`; whether it was here.
    pub(super) fn remove(&self, id: ListenerId) -> bool {
        let here = self
            .0
            .read()
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .any(|e| e.id == id);
        if !here {
            return false;
        }
        self.change(|list| list.retain(|e| e.id != id));
        true
    }

    /// Removes every listener of `event` (every listener when `None`).
    pub(super) fn remove_event(&self, event: Option<&str>) {
        match event {
            Some(event) => self.change(|list| list.retain(|e| &*e.event != event)),
            None => *self.0.write() = None,
        }
    }

    /// The ids of the listeners of `event` (of all when `None`), in the
    /// order they run.
    pub(super) fn ids(&self, event: Option<&str>) -> Vec<ListenerId> {
        self.0
            .read()
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .filter(|e| event.is_none_or(|ev| &*e.event == ev))
            .map(|e| e.id)
            .collect()
    }
}
