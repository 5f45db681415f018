//! Connection state recovery (Node: `connectionStateRecovery`): a client
//! whose connection was lost comes back with the same socket id, rooms and
//! data, and receives every event it missed meanwhile.
//!
//! Semantics, as the reference server:
//! - **Session id**: with recovery on, the CONNECT answer carries a private
//!   session id `pid` beside the socket id.
//! - **Offsets**: every EVENT the server sends on a namespace — broadcasts
//!   and a socket's own emits — carries its offset as a last argument,
//!   except events that ask for an ack and volatile ones, which are not
//!   stored either. The offset is per packet, so a broadcast is still
//!   encoded once for every recipient.
//! - **Sessions**: a socket that leaves because its connection was lost
//!   (transport close or error, ping timeout, the server shutting down or
//!   closing the connection) leaves a session: its id, rooms and data. A
//!   socket that leaves its namespace on purpose (client or server
//!   namespace disconnect), or for a parse error or a full queue, does not.
//! - **Restore**: a CONNECT whose auth holds `pid` and `offset` (strings)
//!   of a live session, every packet after which is still stored, gets the
//!   socket back: same id, rooms and data, then every stored packet after
//!   the offset that was addressed to it (by rooms and except-rooms), in
//!   order, after the CONNECT answer; [`Socket::recovered`] is true and the
//!   middlewares are skipped unless `skip_middlewares` is off. Anything
//!   else is a fresh socket (new id, new pid).
//! - **Ordering**: storing a packet and queueing it to its recipients
//!   happen under the namespace store's lock, and so do restoring a socket
//!   into its rooms and queueing its replay: a client never sees offsets
//!   out of order, and no packet falls between replay and live delivery.
//!   The price: with recovery on, the broadcasts of one namespace are
//!   queued one at a time.
//! - **Storage** is in memory, per namespace, bounded by time and size
//!   ([`store`]).
//! - **Cluster**: on a node of a cluster, broadcasts go to the other nodes
//!   without this node's offsets (they mean nothing there), and what other
//!   nodes forward is delivered but not stored here: a client recovers
//!   what was sent from the node it reconnects to.

pub(crate) mod store;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{BufMut, BytesMut};
use parking_lot::Mutex;
use roomcast_core::{ClientId, Frame, Message, Target};
use serde_json::Value;

use crate::DisconnectReason;
use store::{Session, Store};

/// Connection state recovery options (Node: `connectionStateRecovery`).
///
/// ```
/// use std::time::Duration;
/// use roomcast_socketio::{RecoveryConfig, Server};
/// let io = Server::builder()
///     .recovery(RecoveryConfig {
///         max_disconnection_duration: Duration::from_secs(30),
///         ..RecoveryConfig::default()
///     })
///     .build();
/// # let _ = io;
/// ```
#[derive(Clone, Debug)]
pub struct RecoveryConfig {
    /// How long a lost socket's session, and a sent packet, are kept
    /// (2 minutes).
    pub max_disconnection_duration: Duration,
    /// Whether a recovered socket skips the namespace's middlewares (true).
    pub skip_middlewares: bool,
    /// The most bytes of packets kept per namespace (64 MiB); beyond, the
    /// oldest are dropped and clients that missed them are not recovered.
    pub max_stored_bytes: usize,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig {
            max_disconnection_duration: Duration::from_secs(120),
            skip_middlewares: true,
            max_stored_bytes: 64 << 20,
        }
    }
}

/// Whether a socket that left for `reason` keeps a session.
pub(crate) fn keeps_session(reason: DisconnectReason) -> bool {
    matches!(
        reason,
        DisconnectReason::TransportClose
            | DisconnectReason::TransportError
            | DisconnectReason::PingTimeout
            | DisconnectReason::ForcedClose
            | DisconnectReason::ServerShuttingDown
    )
}

/// One namespace's recovery: its options and its [`Store`].
pub(crate) struct Recovery {
    config: RecoveryConfig,
    /// Prefix of this store's offsets, so an offset from another process or
    /// namespace is never taken for one of ours.
    epoch: String,
    store: Mutex<Store>,
}

/// What a CONNECT's auth asks to restore, checked against the store.
pub(crate) struct Restore {
    pub(crate) session: Session,
    offset: u64,
}

/// How a socket entered its namespace.
pub(crate) enum Entered {
    /// A fresh socket with this pid.
    Fresh(String),
    /// Restored; these packets were queued after the CONNECT answer.
    Recovered,
}

impl Recovery {
    pub(crate) fn new(config: RecoveryConfig) -> Arc<Self> {
        let store = Store::new(config.max_disconnection_duration, config.max_stored_bytes);
        Arc::new(Recovery {
            config,
            epoch: ClientId::random().as_str()[..8].replace('-', "_"),
            store: Mutex::new(store),
        })
    }

    pub(crate) fn skip_middlewares(&self) -> bool {
        self.config.skip_middlewares
    }

    fn offset_string(&self, seq: u64) -> String {
        format!("{}-{seq}", self.epoch)
    }

    fn parse_offset(&self, offset: &str) -> Option<u64> {
        let (epoch, seq) = offset.rsplit_once('-')?;
        (epoch == self.epoch).then_some(())?;
        seq.parse().ok()
    }

    /// A new private session id.
    pub(crate) fn new_pid() -> String {
        ClientId::random().as_str().to_string()
    }

    /// The session a CONNECT's auth names, if it can be recovered now
    /// (removed from the store: a session is restored once).
    pub(crate) fn take(&self, auth: &Value) -> Option<Restore> {
        let pid = auth.get("pid")?.as_str()?;
        let offset = self.parse_offset(auth.get("offset")?.as_str()?)?;
        let now = Instant::now();
        let mut store = self.store.lock();
        if !store.has_all_after(now, offset) {
            return None;
        }
        let session = store.take_session(now, pid)?;
        Some(Restore { session, offset })
    }

    /// Keeps the session of a socket whose connection was lost.
    pub(crate) fn persist(&self, session: Session) {
        self.store.lock().persist(Instant::now(), session);
    }

    /// Stores `message` (an EVENT without ack id, sent to `target`) with
    /// the next offset as its last argument and calls `deliver` with that
    /// copy, under the store's lock. A message that is not a JSON event
    /// array is delivered as it is and not stored.
    pub(crate) fn record<R>(
        &self,
        target: &Target,
        message: &Message,
        deliver: impl FnOnce(&Message) -> R,
    ) -> R {
        let mut store = self.store.lock();
        let offset = self.offset_string(store.next_seq());
        let Some(with_offset) = append_arg(message, &offset) else {
            drop(store);
            return deliver(message);
        };
        let result = deliver(&with_offset);
        store.push(Instant::now(), target.clone(), with_offset);
        result
    }

    /// Enters a socket into its namespace under the store's lock: `join`
    /// puts it in the hub, and in its session's rooms when told so
    /// (false: refused), `reply` sends the CONNECT answer for a pid, `send`
    /// queues one replayed packet. A restore whose packets were dropped
    /// meanwhile (middlewares that ran long) enters without its rooms and
    /// replay, under a new pid, not recovered; it keeps the id and data it
    /// was given at CONNECT.
    pub(crate) fn enter(
        &self,
        restore: Option<&Restore>,
        join: impl FnOnce(bool) -> bool,
        reply: impl FnOnce(&str),
        mut send: impl FnMut(&Message),
    ) -> Option<Entered> {
        let mut store = self.store.lock();
        let missed = restore.and_then(|r| {
            store
                .missed(Instant::now(), r.offset, &r.session)
                .map(|m| (r, m))
        });
        if !join(missed.is_some()) {
            return None;
        }
        match missed {
            Some((r, missed)) => {
                reply(&r.session.pid);
                for m in &missed {
                    send(m);
                }
                Some(Entered::Recovered)
            }
            None => {
                let pid = Self::new_pid();
                reply(&pid);
                Some(Entered::Fresh(pid))
            }
        }
    }
}

/// `message` with `arg` appended to its JSON argument array, or `None`
/// when its first frame is not text ending in `]`. Attachments are shared.
fn append_arg(message: &Message, arg: &str) -> Option<Message> {
    let frames = message.frames();
    let Some(Frame::Text(text)) = frames.first() else {
        return None;
    };
    let head = text.as_str().strip_suffix(']')?;
    let mut buf = BytesMut::with_capacity(head.len() + arg.len() + 4);
    buf.put_slice(head.as_bytes());
    buf.put_slice(b",");
    // Offsets are made of URL-safe characters, digits, `_` and `-`:
    // nothing to escape.
    buf.put_slice(b"\"");
    buf.put_slice(arg.as_bytes());
    buf.put_slice(b"\"]");
    let mut text = roomcast_core::Text::from_utf8(buf.freeze()).ok()?;
    if !frames[0].compress() {
        text = text.uncompressed();
    }
    let mut out = Vec::with_capacity(frames.len());
    out.push(Frame::Text(text));
    out.extend_from_slice(&frames[1..]);
    Some(Message::many(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_the_offset_and_keeps_attachments() {
        let m = Message::many(vec![
            Frame::text("451-[\"e\",{\"_placeholder\":true,\"num\":0}]"),
            Frame::binary(vec![1u8, 2]),
        ]);
        let out = append_arg(&m, "ab-3").unwrap();
        let Frame::Text(t) = &out.frames()[0] else {
            panic!()
        };
        assert_eq!(
            t.as_str(),
            "451-[\"e\",{\"_placeholder\":true,\"num\":0},\"ab-3\"]"
        );
        assert_eq!(out.frames()[1], m.frames()[1]);
        assert!(append_arg(&Message::from(Frame::binary(vec![1u8])), "x").is_none());
    }

    #[test]
    fn offsets_of_another_store_are_refused() {
        let a = Recovery::new(RecoveryConfig::default());
        let b = Recovery::new(RecoveryConfig::default());
        let off = a.offset_string(7);
        assert_eq!(a.parse_offset(&off), Some(7));
        assert_eq!(b.parse_offset(&off), None);
        assert_eq!(a.parse_offset("7"), None);
    }

    #[test]
    fn only_lost_connections_keep_a_session() {
        assert!(keeps_session(DisconnectReason::TransportClose));
        assert!(keeps_session(DisconnectReason::PingTimeout));
        assert!(!keeps_session(DisconnectReason::ClientNamespaceDisconnect));
        assert!(!keeps_session(DisconnectReason::ServerNamespaceDisconnect));
    }
}
