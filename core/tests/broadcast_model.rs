//! Model-based properties of [`Hub`]: random sequences of connect, reconnect,
//! disconnect, join, leave, drain and broadcast are applied both to a real
//! hub and to a plain `BTreeMap`/`BTreeSet` model. After every operation the
//! room index (`rooms`, `rooms_of`, `clients_in`, counts) and the published
//! [`RoomEvent`]s must equal the model's; at the end every client has
//! received exactly the model's frames, in order, none twice, and nothing
//! after its disconnect. Some hubs limit the rooms per client: a join over
//! the limit fails with `TooManyRooms`, keeping the rooms joined before it.
//! Outboxes here never fill up; backpressure is checked in
//! `broadcast_backpressure.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use roomcast_core::{
    ClientId, Delivery, Flags, Frame, Hub, HubError, Message, Outbox, OutboxConfig, Overflow,
    Pushed, Room, RoomEvent, Target,
};
use tokio::sync::broadcast::error::TryRecvError;

const NAMED_ROOMS: u8 = 6;
const MAX_CLIENTS: usize = 20;
const BIG: OutboxConfig = OutboxConfig {
    capacity: 1 << 20,
    overflow: Overflow::Disconnect,
};

/// A client, by index into the list of clients ever connected.
#[derive(Clone, Copy)]
struct C(usize);

impl fmt::Debug for C {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", self.0)
    }
}

/// A room: one of a few names, or (rarely) the own-id room of a client.
#[derive(Clone, Copy)]
enum R {
    Named(u8),
    IdOf(usize),
}

impl fmt::Debug for R {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            R::Named(n) => write!(f, "r{n}"),
            R::IdOf(i) => write!(f, "id(c{i})"),
        }
    }
}

/// One operation. Ops naming a client that was never connected are skipped.
#[derive(Debug, Clone)]
enum Op {
    Connect,
    /// Connect again an id ever connected: `DuplicateClient` while it is
    /// connected, a new session (new outbox) once it is not.
    Reconnect(C),
    Disconnect(C),
    Join(C, R),
    JoinMany(C, Vec<R>),
    Leave(C, R),
    LeaveMany(C, Vec<R>),
    Drain(C),
    Broadcast {
        from: C,
        to: Vec<R>,
        except: Vec<R>,
        except_sender: bool,
        volatile: bool,
        parts: usize,
    },
}

fn client() -> impl Strategy<Value = C> {
    prop_oneof![4 => 0..6usize, 1 => 0..MAX_CLIENTS].prop_map(C)
}

fn room() -> impl Strategy<Value = R> {
    prop_oneof![8 => (0..NAMED_ROOMS).prop_map(R::Named), 1 => (0..6usize).prop_map(R::IdOf)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Connect),
        1 => client().prop_map(Op::Reconnect),
        1 => client().prop_map(Op::Disconnect),
        4 => (client(), room()).prop_map(|(c, r)| Op::Join(c, r)),
        2 => (client(), vec(room(), 0..4)).prop_map(|(c, rs)| Op::JoinMany(c, rs)),
        2 => (client(), room()).prop_map(|(c, r)| Op::Leave(c, r)),
        1 => (client(), vec(room(), 0..4)).prop_map(|(c, rs)| Op::LeaveMany(c, rs)),
        1 => client().prop_map(Op::Drain),
        5 => (client(), vec(room(), 0..3), vec(room(), 0..2), any::<bool>(), any::<bool>(), 1..=3usize)
            .prop_map(|(from, to, except, except_sender, volatile, parts)| Op::Broadcast {
                from, to, except, except_sender, volatile, parts
            }),
    ]
}

/// One client of the real hub and of the model.
struct Client {
    id: ClientId,
    outbox: Arc<Outbox>,
    /// Frames drained from `outbox` so far.
    received: Vec<Frame>,
    /// Outboxes of earlier sessions: they must never get anything more.
    dead: Vec<Arc<Outbox>>,
    // The model:
    connected: bool,
    rooms: BTreeSet<Room>,
    expected: Vec<Frame>,
}

struct World {
    hub: Hub,
    events: tokio::sync::broadcast::Receiver<RoomEvent>,
    clients: Vec<Client>,
    /// Model room index: only non-empty rooms.
    rooms: BTreeMap<Room, BTreeSet<ClientId>>,
    sent: usize,
    /// `Hub::with_max_rooms_per_client`; the own room counts, and is always
    /// joined on connect.
    max_rooms: usize,
}

impl World {
    fn new(max_rooms: Option<usize>) -> Self {
        let hub = match max_rooms {
            Some(max) => Hub::new("/").with_max_rooms_per_client(max),
            None => Hub::new("/"),
        };
        let events = hub.subscribe();
        World {
            hub,
            events,
            clients: Vec::new(),
            rooms: BTreeMap::new(),
            sent: 0,
            max_rooms: max_rooms.unwrap_or(usize::MAX),
        }
    }

    fn room(&self, r: R) -> Option<Room> {
        match r {
            R::Named(n) => Some(Room::from(format!("r{n}"))),
            R::IdOf(i) => self.clients.get(i).map(|c| Room::of_client(c.id)),
        }
    }

    fn rooms(&self, rs: &[R]) -> Option<Vec<Room>> {
        rs.iter().map(|r| self.room(*r)).collect()
    }

    fn model_join(&mut self, i: usize, room: Room, events: &mut Vec<RoomEvent>) {
        let id = self.clients[i].id;
        if !self.clients[i].rooms.insert(room.clone()) {
            return;
        }
        let members = self.rooms.entry(room.clone()).or_default();
        if members.is_empty() {
            events.push(RoomEvent::Created(room.clone()));
        }
        members.insert(id);
        events.push(RoomEvent::Joined(room, id));
    }

    fn model_leave(&mut self, i: usize, room: Room, events: &mut Vec<RoomEvent>) {
        let id = self.clients[i].id;
        if !self.clients[i].rooms.remove(&room) {
            return;
        }
        let members = self
            .rooms
            .get_mut(&room)
            .expect("model: member of a missing room");
        members.remove(&id);
        events.push(RoomEvent::Left(room.clone(), id));
        if members.is_empty() {
            self.rooms.remove(&room);
            events.push(RoomEvent::Deleted(room));
        }
    }

    fn model_recipients(&self, target: &Target) -> BTreeSet<ClientId> {
        let members = |rooms: &[Room]| -> BTreeSet<ClientId> {
            rooms
                .iter()
                .filter_map(|r| self.rooms.get(r))
                .flatten()
                .copied()
                .collect()
        };
        let except = members(&target.except);
        let all: BTreeSet<ClientId> = if target.rooms.is_empty() {
            self.clients
                .iter()
                .filter(|c| c.connected)
                .map(|c| c.id)
                .collect()
        } else {
            members(&target.rooms)
        };
        all.difference(&except).copied().collect()
    }

    /// Applies `op` to the hub and the model; returns the model's events, and
    /// whether their order is that of a disconnect (unspecified across rooms).
    fn apply(&mut self, op: &Op) -> Result<(Vec<RoomEvent>, bool), TestCaseError> {
        let mut events = Vec::new();
        let n = self.clients.len();
        let known = |c: &C| c.0 < n;
        match op {
            Op::Connect if n < MAX_CLIENTS => {
                let id = ClientId::random();
                let outbox = Arc::new(Outbox::new(BIG));
                prop_assert_eq!(self.hub.connect(id, outbox.clone()), Ok(()));
                self.clients.push(Client {
                    id,
                    outbox,
                    received: Vec::new(),
                    dead: Vec::new(),
                    connected: true,
                    rooms: BTreeSet::new(),
                    expected: Vec::new(),
                });
                self.model_join(n, Room::of_client(id), &mut events);
            }
            Op::Reconnect(c) if known(c) => {
                let id = self.clients[c.0].id;
                let outbox = Arc::new(Outbox::new(BIG));
                let got = self.hub.connect(id, outbox.clone());
                if self.clients[c.0].connected {
                    prop_assert_eq!(got, Err(HubError::DuplicateClient(id)));
                    prop_assert!(Arc::ptr_eq(
                        &self.hub.outbox(id).unwrap(),
                        &self.clients[c.0].outbox
                    ));
                } else {
                    prop_assert_eq!(got, Ok(()));
                    let cl = &mut self.clients[c.0];
                    cl.outbox.drain(&mut cl.received);
                    prop_assert_eq!(&cl.received, &cl.expected, "old session of {:?}", c);
                    let old = std::mem::replace(&mut cl.outbox, outbox);
                    cl.dead.push(old);
                    cl.received.clear();
                    cl.expected.clear();
                    cl.connected = true;
                    self.model_join(c.0, Room::of_client(id), &mut events);
                }
            }
            Op::Disconnect(c) if known(c) => {
                let id = self.clients[c.0].id;
                let got = self.hub.disconnect(id).map(|mut rooms| {
                    rooms.sort();
                    rooms
                });
                if self.clients[c.0].connected {
                    let rooms: Vec<Room> = self.clients[c.0].rooms.iter().cloned().collect();
                    prop_assert_eq!(got, Some(rooms.clone()));
                    for room in rooms {
                        self.model_leave(c.0, room, &mut events);
                    }
                    self.clients[c.0].connected = false;
                    return Ok((events, true));
                }
                prop_assert_eq!(got, None);
            }
            Op::Join(c, r) => self.join_or_leave(*c, &[*r], true, &mut events)?,
            Op::JoinMany(c, rs) => self.join_or_leave(*c, rs, true, &mut events)?,
            Op::Leave(c, r) => self.join_or_leave(*c, &[*r], false, &mut events)?,
            Op::LeaveMany(c, rs) => self.join_or_leave(*c, rs, false, &mut events)?,
            Op::Drain(c) if known(c) => {
                let cl = &mut self.clients[c.0];
                prop_assert_eq!(cl.outbox.drain(&mut cl.received), None);
                prop_assert_eq!(&cl.received[..], &cl.expected[..cl.received.len()]);
            }
            Op::Broadcast {
                from,
                to,
                except,
                except_sender,
                volatile,
                parts,
            } if known(from) => {
                let (Some(to), Some(except)) = (self.rooms(to), self.rooms(except)) else {
                    return Ok((events, false));
                };
                let mut target = Target::to(to).except(except);
                if *except_sender {
                    target = target.except_client(self.clients[from.0].id);
                }
                self.sent += 1;
                let k = self.sent;
                let mut frames = vec![Frame::text(format!("m{k}"))];
                frames.extend((1..*parts).map(|p| Frame::binary(vec![p as u8; k % 5])));
                let message = Message::many(frames.clone());
                let want = self.model_recipients(&target);
                let selected: BTreeSet<ClientId> = self.hub.select(&target).into_iter().collect();
                prop_assert_eq!(&selected, &want, "select({:?})", target);
                let flags = Flags {
                    volatile: *volatile,
                    local: false,
                };
                let mut seen = Vec::new();
                let delivery = self.hub.broadcast_each(&target, &message, flags, |id, r| {
                    seen.push((id, r));
                });
                let queued = want.len();
                prop_assert_eq!(
                    delivery,
                    Delivery {
                        queued,
                        ..Delivery::default()
                    }
                );
                prop_assert_eq!(seen.len(), queued, "each: {:?}", seen);
                prop_assert!(seen
                    .iter()
                    .all(|(id, r)| want.contains(id) && *r == Ok(Pushed::Queued)));
                for cl in self.clients.iter_mut().filter(|c| want.contains(&c.id)) {
                    cl.expected.extend(frames.iter().cloned());
                }
            }
            _ => {}
        }
        Ok((events, false))
    }

    fn join_or_leave(
        &mut self,
        c: C,
        rs: &[R],
        join: bool,
        events: &mut Vec<RoomEvent>,
    ) -> Result<(), TestCaseError> {
        let (Some(cl), Some(rooms)) = (self.clients.get(c.0), self.rooms(rs)) else {
            return Ok(());
        };
        let id = cl.id;
        let got = if join {
            self.hub.join(id, rooms.iter().cloned())
        } else {
            self.hub.leave(id, rooms.iter().cloned())
        };
        if !cl.connected {
            prop_assert_eq!(got, Err(HubError::UnknownClient(id)));
            return Ok(());
        }
        let mut want = Ok(());
        for room in rooms {
            if !join {
                self.model_leave(c.0, room, events);
            } else if self.clients[c.0].rooms.len() >= self.max_rooms
                && !self.clients[c.0].rooms.contains(&room)
            {
                // The rooms before the one over the limit stay joined.
                want = Err(HubError::TooManyRooms(id, self.max_rooms));
                break;
            } else {
                self.model_join(c.0, room, events);
            }
        }
        prop_assert_eq!(got, want);
        Ok(())
    }

    fn check_events(
        &mut self,
        want: Vec<RoomEvent>,
        any_room_order: bool,
    ) -> Result<(), TestCaseError> {
        let mut got = Vec::new();
        loop {
            match self.events.try_recv() {
                Ok(e) => got.push(e),
                Err(TryRecvError::Empty) => break,
                Err(e) => return Err(TestCaseError::fail(format!("events: {e}"))),
            }
        }
        if any_room_order {
            // A disconnect leaves its rooms in any order, but each room's
            // Left comes right before its Deleted.
            prop_assert_eq!(per_room(&got), per_room(&want), "events {:?}", got);
        } else {
            prop_assert_eq!(got, want);
        }
        Ok(())
    }

    /// The hub's index equals the model's.
    fn check_index(&self) -> Result<(), TestCaseError> {
        let hub = &self.hub;
        let model_rooms: Vec<Room> = self.rooms.keys().cloned().collect();
        prop_assert!(self.rooms.values().all(|m| !m.is_empty()));
        prop_assert_eq!(hub.rooms(), model_rooms.clone());
        prop_assert_eq!(hub.room_count(), model_rooms.len());
        let connected = self.clients.iter().filter(|c| c.connected).count();
        prop_assert_eq!(hub.client_count(), connected);
        let mut probe: BTreeSet<Room> = model_rooms.into_iter().collect();
        probe.extend((0..NAMED_ROOMS).map(|n| Room::from(format!("r{n}"))));
        for cl in &self.clients {
            probe.insert(Room::of_client(cl.id));
            prop_assert_eq!(hub.contains(cl.id), cl.connected);
            if cl.connected {
                let rooms: Vec<Room> = cl.rooms.iter().cloned().collect();
                prop_assert_eq!(hub.rooms_of(cl.id), Some(rooms));
                prop_assert!(Arc::ptr_eq(&hub.outbox(cl.id).unwrap(), &cl.outbox));
            } else {
                prop_assert_eq!(hub.rooms_of(cl.id), None);
                prop_assert!(hub.outbox(cl.id).is_none());
            }
            prop_assert!(
                cl.dead.iter().all(|o| o.is_empty()),
                "a dead session got frames"
            );
        }
        for room in &probe {
            let want: Vec<ClientId> = self
                .rooms
                .get(room)
                .into_iter()
                .flatten()
                .copied()
                .collect();
            prop_assert_eq!(
                hub.clients_in(room.as_str()),
                want,
                "clients_in({:?})",
                room
            );
        }
        Ok(())
    }
}

/// Events grouped per room (each group in order), groups sorted.
fn per_room(events: &[RoomEvent]) -> Vec<(String, Vec<RoomEvent>)> {
    let mut groups: BTreeMap<String, Vec<RoomEvent>> = BTreeMap::new();
    for e in events {
        let room = match e {
            RoomEvent::Created(r) | RoomEvent::Deleted(r) => r,
            RoomEvent::Joined(r, _) | RoomEvent::Left(r, _) => r,
        };
        groups.entry(room.to_string()).or_default().push(e.clone());
    }
    groups.into_iter().collect()
}

fn run_model(max_rooms: Option<usize>, initial: usize, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut w = World::new(max_rooms);
    for op in std::iter::repeat_n(&Op::Connect, initial).chain(ops) {
        let (events, any_order) = w.apply(op)?;
        w.check_events(events, any_order)?;
        w.check_index()?;
    }
    for (i, cl) in w.clients.iter_mut().enumerate() {
        prop_assert_eq!(cl.outbox.drain(&mut cl.received), None);
        prop_assert_eq!(&cl.received, &cl.expected, "frames of c{}", i);
        let texts: Vec<&Frame> = cl
            .received
            .iter()
            .filter(|f| matches!(f, Frame::Text(_)))
            .collect();
        let unique: BTreeSet<String> = texts.iter().map(|f| format!("{f:?}")).collect();
        prop_assert_eq!(unique.len(), texts.len(), "duplicate frame for c{}", i);
    }
    Ok(())
}

proptest! {
    #[test]
    fn hub_agrees_with_model(
        max_rooms in prop_oneof![2 => Just(None), 1 => (0..=4usize).prop_map(Some)],
        initial in 0..=6usize,
        ops in vec(op(), 0..60),
    ) {
        run_model(max_rooms, initial, &ops)?;
    }
}
