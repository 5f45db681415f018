//! Broadcast on this node: resolve a [`Target`] to recipients, push the
//! shared message to each, count what each queue did.
//!
//! Each recipient gets the message once, even when it is in several target
//! rooms; one room with no exception is pushed under that room's shard read
//! lock, anything else from a copied member list with no hub lock held.
//! Every broadcast ends by handing the message to the cluster (`forward`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::{Delivery, Hub};
use crate::{ClientId, Flags, IdHasher, Message, Outbox, PushError, Pushed, Target};

impl Hub {
    /// Delivers a message to every client in the target, once each, and
    /// forwards it to the other nodes unless `flags.local`.
    pub fn broadcast(&self, target: &Target, message: &Message, flags: Flags) -> Delivery {
        // One room and no exception (the common case): pushed under the
        // room's read lock, without copying its member list. Pushing takes
        // only each outbox's own lock, which never waits for the hub.
        if let [room] = target.rooms.as_slice() {
            if target.except.is_empty() {
                let mut delivery = Delivery::default();
                if let Some(members) = self.rooms.get(room) {
                    for (id, outbox) in members.iter() {
                        self.tally(&mut delivery, *id, push(outbox, message, flags));
                    }
                }
                self.forward(target, message, flags, &delivery);
                return delivery;
            }
        }
        self.broadcast_each(target, message, flags, |_, _| {})
    }

    /// [`Hub::broadcast`], calling `each` with every recipient on this node
    /// and what its queue did, before the cluster forward. The layer above
    /// uses it to register per-recipient state (acks) and for metrics.
    /// `each` runs with no lock of the hub held.
    pub fn broadcast_each(
        &self,
        target: &Target,
        message: &Message,
        flags: Flags,
        mut each: impl FnMut(ClientId, Result<Pushed, PushError>),
    ) -> Delivery {
        let mut delivery = Delivery::default();
        for (id, outbox) in self.resolve(target) {
            let pushed = push(&outbox, message, flags);
            self.tally(&mut delivery, id, pushed);
            each(id, pushed);
        }
        self.forward(target, message, flags, &delivery);
        delivery
    }

    fn tally(&self, delivery: &mut Delivery, id: ClientId, pushed: Result<Pushed, PushError>) {
        match pushed {
            Ok(Pushed::Queued) => delivery.queued += 1,
            Ok(Pushed::Dropped) => delivery.dropped += 1,
            Err(PushError::Overflow) => {
                tracing::debug!(scope = %self.scope, client = %id, "outbound queue overflow");
                delivery.overflowed += 1
            }
            Err(PushError::Closed) => {}
        }
    }

    /// The recipients of a target on this node: each once, excepts removed.
    pub(super) fn resolve(&self, target: &Target) -> Vec<(ClientId, Arc<Outbox>)> {
        let except: HashSet<ClientId, IdHasher> = target
            .except
            .iter()
            .filter_map(|room| self.rooms.get(room))
            .flat_map(|members| members.keys().copied().collect::<Vec<_>>())
            .collect();
        let keep = |id: &ClientId| !except.contains(id);
        match target.rooms.as_slice() {
            [] => self
                .clients
                .iter()
                .filter(|e| keep(e.key()))
                .map(|e| (*e.key(), e.value().outbox.clone()))
                .collect(),
            [room] => self
                .rooms
                .get(room)
                .map(|members| {
                    members
                        .iter()
                        .filter(|(id, _)| keep(id))
                        .map(|(id, o)| (*id, o.clone()))
                        .collect()
                })
                .unwrap_or_default(),
            rooms => {
                let mut seen: HashMap<ClientId, Arc<Outbox>, IdHasher> = HashMap::default();
                for room in rooms {
                    if let Some(members) = self.rooms.get(room) {
                        for (id, o) in members.iter() {
                            if keep(id) {
                                seen.entry(*id).or_insert_with(|| o.clone());
                            }
                        }
                    }
                }
                seen.into_iter().collect()
            }
        }
    }
}

/// Pushes reliably or as volatile, as `flags` say.
fn push(outbox: &Outbox, message: &Message, flags: Flags) -> Result<Pushed, PushError> {
    if flags.volatile {
        outbox.push_volatile(message)
    } else {
        outbox.push(message)
    }
}
