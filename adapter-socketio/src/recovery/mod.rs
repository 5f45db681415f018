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

pub(crate) mod log;
pub(crate) mod store;

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use roomcast_core::{ClientId, Message, Target};
use serde_json::Value;

use crate::parser::Parser;
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
    /// The cluster's shared log, when it has one: sessions and packets
    /// are kept there instead of in `store` ([`log`]).
    log: Option<log::LogRecovery>,
    /// Appends offsets to the encoded events.
    parser: Arc<dyn Parser>,
}

/// What a CONNECT's auth asks to restore, checked against the store.
pub(crate) struct Restore {
    pub(crate) session: Session,
    from: Source,
}

/// Where a restore's missed packets come from.
enum Source {
    /// This node's store, after this offset.
    Memory(u64),
    /// The cluster's log.
    Log(log::Pending),
}

/// How a socket entered its namespace.
pub(crate) enum Entered {
    /// A fresh socket with this pid.
    Fresh(String),
    /// Restored; these packets were queued after the CONNECT answer.
    Recovered,
}

impl Recovery {
    /// Recovery for namespace `scope`, through the cluster's `log` when
    /// it keeps one; `parser` appends offsets to the encoded events.
    pub(crate) fn new(
        config: RecoveryConfig,
        scope: &str,
        log: Option<Arc<dyn roomcast_core::cluster::log::SessionLog>>,
        parser: Arc<dyn Parser>,
    ) -> Arc<Self> {
        let store = Store::new(config.max_disconnection_duration, config.max_stored_bytes);
        Arc::new(Recovery {
            config,
            epoch: ClientId::random().as_str()[..8].replace('-', "_"),
            store: Mutex::new(store),
            log: log.map(|l| log::LogRecovery::new(l, scope, parser.clone())),
            parser,
        })
    }

    /// The log this namespace recovers through, if any.
    pub(crate) fn log(&self) -> Option<&log::LogRecovery> {
        self.log.as_ref()
    }

    /// Whether a CONNECT with this auth asks the log for a session (an
    /// asynchronous round trip: see [`Recovery::take_from_log`]).
    pub(crate) fn asks_log(&self, auth: &Value) -> bool {
        self.log.is_some()
            && auth.get("pid").is_some_and(Value::is_string)
            && auth.get("offset").is_some_and(Value::is_string)
    }

    /// The session a CONNECT's auth names, from the cluster's log.
    pub(crate) async fn take_from_log(&self, auth: &Value) -> Option<Restore> {
        let (session, pending) = self.log.as_ref()?.take(auth).await?;
        Some(Restore {
            session,
            from: Source::Log(pending),
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
        if self.log.is_some() {
            return None;
        }
        let pid = auth.get("pid")?.as_str()?;
        let offset = self.parse_offset(auth.get("offset")?.as_str()?)?;
        let now = Instant::now();
        let mut store = self.store.lock();
        if !store.has_all_after(now, offset) {
            return None;
        }
        let session = store.take_session(now, pid)?;
        Some(Restore {
            session,
            from: Source::Memory(offset),
        })
    }

    /// Keeps the session of a socket whose connection was lost.
    pub(crate) fn persist(&self, session: Session) {
        if let Some(log) = &self.log {
            let saved = roomcast_core::cluster::log::SavedSession {
                sid: session.sid.as_str().to_string(),
                pid: session.pid,
                rooms: session.rooms,
                data: session.data.to_string().into_bytes(),
            };
            log.log()
                .persist(log.scope(), saved, self.config.max_disconnection_duration);
            return;
        }
        self.store.lock().persist(Instant::now(), session);
    }

    /// Stores `message` (an EVENT without ack id, sent to `target`) with
    /// the next offset as its last argument (written in by the parser) and calls `deliver` with that
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
        let Some(with_offset) = self.parser.append_arg(message, &offset) else {
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
        if let Some(log) = &self.log {
            let Some((r, Source::Log(pending))) = restore.map(|r| (r, &r.from)) else {
                if !join(false) {
                    return None;
                }
                let pid = Self::new_pid();
                reply(&pid);
                return Some(Entered::Fresh(pid));
            };
            let pid = std::cell::OnceCell::new();
            let recovered = log.enter(
                &r.session,
                pending,
                join,
                |recovered| {
                    let p = pid.get_or_init(|| match recovered {
                        true => r.session.pid.clone(),
                        false => Self::new_pid(),
                    });
                    reply(p);
                },
                send,
            )?;
            return Some(match (recovered, pid.into_inner()) {
                (true, _) => Entered::Recovered,
                (false, p) => Entered::Fresh(p.unwrap_or_else(Self::new_pid)),
            });
        }
        let mut store = self.store.lock();
        let missed = restore.and_then(|r| match r.from {
            Source::Memory(offset) => store
                .missed(Instant::now(), offset, &r.session)
                .map(|m| (r, m)),
            Source::Log(_) => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_of_another_store_are_refused() {
        let json = Arc::new(crate::parser::JsonParser::new());
        let a = Recovery::new(RecoveryConfig::default(), "/", None, json.clone());
        let b = Recovery::new(RecoveryConfig::default(), "/", None, json);
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
