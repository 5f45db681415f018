//! The rooms one client is in, as the hub keeps them.
//!
//! Most clients are in one room only, the room of their own id: that one
//! is kept inline, and a set is made when a second room is joined (a set of
//! one costs an allocation of about 90 bytes per client). The form changes
//! nothing a caller sees.

use std::collections::HashSet;

use crate::Room;

/// One client's rooms. See the [module docs](self).
#[derive(Debug, Default)]
pub(super) enum RoomSet {
    /// In no room.
    #[default]
    Empty,
    /// In one room, inline.
    One(Room),
    /// In two rooms or more (or fewer after leaves: a set is kept once made).
    Many(HashSet<Room>),
}

impl RoomSet {
    pub(super) fn len(&self) -> usize {
        match self {
            RoomSet::Empty => 0,
            RoomSet::One(_) => 1,
            RoomSet::Many(set) => set.len(),
        }
    }

    pub(super) fn contains(&self, room: &Room) -> bool {
        match self {
            RoomSet::Empty => false,
            RoomSet::One(one) => one == room,
            RoomSet::Many(set) => set.contains(room),
        }
    }

    /// Adds a room; false when it was there already.
    pub(super) fn insert(&mut self, room: Room) -> bool {
        match self {
            RoomSet::Empty => *self = RoomSet::One(room),
            RoomSet::One(one) if *one == room => return false,
            RoomSet::One(_) => {
                let RoomSet::One(one) = std::mem::take(self) else {
                    return false;
                };
                *self = RoomSet::Many(HashSet::from([one, room]));
            }
            RoomSet::Many(set) => return set.insert(room),
        }
        true
    }

    /// Removes a room; false when it was not there.
    pub(super) fn remove(&mut self, room: &Room) -> bool {
        match self {
            RoomSet::One(one) if one == room => {
                *self = RoomSet::Empty;
                true
            }
            RoomSet::Many(set) => set.remove(room),
            _ => false,
        }
    }

    /// Every room, in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Room> {
        let (one, many) = match self {
            RoomSet::Empty => (None, None),
            RoomSet::One(room) => (Some(room), None),
            RoomSet::Many(set) => (None, Some(set.iter())),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }

    /// Every room, removed.
    pub(super) fn take_all(&mut self) -> Vec<Room> {
        match std::mem::take(self) {
            RoomSet::Empty => Vec::new(),
            RoomSet::One(room) => vec![room],
            RoomSet::Many(set) => set.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(s: &RoomSet) -> Vec<Room> {
        let ordered: std::collections::BTreeSet<&Room> = s.iter().collect();
        ordered.into_iter().cloned().collect()
    }

    #[test]
    fn behaves_as_a_set() {
        let (a, b) = (Room::from("a"), Room::from("b"));
        let mut s = RoomSet::default();
        assert_eq!((s.len(), s.contains(&a)), (0, false));
        assert!(s.insert(a.clone()));
        assert!(!s.insert(a.clone()));
        assert!(matches!(s, RoomSet::One(_)));
        assert!(s.insert(b.clone()));
        assert_eq!(sorted(&s), vec![a.clone(), b.clone()]);
        assert_eq!(s.len(), 2);
        assert!(s.remove(&a));
        assert!(!s.remove(&a));
        assert_eq!((s.len(), s.contains(&b)), (1, true));
        assert_eq!(s.take_all(), vec![b.clone()]);
        assert_eq!(s.len(), 0);
        assert!(s.insert(b.clone()));
        assert!(!s.remove(&a));
        assert!(s.remove(&b));
        assert!(s.iter().next().is_none());
    }
}
