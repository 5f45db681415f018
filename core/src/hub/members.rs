//! The members of one room, as the room index keeps them.
//!
//! Most rooms have one member: every client is alone in the room of its
//! own id. So one member is kept inline, and a map is made only when a
//! second one joins (a map of one costs an allocation of about 150 bytes
//! per client). Which form a room has changes nothing a caller sees: the
//! members, their count and their iteration are the same.

use std::collections::HashMap;
use std::sync::Arc;

use crate::{ClientId, IdHasher, Outbox};

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
    Many(HashMap<ClientId, Arc<Outbox>, IdHasher>),
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
                let mut map = HashMap::with_capacity_and_hasher(2, IdHasher::default());
                map.insert(one, queue);
                map.insert(id, outbox);
                *self = Members::Many(map);
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
    pub(super) fn iter(&self) -> Iter<'_> {
        match self {
            Members::Empty => Iter::One(None),
            Members::One(id, outbox) => Iter::One(Some((id, outbox))),
            Members::Many(map) => Iter::Many(map.iter()),
        }
    }

    /// Every member's id.
    pub(super) fn keys(&self) -> impl Iterator<Item = &ClientId> {
        self.iter().map(|(id, _)| id)
    }
}

/// The iterator of [`Members::iter`]: a broadcast runs it once per
/// recipient, so it is the map's own iterator behind one match, not a
/// chain of adapters.
pub(super) enum Iter<'a> {
    One(Option<(&'a ClientId, &'a Arc<Outbox>)>),
    Many(std::collections::hash_map::Iter<'a, ClientId, Arc<Outbox>>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a ClientId, &'a Arc<Outbox>);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::One(one) => one.take(),
            Iter::Many(many) => many.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Iter::One(one) => (one.iter().len(), Some(one.iter().len())),
            Iter::Many(many) => many.size_hint(),
        }
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
