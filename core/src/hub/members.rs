//! The members of one room, as the room index keeps them.
//!
//! Most rooms have one member: every client is alone in the room of its
//! own id. So one member is kept inline, and a map is made only when a
//! second one joins (a map of one costs an allocation of about 150 bytes
//! per client). Which form a room has changes nothing a caller sees: the
//! members, their count and their iteration are the same.

use std::collections::HashMap;
use std::sync::Arc;

use crate::{ClientId, Outbox};

/// The members of one room and their queues. See the [module docs](self).
#[derive(Debug, Default)]
pub(super) enum Members {
    /// No member (the room is about to be removed from the index).
    #[default]
    Empty,
    /// One member, inline.
    One(ClientId, Arc<Outbox>),
    /// Two members or more (or fewer, after leaves: a room does not go
    /// back to `One`, so a room whose membership swings around two
    /// allocates once).
    Many(HashMap<ClientId, Arc<Outbox>>),
}

impl Members {
    pub(super) fn is_empty(&self) -> bool {
        match self {
            Members::Empty => true,
            Members::One(..) => false,
            Members::Many(map) => map.is_empty(),
        }
    }

    /// Adds (or replaces) a member.
    pub(super) fn insert(&mut self, id: ClientId, outbox: Arc<Outbox>) {
        match self {
            Members::Empty => *self = Members::One(id, outbox),
            Members::One(one, queue) if *one == id => *queue = outbox,
            Members::One(..) => {
                let Members::One(one, queue) = std::mem::take(self) else {
                    return;
                };
                *self = Members::Many(HashMap::from([(one, queue), (id, outbox)]));
            }
            Members::Many(map) => {
                map.insert(id, outbox);
            }
        }
    }

    /// Removes a member (nothing when it is not one).
    pub(super) fn remove(&mut self, id: &ClientId) {
        match self {
            Members::One(one, _) if one == id => *self = Members::Empty,
            Members::Many(map) => {
                map.remove(id);
            }
            _ => {}
        }
    }

    /// Every member with its queue, in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&ClientId, &Arc<Outbox>)> {
        let (one, many) = match self {
            Members::Empty => (None, None),
            Members::One(id, outbox) => (Some((id, outbox)), None),
            Members::Many(map) => (None, Some(map.iter())),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }

    /// Every member's id.
    pub(super) fn keys(&self) -> impl Iterator<Item = &ClientId> {
        self.iter().map(|(id, _)| id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OutboxConfig;

    fn queue() -> Arc<Outbox> {
        Arc::new(Outbox::new(OutboxConfig::default()))
    }

    fn ids(m: &Members) -> Vec<ClientId> {
        let mut ids: Vec<ClientId> = m.keys().copied().collect();
        ids.sort();
        ids
    }

    #[test]
    fn one_then_many_then_empty() {
        let (a, b) = (ClientId::random(), ClientId::random());
        let mut m = Members::default();
        assert!(m.is_empty());
        m.insert(a, queue());
        assert!(matches!(m, Members::One(..)));
        m.insert(a, queue());
        assert_eq!(ids(&m), vec![a]);
        m.insert(b, queue());
        assert!(matches!(m, Members::Many(..)));
        let mut both = vec![a, b];
        both.sort();
        assert_eq!(ids(&m), both);
        m.remove(&a);
        assert_eq!(ids(&m), vec![b]);
        assert!(!m.is_empty());
        m.remove(&a);
        m.remove(&b);
        assert!(m.is_empty());
        assert_eq!(m.iter().count(), 0);
    }

    #[test]
    fn removing_a_stranger_from_one_keeps_it() {
        let (a, b) = (ClientId::random(), ClientId::random());
        let mut m = Members::default();
        m.insert(a, queue());
        m.remove(&b);
        assert_eq!(ids(&m), vec![a]);
    }
}
