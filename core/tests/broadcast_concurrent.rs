//! Concurrent properties of [`Hub`], over several seeded rounds of threads:
//!
//! - broadcasts from several threads (to room sets, with except rooms and
//!   except-sender) while other threads make clients join and leave rooms,
//!   and connect and disconnect: no client ever gets a frame twice; clients
//!   whose rooms never change get exactly the broadcasts whose target they
//!   are in, once each and in each sender's order; clients that are outside
//!   a target for the whole run (never in its rooms, or always in an except
//!   room) never get it; every client gets each sender's frames in order;
//!   afterwards the two indexes (client -> rooms, room -> clients) agree.
//! - room events published while clients join and leave the same rooms
//!   concurrently describe, room by room, a valid history (Created before
//!   Joined, Deleted only once empty) that ends in the hub's actual rooms.
//! - connect racing disconnect of the same id never leaves a room behind.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::thread;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use roomcast_core::{
    ClientId, Flags, Frame, Hub, Message, Outbox, OutboxConfig, Overflow, Room, RoomEvent, Target,
};
use tokio::sync::broadcast::error::TryRecvError;

const BIG: OutboxConfig = OutboxConfig {
    capacity: 1 << 20,
    overflow: Overflow::Disconnect,
};

fn rounds() -> u64 {
    std::env::var("CONCURRENT_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8)
}

fn outbox() -> Arc<Outbox> {
    Arc::new(Outbox::new(BIG))
}

/// The broadcast kinds; the sender is `stable[SENDER]`.
const KINDS: usize = 7;
const SENDER: usize = 5;

fn target(kind: usize, sender: ClientId) -> Target {
    match kind {
        0 => Target::to(["t0"]),
        1 => Target::to(["t0", "t1"]),
        2 => Target::to(["t0", "t1"]).except(["x"]),
        3 => Target::all().except(["x"]),
        4 => Target::to(["t1"]).except(["x"]),
        5 => Target::to(["t0", "t1"]).except_client(sender),
        _ => Target::to(["t1", "t0", "t1"]),
    }
}

/// Whether a client always in exactly `rooms` is in the target.
fn reaches(target: &Target, rooms: &BTreeSet<Room>) -> bool {
    let in_any = |list: &[Room]| list.iter().any(|r| rooms.contains(r));
    (target.rooms.is_empty() || in_any(&target.rooms)) && !in_any(&target.except)
}

/// A frame's text: `"{task}:{seq}:{kind}"`.
fn parse(frame: &Frame) -> (usize, usize, usize) {
    let Frame::Text(t) = frame else {
        panic!("unexpected frame {frame:?}")
    };
    let mut it = t.as_str().split(':').map(|p| p.parse::<usize>().unwrap());
    (it.next().unwrap(), it.next().unwrap(), it.next().unwrap())
}

/// No frame twice; each task's frames in increasing order. Returns the
/// kinds received.
fn check_unique_and_ordered(who: &str, frames: &[Frame]) -> BTreeSet<usize> {
    let mut last: BTreeMap<usize, usize> = BTreeMap::new();
    let mut kinds = BTreeSet::new();
    for f in frames {
        let (task, seq, kind) = parse(f);
        if let Some(prev) = last.insert(task, seq) {
            assert!(
                prev < seq,
                "{who}: task {task} frame {seq} after {prev} (dup or reorder)"
            );
        }
        kinds.insert(kind);
    }
    kinds
}

struct Stable {
    name: &'static str,
    rooms: &'static [&'static str],
}

const STABLE: [Stable; 6] = [
    Stable {
        name: "in t0",
        rooms: &["t0"],
    },
    Stable {
        name: "in t0+t1",
        rooms: &["t0", "t1"],
    },
    Stable {
        name: "in t1",
        rooms: &["t1"],
    },
    Stable {
        name: "in t0+t1+x",
        rooms: &["t0", "t1", "x"],
    },
    Stable {
        name: "outsider",
        rooms: &["o"],
    },
    Stable {
        name: "sender",
        rooms: &["t0", "t1"],
    },
];

fn broadcast_round(seed: u64) {
    const TASKS: usize = 3;
    const PER_TASK: usize = 300;
    let hub = Hub::new("/");
    let stable: Vec<(ClientId, Arc<Outbox>, BTreeSet<Room>)> = STABLE
        .iter()
        .map(|s| {
            let (id, o) = (ClientId::random(), outbox());
            hub.connect(id, o.clone()).unwrap();
            hub.join(id, s.rooms.iter().copied()).unwrap();
            (id, o, hub.rooms_of(id).unwrap().into_iter().collect())
        })
        .collect();
    let sender = stable[SENDER].0;
    // Churners of group A are never in t1; those of group B go anywhere.
    let churn_rooms: [&[&str]; 2] = [&["t0", "x", "o"], &["t0", "t1", "x", "o"]];
    let churners: Vec<Vec<(ClientId, Arc<Outbox>)>> = (0..2)
        .map(|_| {
            (0..3)
                .map(|_| {
                    let (id, o) = (ClientId::random(), outbox());
                    hub.connect(id, o.clone()).unwrap();
                    (id, o)
                })
                .collect()
        })
        .collect();
    // Per task, the kind of each message, chosen up front.
    let mut rng = StdRng::seed_from_u64(seed);
    let plan: Vec<Vec<usize>> = (0..TASKS)
        .map(|_| (0..PER_TASK).map(|_| rng.random_range(0..KINDS)).collect())
        .collect();
    let done = AtomicUsize::new(0);
    let start = Barrier::new(TASKS + 3);
    let transient: Vec<Vec<Frame>> = thread::scope(|s| {
        for (task, kinds) in plan.iter().enumerate() {
            let (hub, done, start) = (&hub, &done, &start);
            s.spawn(move || {
                start.wait();
                for (seq, &kind) in kinds.iter().enumerate() {
                    let msg = Message::from(Frame::text(format!("{task}:{seq}:{kind}")));
                    hub.broadcast(&target(kind, sender), &msg, Flags::default());
                    if seq % 16 == 0 {
                        thread::yield_now();
                    }
                }
                done.fetch_add(1, SeqCst);
            });
        }
        for (g, group) in churners.iter().enumerate() {
            let (hub, done, start, rooms) = (&hub, &done, &start, churn_rooms[g]);
            let mut rng = StdRng::seed_from_u64(seed ^ ((g as u64 + 1) << 32));
            s.spawn(move || {
                start.wait();
                while done.load(SeqCst) < TASKS {
                    let (id, _) = &group[rng.random_range(0..group.len())];
                    let pick: Vec<&str> = rooms
                        .iter()
                        .copied()
                        .filter(|_| rng.random_bool(0.5))
                        .collect();
                    if rng.random_bool(0.5) {
                        hub.join(*id, pick).unwrap();
                    } else {
                        hub.leave(*id, pick).unwrap();
                    }
                    // Leave the broadcasters their share of a busy machine.
                    thread::yield_now();
                }
            });
        }
        // Short-lived clients: connect, join, leave, disconnect.
        let (hub_ref, done_ref) = (&hub, &done);
        let start = &start;
        let sessions = s.spawn(move || {
            start.wait();
            let mut got = Vec::new();
            while done_ref.load(SeqCst) < TASKS {
                let (id, o) = (ClientId::random(), outbox());
                hub_ref.connect(id, o.clone()).unwrap();
                hub_ref.join(id, ["t0", "t1"]).unwrap();
                hub_ref.leave(id, ["t0"]).unwrap();
                assert!(hub_ref.disconnect(id).is_some());
                let mut frames = Vec::new();
                o.drain(&mut frames);
                got.push(frames);
                thread::yield_now();
            }
            got
        });
        sessions.join().unwrap()
    });

    for (i, frames) in transient.iter().enumerate() {
        check_unique_and_ordered(&format!("session {i}"), frames);
    }
    for ((id, o, rooms), s) in stable.iter().zip(&STABLE) {
        assert_eq!(
            hub.rooms_of(*id)
                .unwrap()
                .into_iter()
                .collect::<BTreeSet<_>>(),
            *rooms
        );
        let mut frames = Vec::new();
        assert_eq!(o.drain(&mut frames), None);
        check_unique_and_ordered(s.name, &frames);
        // Exactly the messages whose target it is in, in each task's order.
        for (task, kinds) in plan.iter().enumerate() {
            let want: Vec<usize> = (0..PER_TASK)
                .filter(|&seq| reaches(&target(kinds[seq], sender), rooms))
                .collect();
            let got: Vec<usize> = frames
                .iter()
                .map(parse)
                .filter(|&(t, _, _)| t == task)
                .map(|(_, seq, _)| seq)
                .collect();
            assert_eq!(got, want, "seed {seed}: {} from task {task}", s.name);
        }
    }
    for (g, group) in churners.iter().enumerate() {
        for (i, (_, o)) in group.iter().enumerate() {
            let mut frames = Vec::new();
            o.drain(&mut frames);
            let kinds = check_unique_and_ordered(&format!("churner {g}.{i}"), &frames);
            if g == 0 {
                assert!(
                    !kinds.contains(&4),
                    "seed {seed}: never in t1, got a t1-only broadcast"
                );
            }
        }
    }
    check_indexes_agree(&hub);
}

/// After quiescence: room -> clients and client -> rooms describe the same
/// relation, and no room is empty.
fn check_indexes_agree(hub: &Hub) {
    let mut by_room: BTreeMap<Room, BTreeSet<ClientId>> = BTreeMap::new();
    for room in hub.rooms() {
        let members = hub.clients_in(room.as_str());
        assert!(!members.is_empty(), "empty room {room:?} still listed");
        by_room.insert(room, members.into_iter().collect());
    }
    let mut from_clients: BTreeMap<Room, BTreeSet<ClientId>> = BTreeMap::new();
    let ids: BTreeSet<ClientId> = by_room.values().flatten().copied().collect();
    for id in ids {
        for room in hub
            .rooms_of(id)
            .expect("member of a room but not connected")
        {
            from_clients.entry(room).or_default().insert(id);
        }
    }
    assert_eq!(by_room, from_clients);
}

#[test]
fn concurrent_broadcasts_reach_each_client_once_and_in_order() {
    for round in 0..rounds() {
        broadcast_round(0x5eed_0000 + round);
    }
}

/// Sets the flag when dropped, panicking or not.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

/// Folds events room by room, failing on an impossible history.
#[derive(Default)]
struct EventFold {
    rooms: BTreeMap<Room, HashSet<ClientId>>,
}

impl EventFold {
    fn apply(&mut self, e: RoomEvent) {
        match e {
            RoomEvent::Created(r) => {
                assert!(
                    self.rooms.insert(r.clone(), HashSet::new()).is_none(),
                    "{r:?} created twice"
                )
            }
            RoomEvent::Joined(r, id) => {
                let m = self
                    .rooms
                    .get_mut(&r)
                    .unwrap_or_else(|| panic!("join of missing {r:?}"));
                assert!(m.insert(id), "{id:?} joined {r:?} twice");
            }
            RoomEvent::Left(r, id) => {
                let m = self
                    .rooms
                    .get_mut(&r)
                    .unwrap_or_else(|| panic!("leave of missing {r:?}"));
                assert!(m.remove(&id), "{id:?} left {r:?} it was not in");
            }
            RoomEvent::Deleted(r) => {
                let m = self
                    .rooms
                    .remove(&r)
                    .unwrap_or_else(|| panic!("delete of missing {r:?}"));
                assert!(m.is_empty(), "{r:?} deleted with members {m:?}");
            }
        }
    }
}

#[test]
fn room_events_describe_a_valid_history_under_concurrency() {
    const THREADS: usize = 2;
    const OPS: usize = 20_000;
    for round in 0..rounds() {
        let hub = Hub::new("/");
        let mut rx = hub.subscribe();
        let ids: Vec<ClientId> = (0..THREADS * 2).map(|_| ClientId::random()).collect();
        for id in &ids {
            hub.connect(*id, outbox()).unwrap();
        }
        let mut fold = EventFold::default();
        // Producers wait for the subscriber so that it never lags behind the
        // 1024-event buffer: they count the Joined/Left events they cause
        // (each Created/Deleted comes with one), it counts those it sees.
        let (produced, consumed) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let (stop, gone) = (AtomicBool::new(false), AtomicBool::new(false));
        thread::scope(|s| {
            let producers: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (hub, ids, produced, consumed) = (&hub, &ids, &produced, &consumed);
                    let gone = &gone;
                    s.spawn(move || {
                        let mut rng = StdRng::seed_from_u64(round * 100 + t as u64);
                        let mine = &ids[t * 2..t * 2 + 2];
                        let mut member: HashSet<(ClientId, &str)> = HashSet::new();
                        for _ in 0..OPS {
                            while produced.load(SeqCst) > consumed.load(SeqCst) + 200 {
                                if gone.load(SeqCst) {
                                    return; // the subscriber failed
                                }
                                thread::yield_now();
                            }
                            let id = mine[rng.random_range(0..2)];
                            let room = ["a", "b"][rng.random_range(0..2)];
                            let changes = if rng.random_bool(0.5) {
                                hub.join(id, [room]).unwrap();
                                member.insert((id, room))
                            } else {
                                hub.leave(id, [room]).unwrap();
                                member.remove(&(id, room))
                            };
                            if changes {
                                produced.fetch_add(1, SeqCst);
                            }
                        }
                    })
                })
                .collect();
            let (stop, consumed, fold, rx) = (&stop, &consumed, &mut fold, &mut rx);
            let gone = &gone;
            s.spawn(move || {
                let _gone = SetOnDrop(gone);
                loop {
                    let finished = stop.load(SeqCst);
                    loop {
                        match rx.try_recv() {
                            Ok(e) => {
                                if matches!(e, RoomEvent::Joined(..) | RoomEvent::Left(..)) {
                                    consumed.fetch_add(1, SeqCst);
                                }
                                fold.apply(e);
                            }
                            Err(TryRecvError::Empty) => break,
                            Err(e) => panic!("subscriber: {e:?}"),
                        }
                    }
                    if finished {
                        return;
                    }
                    thread::yield_now();
                }
            });
            for p in producers {
                p.join().unwrap();
            }
            stop.store(true, SeqCst);
        });
        let folded: Vec<Room> = fold.rooms.keys().cloned().collect();
        assert_eq!(
            folded,
            hub.rooms(),
            "round {round}: events end elsewhere than the index"
        );
    }
}

/// A disconnect racing the connect of the same id either finds nothing or
/// removes the client with all its rooms: its own room never outlives it.
#[test]
fn connect_racing_disconnect_leaves_no_room_behind() {
    const TRIES: usize = 20_000;
    let hub = Hub::new("/");
    let ids: Vec<ClientId> = (0..TRIES).map(|_| ClientId::random()).collect();
    let (current, done) = (AtomicUsize::new(0), AtomicBool::new(false));
    thread::scope(|s| {
        s.spawn(|| {
            for (i, id) in ids.iter().enumerate() {
                current.store(i, SeqCst);
                hub.connect(*id, outbox()).unwrap();
            }
            done.store(true, SeqCst);
        });
        // Keeps disconnecting the id being connected.
        s.spawn(|| {
            while !done.load(SeqCst) {
                hub.disconnect(ids[current.load(SeqCst)]);
            }
        });
    });
    // Whatever the racing thread missed is still connected, in its room.
    for id in &ids {
        hub.disconnect(*id);
    }
    assert_eq!(hub.client_count(), 0);
    assert_eq!(
        hub.rooms(),
        Vec::<Room>::new(),
        "own rooms of disconnected clients remain"
    );
}
