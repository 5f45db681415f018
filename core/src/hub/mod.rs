//! The hub: connected clients, their rooms, and broadcast.
//!
//! Semantics:
//! - **Membership**: a connected client is always in the room named by its
//!   own id; it joins and leaves other rooms one or many at a time, and
//!   leaves all of them on disconnect. A room exists while it has members:
//!   the last leave deletes it.
//! - **Broadcast** delivers a message to every client in the [`Target`]
//!   exactly once, even when it is in several target rooms. The recipients
//!   are the members at the moment the broadcast reads the room index; a
//!   client that joins during a broadcast may or may not receive it, a
//!   client outside the target for the whole broadcast never does. The
//!   message is shared: each recipient's queue gets a clone of the same
//!   bytes. Messages broadcast one after another by one task reach each
//!   client in that order.
//! - **Overflow** is each client's own: a full queue drops (volatile) or
//!   disconnects (see [`Outbox`]) that client alone; the others still get
//!   the message.
//! - **Events**: every room creation, deletion, join and leave is published
//!   as a [`RoomEvent`] to subscribers ([`Hub::subscribe`]); a subscriber
//!   that falls behind by more than 1024 events misses the oldest.
//! - **Cluster**: a broadcast or room operation that is not local is
//!   forwarded through the hub's [`Cluster`] after it has been applied here.
//!   [`Hub::broadcast`] and [`Hub::broadcast_each`] are the only ways a broadcast goes out.
//!
//! Files: this one holds membership and queries; `broadcast` resolves
//! targets and pushes; `forward` hands operations to the cluster;
//! `members` is one room's member list (one member inline, a map from the
//! second), `room_set` one client's rooms (likewise).
//!
//! Concurrency: the room index is a sharded map ([`dashmap`]). A broadcast
//! to one room with no exception pushes while it holds that room's shard
//! read lock (joins and leaves in the same shard wait for the pushes, which
//! take only each outbox's own short lock); any other broadcast copies the
//! member lists first and pushes with no hub lock held, as does every
//! broadcast that calls back per recipient ([`Hub::broadcast_each`]). Room
//! events are published while the room's shard is locked, so each room's
//! events come in the order of its changes. No lock is held across an
//! `.await` (nothing here awaits). Lock order, where two are held: a
//! client's room set, then a room-index shard, then an outbox.

mod broadcast;
mod forward;
mod members;
mod room_set;

use std::sync::Arc;

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use parking_lot::Mutex;
use tokio::sync::broadcast::{channel, Receiver, Sender};

use crate::cluster::{Cluster, LocalOnly};
use crate::{ClientId, IdHasher, Outbox, Room, Target};
use members::Members;
use room_set::RoomSet;

/// A change in the room index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoomEvent {
    /// A room got its first member.
    Created(Room),
    /// A room lost its last member.
    Deleted(Room),
    /// A client joined a room.
    Joined(Room, ClientId),
    /// A client left a room.
    Left(Room, ClientId),
}

/// Why a hub operation failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HubError {
    /// No connected client has this id.
    #[error("no connected client with id {0}")]
    UnknownClient(ClientId),
    /// A client with this id is already connected.
    #[error("a client with id {0} is already connected")]
    DuplicateClient(ClientId),
    /// Joining would put the client in more rooms than the hub allows.
    #[error("client {0} is already in the most rooms allowed ({1})")]
    TooManyRooms(ClientId, usize),
}

/// The result of a broadcast on this node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Clients whose queue took the message.
    pub queued: usize,
    /// Clients for which the message was dropped (volatile or full).
    pub dropped: usize,
    /// Clients disconnected because their queue overflowed.
    pub overflowed: usize,
}

#[derive(Debug)]
struct Member {
    outbox: Arc<Outbox>,
    rooms: Mutex<Rooms>,
}

#[derive(Debug, Default)]
struct Rooms {
    set: RoomSet,
    gone: bool,
}

/// Connected clients, their rooms, and broadcast. See the [module docs](self).
///
/// ```
/// use std::sync::Arc;
/// use roomcast_core::{ClientId, Flags, Frame, Hub, Message, Outbox, OutboxConfig, Target};
///
/// let hub = Hub::new("/");
/// let (a, b) = (ClientId::random(), ClientId::random());
/// let (oa, ob) = (Arc::new(Outbox::new(OutboxConfig::default())), Arc::new(Outbox::new(OutboxConfig::default())));
/// hub.connect(a, oa.clone()).unwrap();
/// hub.connect(b, ob.clone()).unwrap();
/// hub.join(a, ["lobby"]).unwrap();
///
/// let d = hub.broadcast(&Target::to(["lobby"]), &Message::from(Frame::text("hi")), Flags::default());
/// assert_eq!(d.queued, 1);
/// assert_eq!((oa.len(), ob.len()), (1, 0));
/// ```
pub struct Hub {
    scope: String,
    clients: DashMap<ClientId, Arc<Member>, IdHasher>,
    rooms: DashMap<Room, Members>,
    events: Sender<RoomEvent>,
    cluster: Arc<dyn Cluster>,
    max_rooms: usize,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("scope", &self.scope)
            .field("clients", &self.clients.len())
            .field("rooms", &self.rooms.len())
            .finish()
    }
}

impl Hub {
    /// A hub on a single node. `scope` names it in logs and cluster
    /// messages (for Socket.IO, the namespace).
    pub fn new(scope: impl Into<String>) -> Self {
        Self::with_cluster(scope, Arc::new(LocalOnly::new()))
    }

    /// A hub that forwards non-local operations through `cluster`.
    pub fn with_cluster(scope: impl Into<String>, cluster: Arc<dyn Cluster>) -> Self {
        let (events, _) = channel(1024);
        Hub {
            scope: scope.into(),
            clients: DashMap::default(),
            rooms: DashMap::new(),
            events,
            cluster,
            max_rooms: usize::MAX,
        }
    }

    /// Limits how many rooms one client may be in (its own room included);
    /// a join beyond fails with [`HubError::TooManyRooms`]. Unlimited by
    /// default.
    pub fn with_max_rooms_per_client(mut self, max: usize) -> Self {
        self.max_rooms = max;
        self
    }

    /// The hub's scope.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// The cluster this hub forwards to.
    pub fn cluster(&self) -> &Arc<dyn Cluster> {
        &self.cluster
    }

    /// Observes room events from now on.
    pub fn subscribe(&self) -> Receiver<RoomEvent> {
        self.events.subscribe()
    }

    fn emit(&self, event: RoomEvent) {
        if self.events.receiver_count() > 0 {
            let _ = self.events.send(event);
        }
    }

    /// Adds a client, with `outbox` as its queue, to its own room.
    pub fn connect(&self, id: ClientId, outbox: Arc<Outbox>) -> Result<(), HubError> {
        let member = Arc::new(Member {
            outbox,
            rooms: Mutex::new(Rooms::default()),
        });
        // Locked before the member is visible, so that a concurrent
        // `disconnect` (or `join`) of this id waits until it is in its own
        // room; otherwise a disconnect in between would leave that room behind.
        let mut rooms = member.rooms.lock();
        match self.clients.entry(id) {
            Entry::Occupied(_) => return Err(HubError::DuplicateClient(id)),
            Entry::Vacant(v) => {
                v.insert(member.clone());
            }
        }
        let _span = tracing::debug_span!("connect", scope = %self.scope, client = %id).entered();
        tracing::debug!("client connected");
        self.add_locked(id, &member, &mut rooms, Room::of_client(id));
        Ok(())
    }

    /// Removes a client from every room and from the hub. Returns the rooms
    /// it was in (its own included); `None` when it was not connected.
    pub fn disconnect(&self, id: ClientId) -> Option<Vec<Room>> {
        let (_, member) = self.clients.remove(&id)?;
        let _span = tracing::debug_span!("disconnect", scope = %self.scope, client = %id).entered();
        let mut rooms = member.rooms.lock();
        rooms.gone = true;
        let left: Vec<Room> = rooms.set.take_all();
        for room in &left {
            self.remove_member(id, room);
        }
        tracing::debug!(rooms = left.len(), "client disconnected");
        Some(left)
    }

    /// Makes a client join rooms (it is already in some: no change for those).
    /// Rooms are joined in order; on [`HubError::TooManyRooms`] the ones
    /// before the limit stay joined.
    pub fn join<R: Into<Room>>(
        &self,
        id: ClientId,
        rooms: impl IntoIterator<Item = R>,
    ) -> Result<(), HubError> {
        self.with_rooms(id, |member, mine| {
            for room in rooms {
                let room = room.into();
                if mine.set.len() >= self.max_rooms && !mine.set.contains(&room) {
                    return Err(HubError::TooManyRooms(id, self.max_rooms));
                }
                self.add_locked(id, member, mine, room);
            }
            Ok(())
        })
    }

    /// Makes a client leave rooms (those it is not in are ignored). A client
    /// may leave the room of its own id; it is still reachable by id through
    /// [`Hub::outbox`].
    pub fn leave<R: Into<Room>>(
        &self,
        id: ClientId,
        rooms: impl IntoIterator<Item = R>,
    ) -> Result<(), HubError> {
        self.with_rooms(id, |_, mine| {
            for room in rooms {
                let room = room.into();
                if mine.set.remove(&room) {
                    let _span =
                        tracing::debug_span!("leave", scope = %self.scope, client = %id, room = %room)
                            .entered();
                    self.remove_member(id, &room);
                }
            }
            Ok(())
        })
    }

    /// Runs `change` on a connected client's rooms, under its lock; a client
    /// that is gone (or going) is [`HubError::UnknownClient`].
    fn with_rooms<T>(
        &self,
        id: ClientId,
        change: impl FnOnce(&Arc<Member>, &mut Rooms) -> Result<T, HubError>,
    ) -> Result<T, HubError> {
        let member = self.member(id)?;
        let mut mine = member.rooms.lock();
        if mine.gone {
            return Err(HubError::UnknownClient(id));
        }
        change(&member, &mut mine)
    }

    fn member(&self, id: ClientId) -> Result<Arc<Member>, HubError> {
        self.clients
            .get(&id)
            .map(|m| m.value().clone())
            .ok_or(HubError::UnknownClient(id))
    }

    fn add_locked(&self, id: ClientId, member: &Member, mine: &mut Rooms, room: Room) {
        if !mine.set.insert(room.clone()) {
            return;
        }
        let _span =
            tracing::debug_span!("join", scope = %self.scope, client = %id, room = %room).entered();
        // Events are published under the room's shard lock, so that each
        // room's events come in the order of its changes.
        let mut members = self.rooms.entry(room.clone()).or_default();
        if members.is_empty() {
            self.emit(RoomEvent::Created(room.clone()));
        }
        members.insert(id, member.outbox.clone());
        self.emit(RoomEvent::Joined(room, id));
    }

    fn remove_member(&self, id: ClientId, room: &Room) {
        // As in `add_locked`: published under the room's shard lock.
        let entry = self.rooms.entry(room.clone());
        self.emit(RoomEvent::Left(room.clone(), id));
        if let Entry::Occupied(mut members) = entry {
            members.get_mut().remove(&id);
            if members.get().is_empty() {
                self.emit(RoomEvent::Deleted(room.clone()));
                members.remove();
            }
        }
    }

    /// The queue of a connected client.
    pub fn outbox(&self, id: ClientId) -> Option<Arc<Outbox>> {
        self.clients.get(&id).map(|m| m.outbox.clone())
    }

    /// Whether a client is connected.
    pub fn contains(&self, id: ClientId) -> bool {
        self.clients.contains_key(&id)
    }

    /// The rooms a client is in (its own included), sorted.
    pub fn rooms_of(&self, id: ClientId) -> Option<Vec<Room>> {
        let member = self.member(id).ok()?;
        let mine = member.rooms.lock();
        let mut rooms: Vec<Room> = mine.set.iter().cloned().collect();
        rooms.sort();
        Some(rooms)
    }

    /// The clients in a room, sorted.
    pub fn clients_in(&self, room: &str) -> Vec<ClientId> {
        let mut ids: Vec<ClientId> = self
            .rooms
            .get(room)
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default();
        ids.sort();
        ids
    }

    /// Every room that exists (has members), own-id rooms included, sorted.
    pub fn rooms(&self) -> Vec<Room> {
        let mut rooms: Vec<Room> = self.rooms.iter().map(|e| e.key().clone()).collect();
        rooms.sort();
        rooms
    }

    /// Number of rooms that exist.
    pub fn room_count(&self) -> usize {
        self.rooms.len()
    }

    /// Number of connected clients.
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// The connected clients in the target, sorted.
    pub fn select(&self, target: &Target) -> Vec<ClientId> {
        let mut ids: Vec<ClientId> = self.resolve(target).into_iter().map(|(id, _)| id).collect();
        ids.sort();
        ids
    }
}
