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
//! - Catch-all listeners ([`CatchAlls`]) are such a list, of incoming or of
//!   outgoing events; the namespace counts its sockets that have outgoing
//!   ones (its broadcasts look up their recipients on this node only then).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;
use serde_json::Value;
use smol_str::SmolStr;

use super::Socket;
use crate::Namespace;

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
///
/// The name is a [`SmolStr`]: a name of up to 23 bytes (nearly all of
/// them) is held inline, so registering a listener and copying the list on
/// write allocate nothing for names, and an inline name takes 24 bytes
/// where a boxed one took 16 plus a 32-byte heap chunk.
#[derive(Clone)]
pub(super) struct Entry<F> {
    pub(super) id: ListenerId,
    pub(super) event: SmolStr,
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
        let mut copy = list.as_deref().unwrap_or(&[]).to_vec();
        change(&mut copy);
        *list = (!copy.is_empty()).then(|| Arc::from(copy));
    }

    /// Adds a listener at the end (or the start when `prepend`).
    pub(super) fn add(&self, event: &str, once: bool, prepend: bool, f: F) -> ListenerId {
        let id = ListenerId::next();
        let entry = std::iter::once(Entry {
            id,
            event: event.into(),
            once,
            f,
        });
        let mut list = self.0.write();
        let old = list.as_deref().unwrap_or(&[]).iter().cloned();
        // Exact-size iterators: the new list is allocated once, at its size.
        *list = Some(match prepend {
            true => entry.chain(old).collect(),
            false => old.chain(entry).collect(),
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

/// A catch-all listener: event name and raw arguments.
pub(super) type AnyListener = Arc<dyn Fn(&Socket, &str, &[Value]) + Send + Sync>;

/// The catch-all listeners of one direction; `COUNTED` (the outgoing ones):
/// the namespace counts the sockets whose list is not empty.
#[derive(Default)]
pub(super) struct CatchAlls<const COUNTED: bool>(Listeners<AnyListener>);

impl<const COUNTED: bool> CatchAlls<COUNTED> {
    /// Adds a listener at the end (or the start when `prepend`).
    pub(super) fn add(&self, ns: &Namespace, prepend: bool, listener: AnyListener) -> ListenerId {
        if COUNTED && self.0.is_empty() {
            ns.outgoing_listeners(1);
        }
        self.0.add("", false, prepend, listener)
    }

    /// Removes the listener `id`; whether it was here.
    pub(super) fn remove(&self, ns: &Namespace, id: ListenerId) -> bool {
        let removed = self.0.remove(id);
        if COUNTED && removed && self.0.is_empty() {
            ns.outgoing_listeners(-1);
        }
        removed
    }

    /// Removes every listener.
    pub(super) fn clear(&self, ns: &Namespace) {
        if !self.0.is_empty() {
            self.0.remove_event(None);
            if COUNTED {
                ns.outgoing_listeners(-1);
            }
        }
    }

    /// Drops every listener without telling the namespace (a disconnected
    /// socket, which the namespace no longer counts).
    pub(super) fn drop_all(&self) {
        self.0.remove_event(None);
    }

    /// The listeners, in the order they run.
    pub(super) fn ids(&self) -> Vec<ListenerId> {
        self.0.ids(None)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Calls every listener with `event` and `args`, in order.
    pub(super) fn call(&self, socket: &Socket, event: &str, args: &[Value]) {
        for l in self.0.snapshot().iter() {
            (l.f)(socket, event, args);
        }
    }
}
