//! The in-memory store behind connection state recovery, for one
//! namespace: the packets sent recently and the sessions of sockets that
//! lost their connection.
//!
//! Semantics:
//! - **Ordering**: every stored packet gets the next sequence number of
//!   this store; packets are kept in that order. The caller holds the
//!   store's lock while it assigns the number and queues the packet, so
//!   numbers and queue order agree for every client.
//! - **Index**: numbers are contiguous, so the packet after offset `n` is
//!   at position `n + 1 - first` — found without a scan. A replay then
//!   walks only the packets after the client's offset.
//! - **Bounds**: a packet is dropped when it is older than the maximum
//!   disconnection duration, or, oldest first, when the stored bytes exceed
//!   the size bound. A session is dropped when it is older than that
//!   duration, or, oldest first, beyond [`MAX_SESSIONS`]. Dropping happens
//!   on every push, persist and restore (no timer).
//! - **Gaps**: a client whose offset is older than the oldest stored packet
//!   minus one missed a dropped packet: it is not recovered. An offset
//!   newer than the last number given out is not recovered either.
//! - **One use**: restoring a session removes it, so two connections can
//!   never recover the same socket.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use roomcast_core::{ClientId, Message, Room, Target};
use serde_json::Value;

/// The most sessions kept; beyond, the oldest is dropped.
pub(crate) const MAX_SESSIONS: usize = 1 << 20;

/// A packet as sent, with the target it was sent to.
struct Stored {
    at: Instant,
    target: Target,
    message: Message,
    size: usize,
}

/// What a socket was when its connection was lost.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Session {
    pub(crate) sid: ClientId,
    pub(crate) pid: String,
    /// Its rooms, its own id's included.
    pub(crate) rooms: Vec<Room>,
    pub(crate) data: Value,
}

/// Recent packets and lost sessions of one namespace. See the module docs.
pub(crate) struct Store {
    packets: VecDeque<Stored>,
    /// The number the next packet gets.
    next_seq: u64,
    bytes: usize,
    sessions: HashMap<String, (Instant, Session)>,
    /// Pids in the order they were persisted (may name sessions since
    /// restored or replaced: checked against `sessions`).
    session_order: VecDeque<(Instant, String)>,
    max_age: Duration,
    max_bytes: usize,
}

impl Store {
    pub(crate) fn new(max_age: Duration, max_bytes: usize) -> Self {
        Store {
            packets: VecDeque::new(),
            next_seq: 0,
            bytes: 0,
            sessions: HashMap::new(),
            session_order: VecDeque::new(),
            max_age,
            max_bytes,
        }
    }

    /// The number the next packet will get.
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Stores the packet numbered [`Store::next_seq`], then drops what the
    /// bounds no longer allow (possibly this packet, if alone it is larger
    /// than the size bound).
    pub(crate) fn push(&mut self, now: Instant, target: Target, message: Message) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        let size = message.frames().iter().map(|f| f.len()).sum::<usize>()
            + target
                .rooms
                .iter()
                .chain(&target.except)
                .map(|r| r.as_str().len())
                .sum::<usize>();
        self.bytes += size;
        self.packets.push_back(Stored {
            at: now,
            target,
            message,
            size,
        });
        self.prune_packets(now);
        seq
    }

    fn prune_packets(&mut self, now: Instant) {
        while let Some(front) = self.packets.front() {
            let expired = now.saturating_duration_since(front.at) > self.max_age;
            if !expired && self.bytes <= self.max_bytes {
                break;
            }
            self.bytes -= front.size;
            self.packets.pop_front();
        }
    }

    fn prune_sessions(&mut self, now: Instant) {
        while let Some((at, pid)) = self.session_order.front() {
            let expired = now.saturating_duration_since(*at) > self.max_age;
            if !expired && self.session_order.len() <= MAX_SESSIONS {
                break;
            }
            if self.sessions.get(pid).is_some_and(|(t, _)| t == at) {
                self.sessions.remove(pid);
            }
            self.session_order.pop_front();
        }
    }

    /// Keeps a lost socket's session until it expires or is restored.
    pub(crate) fn persist(&mut self, now: Instant, session: Session) {
        self.prune_sessions(now);
        self.session_order.push_back((now, session.pid.clone()));
        self.sessions.insert(session.pid.clone(), (now, session));
        self.prune_sessions(now);
    }

    /// Removes and returns the session `pid` if it has not expired.
    pub(crate) fn take_session(&mut self, now: Instant, pid: &str) -> Option<Session> {
        self.prune_sessions(now);
        self.sessions.remove(pid).map(|(_, s)| s)
    }

    /// Whether every packet after `offset` is still stored.
    pub(crate) fn has_all_after(&mut self, now: Instant, offset: u64) -> bool {
        self.prune_packets(now);
        let first = self.next_seq - self.packets.len() as u64;
        offset < self.next_seq && offset + 1 >= first
    }

    /// The packets after `offset` that `session` was a recipient of, in
    /// order; `None` when some packet after `offset` was dropped (or the
    /// offset was never given out).
    pub(crate) fn missed(
        &mut self,
        now: Instant,
        offset: u64,
        session: &Session,
    ) -> Option<Vec<Message>> {
        if !self.has_all_after(now, offset) {
            return None;
        }
        let first = self.next_seq - self.packets.len() as u64;
        let start = (offset + 1 - first) as usize;
        Some(
            self.packets
                .range(start..)
                .filter(|p| addressed_to(&p.target, &session.rooms))
                .map(|p| p.message.clone())
                .collect(),
        )
    }

    /// Bytes of the packets stored now.
    #[cfg(test)]
    fn stored_bytes(&self) -> usize {
        self.bytes
    }

    /// Number of packets stored now.
    #[cfg(test)]
    fn stored_packets(&self) -> usize {
        self.packets.len()
    }

    #[cfg(test)]
    fn seqs(&self) -> Vec<u64> {
        let first = self.next_seq - self.packets.len() as u64;
        (first..self.next_seq).collect()
    }
}

/// Whether a client in `rooms` was a recipient of `target`.
pub(crate) fn addressed_to(target: &Target, rooms: &[Room]) -> bool {
    let included = target.rooms.is_empty() || target.rooms.iter().any(|r| rooms.contains(r));
    included && !target.except.iter().any(|r| rooms.contains(r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use roomcast_core::Frame;

    fn msg(n: u64) -> Message {
        Message::from(Frame::text(format!("42[\"e\",{n}]")))
    }

    fn session(rooms: &[&str]) -> Session {
        Session {
            sid: ClientId::random(),
            pid: "p".into(),
            rooms: rooms.iter().map(|r| Room::from(*r)).collect(),
            data: Value::Null,
        }
    }

    fn text(m: &Message) -> String {
        match &m.frames()[0] {
            Frame::Text(t) => t.as_str().to_string(),
            Frame::Binary(_) => unreachable!(),
        }
    }

    #[test]
    fn replays_after_the_offset_in_order_and_only_matching() {
        let now = Instant::now();
        let mut s = Store::new(Duration::from_secs(60), usize::MAX);
        s.push(now, Target::all(), msg(0));
        s.push(now, Target::to(["a"]), msg(1));
        s.push(now, Target::to(["b"]), msg(2));
        s.push(now, Target::all().except(["a"]), msg(3));
        s.push(now, Target::to(["a", "b"]), msg(4));
        let missed = s.missed(now, 0, &session(&["a", "me"])).unwrap();
        let got: Vec<String> = missed.iter().map(text).collect();
        assert_eq!(got, vec![text(&msg(1)), text(&msg(4))]);
        assert!(s.missed(now, 4, &session(&["a"])).unwrap().is_empty());
        assert!(
            s.missed(now, 5, &session(&["a"])).is_none(),
            "never given out"
        );
    }

    #[test]
    fn drops_by_age_and_by_size_and_refuses_gaps() {
        let t0 = Instant::now();
        let mut s = Store::new(Duration::from_secs(10), usize::MAX);
        for n in 0..3 {
            s.push(t0, Target::all(), msg(n));
        }
        let t1 = t0 + Duration::from_secs(11);
        s.push(t1, Target::all(), msg(3));
        assert_eq!(s.seqs(), vec![3]);
        assert!(
            s.missed(t1, 2, &session(&[])).is_some(),
            "nothing after 2 was dropped"
        );
        assert!(
            s.missed(t1, 1, &session(&[])).is_none(),
            "packet 2 was dropped"
        );

        let size = msg(0).frames()[0].len();
        let mut s = Store::new(Duration::from_secs(10), size * 2);
        for n in 0..5 {
            s.push(t0, Target::all(), msg(n));
        }
        assert_eq!(s.seqs(), vec![3, 4]);
        assert_eq!(s.stored_bytes(), size * 2);
        assert_eq!(s.stored_packets(), 2);
    }

    #[test]
    fn sessions_expire_and_restore_once() {
        let t0 = Instant::now();
        let mut s = Store::new(Duration::from_secs(10), usize::MAX);
        let a = session(&["x"]);
        s.persist(t0, a.clone());
        assert_eq!(s.take_session(t0, "p"), Some(a.clone()));
        assert_eq!(s.take_session(t0, "p"), None, "restored once");
        s.persist(t0, a.clone());
        assert_eq!(
            s.take_session(t0 + Duration::from_secs(11), "p"),
            None,
            "expired"
        );
        // A session persisted again replaces the older one and keeps its own age.
        s.persist(t0, a.clone());
        s.persist(t0 + Duration::from_secs(5), a.clone());
        assert_eq!(s.take_session(t0 + Duration::from_secs(12), "p"), Some(a));
    }

    proptest! {
        /// Against a model that keeps everything: whenever the store answers,
        /// it answers exactly the model's packets after the offset that match,
        /// in order; it refuses only when a packet after the offset is gone.
        #[test]
        fn replay_matches_a_model(
            ops in prop::collection::vec((0u8..4, 0u64..30, 0u64..3), 1..80),
            max_bytes in 10usize..400,
        ) {
            let t0 = Instant::now();
            let max_age = Duration::from_secs(20);
            let mut s = Store::new(max_age, max_bytes);
            let mut model: Vec<(u64, Instant, Target, Message)> = Vec::new();
            let mut now = t0;
            let rooms = ["a", "b", "c"];
            for (kind, n, room) in ops {
                now += Duration::from_secs(n % 4);
                let target = match kind {
                    0 => Target::all(),
                    1 => Target::to([rooms[room as usize]]),
                    2 => Target::all().except([rooms[room as usize]]),
                    _ => Target::to(["a", "b"]).except([rooms[room as usize]]),
                };
                let seq = s.push(now, target.clone(), msg(n));
                prop_assert_eq!(seq, model.len() as u64);
                model.push((seq, now, target, msg(n)));
                let offset = n.min(seq);
                let sess = session(&[rooms[room as usize], "me"]);
                let expected: Vec<String> = model[offset as usize + 1..]
                    .iter()
                    .filter(|(_, _, t, _)| addressed_to(t, &sess.rooms))
                    .map(|(_, _, _, m)| text(m))
                    .collect();
                let bytes: usize = model.iter().map(|(_, _, _, m)| m.frames()[0].len()).sum();
                match s.missed(now, offset, &sess) {
                    Some(got) => {
                        prop_assert_eq!(got.iter().map(text).collect::<Vec<_>>(), expected);
                    }
                    None => {
                        // Refused only if the packet after the offset was dropped.
                        let next = &model[offset as usize + 1];
                        let first_kept = s.seqs().first().copied().unwrap_or(s.next_seq());
                        prop_assert!(next.0 < first_kept, "refused though nothing was dropped");
                        let _ = bytes;
                    }
                }
                // The bounds hold.
                prop_assert!(s.stored_bytes() <= max_bytes || s.stored_packets() == 0);
                for p in &s.packets {
                    prop_assert!(now.saturating_duration_since(p.at) <= max_age);
                }
            }
        }
    }
}
