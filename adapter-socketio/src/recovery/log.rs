//! Connection state recovery over a cluster's shared log
//! ([`SessionLog`], Redis Streams): sessions and missed packets live in the
//! log, so a client can come back to any node.
//!
//! Semantics:
//! - **Delivery**: a broadcast (or a socket's own emit) that is stored is
//!   appended to the log and *not* delivered at once: every node, this one
//!   included, delivers it when it reads it back, with the log's entry id
//!   as its offset. Clients of every node see one order. Volatile events
//!   are delivered at once and appended without being stored for replay.
//! - **Restore without gap or duplicate**: the log's restore returns the
//!   session and the packets after the client's offset up to some entry
//!   `until`; meanwhile this node's reader went on to its watermark `w`.
//!   Under the lock the reader delivers with, the socket joins its rooms
//!   and gets the returned packets up to `w` (later ones reach it live),
//!   plus, when `w` is past `until`, the packets of `(until, w]` kept in
//!   the tail of recent deliveries. A tail that no longer reaches back to
//!   `until` means a gap: the socket is not recovered.
//! - **Ids**: a session stored by a Node server carries a 20-character
//!   socket id, which is not a roomcast id: such a session is not restored
//!   here (the client gets a fresh session).

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::Mutex;
use roomcast_core::cluster::log::{offset_after, reaches, Logged, SessionLog};
use roomcast_core::{ClientId, Flags, Hub, Message, Room, Target};
use serde_json::Value;

use crate::parser::Parser;
use super::store::Session;

/// Most recent deliveries kept to close the gap of a restore.
const TAIL: usize = 4096;

struct Tail {
    /// Every entry up to this one was delivered here.
    watermark: Option<String>,
    /// Recent stored deliveries: offset, target, message with offset.
    recent: VecDeque<(String, Target, Message)>,
    /// `recent` holds every stored delivery after this entry (`None`:
    /// since the reader started).
    covered_after: Option<String>,
}

/// One namespace's recovery through the log.
pub(crate) struct LogRecovery {
    log: Arc<dyn SessionLog>,
    scope: String,
    /// Appends the offsets to the logged events.
    parser: Arc<dyn Parser>,
    tail: Mutex<Tail>,
}

/// What the log returned for a CONNECT.
pub(crate) struct Pending {
    missed: Vec<Logged>,
    until: String,
}


impl LogRecovery {
    /// The logged event `frames` with its `offset` as a last argument.
    fn with_offset(&self, frames: Vec<roomcast_core::Frame>, offset: &str) -> Message {
        let m = Message::many(frames);
        self.parser.append_arg(&m, offset).unwrap_or(m)
    }

    pub(crate) fn new(log: Arc<dyn SessionLog>, scope: &str, parser: Arc<dyn Parser>) -> Self {
        LogRecovery {
            log,
            scope: scope.to_string(),
            parser,
            tail: Mutex::new(Tail {
                watermark: None,
                recent: VecDeque::new(),
                covered_after: None,
            }),
        }
    }

    pub(crate) fn log(&self) -> &Arc<dyn SessionLog> {
        &self.log
    }

    pub(crate) fn scope(&self) -> &str {
        &self.scope
    }

    /// Asks the log for the session a CONNECT's auth names.
    pub(crate) async fn take(&self, auth: &Value) -> Option<(Session, Pending)> {
        let pid = auth.get("pid")?.as_str()?;
        let offset = auth.get("offset")?.as_str()?;
        let restored = match self.log.restore(&self.scope, pid, offset).await {
            Ok(r) => r?,
            Err(e) => {
                tracing::debug!(error = %e, "session restore failed");
                return None;
            }
        };
        // Live delivery must have reached the client's offset, or what
        // it already has would reach it again.
        let reached = || self.watermark().is_some_and(|w| !offset_after(offset, &w));
        for _ in 0..200 {
            if reached() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        if !reached() {
            return None;
        }
        let sid: ClientId = restored.session.sid.parse().ok()?;
        let data = serde_json::from_slice(&restored.session.data).unwrap_or(Value::Null);
        let session = Session {
            sid,
            pid: restored.session.pid,
            rooms: restored.session.rooms,
            data,
        };
        let pending = Pending {
            missed: restored.missed,
            until: restored.until,
        };
        Some((session, pending))
    }

    fn watermark(&self) -> Option<String> {
        let w = self.tail.lock().watermark.clone();
        w.or_else(|| self.log.read_from())
    }

    /// Delivers an entry read from the log (see the module docs); `own`
    /// when this node appended it, `stored` when recovery stores it.
    pub(crate) fn deliver(&self, hub: &Hub, entry: Logged, own: bool) {
        let local = Flags {
            local: true,
            ..entry.flags
        };
        if entry.flags.volatile {
            let mut tail = self.tail.lock();
            tail.watermark = Some(entry.offset);
            if !own {
                hub.broadcast(&entry.target, &Message::many(entry.frames), local);
            }
            return;
        }
        let message = self.with_offset(entry.frames, &entry.offset);
        let mut tail = self.tail.lock();
        hub.broadcast(&entry.target, &message, local);
        tail.watermark = Some(entry.offset.clone());
        tail.recent.push_back((entry.offset, entry.target, message));
        if tail.recent.len() > TAIL {
            if let Some((o, _, _)) = tail.recent.pop_front() {
                tail.covered_after = Some(o);
            }
        }
    }

    /// Enters a restored socket under the delivery lock: `join` (told
    /// whether the restore holds; false refuses), `reply` (told the same),
    /// then the packets it missed to `send`. `None` when `join` refused,
    /// else whether the socket was recovered.
    pub(crate) fn enter(
        &self,
        session: &Session,
        pending: &Pending,
        join: impl FnOnce(bool) -> bool,
        reply: impl FnOnce(bool),
        mut send: impl FnMut(&Message),
    ) -> Option<bool> {
        let tail = self.tail.lock();
        let missed = self.missed(&tail, &session.rooms, pending);
        let recovered = missed.is_some();
        if !join(recovered) {
            return None;
        }
        reply(recovered);
        for m in missed.iter().flatten() {
            send(m);
        }
        Some(recovered)
    }

    fn missed(&self, tail: &Tail, rooms: &[Room], pending: &Pending) -> Option<Vec<Message>> {
        let w = tail.watermark.clone().or_else(|| self.log.read_from())?;
        let mut out: Vec<Message> = pending
            .missed
            .iter()
            .filter(|e| !offset_after(&e.offset, &w))
            .map(|e| self.with_offset(e.frames.clone(), &e.offset))
            .collect();
        if offset_after(&w, &pending.until) {
            let covered = tail
                .covered_after
                .clone()
                .or_else(|| self.log.read_from())?;
            if offset_after(&covered, &pending.until) {
                return None;
            }
            out.extend(
                tail.recent
                    .iter()
                    .filter(|(o, t, _)| {
                        offset_after(o, &pending.until) && !offset_after(o, &w) && reaches(t, rooms)
                    })
                    .map(|(_, _, m)| m.clone()),
            );
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use roomcast_core::cluster::log::{Restored, SavedSession};
    use roomcast_core::cluster::{ClusterError, NodeId};
    use roomcast_core::{Frame, Outbox, OutboxConfig};

    struct Started(&'static str);

    #[async_trait::async_trait]
    impl SessionLog for Started {
        fn append(&self, _: &str, _: &Target, _: Flags, _: &[Frame]) -> Result<(), ClusterError> {
            Ok(())
        }
        fn persist(&self, _: &str, _: SavedSession, _: std::time::Duration) {}
        async fn restore(
            &self,
            _: &str,
            _: &str,
            _: &str,
        ) -> Result<Option<Restored>, ClusterError> {
            Ok(None)
        }
        fn read_from(&self) -> Option<String> {
            Some(self.0.to_string())
        }
    }

    fn entry(offset: &str, room: &str) -> Logged {
        Logged {
            offset: offset.into(),
            from: NodeId::from("n"),
            target: Target::to([room]),
            flags: Flags::default(),
            frames: vec![Frame::text(format!("42[\"e\",\"{offset}\"]"))],
        }
    }

    fn texts(ms: &[Message]) -> Vec<String> {
        ms.iter()
            .map(|m| match &m.frames()[0] {
                Frame::Text(t) => t.as_str().to_string(),
                Frame::Binary(_) => String::new(),
            })
            .collect()
    }

    fn session() -> Session {
        Session {
            sid: ClientId::random(),
            pid: "p".into(),
            rooms: vec![Room::from("r")],
            data: Value::Null,
        }
    }

    #[test]
    fn a_restore_has_no_gap_and_no_duplicate_whichever_is_ahead() {
        let rec = LogRecovery::new(
            Arc::new(Started("1-0")),
            "/",
            Arc::new(crate::parser::JsonParser::new()),
        );
        let hub = Hub::new("/");
        hub.connect(
            ClientId::random(),
            Arc::new(Outbox::new(OutboxConfig::default())),
        )
        .unwrap();
        // The reader delivered up to 5-0 (4-0 to another room).
        for (o, room) in [("2-0", "r"), ("3-0", "r"), ("4-0", "x"), ("5-0", "r")] {
            rec.deliver(&hub, entry(o, room), false);
        }
        let tail = rec.tail.lock();
        // The log's restore read up to 3-0: 4-0..5-0 come from the tail.
        let behind = Pending {
            missed: vec![entry("2-0", "r"), entry("3-0", "r")],
            until: "3-0".into(),
        };
        let got = rec.missed(&tail, &session().rooms, &behind).unwrap();
        assert_eq!(
            texts(&got),
            [
                "42[\"e\",\"2-0\",\"2-0\"]",
                "42[\"e\",\"3-0\",\"3-0\"]",
                "42[\"e\",\"5-0\",\"5-0\"]"
            ]
        );
        // The log's restore read past the reader (6-0): 6-0 comes live.
        let ahead = Pending {
            missed: vec![entry("5-0", "r"), entry("6-0", "r")],
            until: "6-0".into(),
        };
        let got = rec.missed(&tail, &session().rooms, &ahead).unwrap();
        assert_eq!(texts(&got), ["42[\"e\",\"5-0\",\"5-0\"]"]);
    }

    #[test]
    fn a_tail_that_no_longer_reaches_back_is_a_gap() {
        let rec = LogRecovery::new(
            Arc::new(Started("1-0")),
            "/",
            Arc::new(crate::parser::JsonParser::new()),
        );
        let hub = Hub::new("/");
        for i in 0..(TAIL as u64 + 10) {
            rec.deliver(&hub, entry(&format!("{}-0", i + 2), "r"), false);
        }
        let tail = rec.tail.lock();
        let old = Pending {
            missed: vec![],
            until: "3-0".into(),
        };
        assert!(rec.missed(&tail, &session().rooms, &old).is_none());
    }
}
