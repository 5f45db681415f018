//! A socket's part in connection state recovery (see
//! [`recovery`](crate::recovery)): the session it restores or starts, how
//! it enters its namespace, its own emits stored with an offset, and the
//! session it leaves when its connection is lost.

use roomcast_core::{Message, Room, Target};

use super::Socket;
use crate::parser::{Header, PacketType};
use crate::recovery::{keeps_session, store::Session, Entered, Restore};
use crate::{DisconnectReason, EmitError};

/// A socket's recovery state.
pub(crate) struct SocketSession {
    /// What the CONNECT asked to restore, until the socket enters (boxed:
    /// it is large, rare, and the socket lives long after it is used).
    restore: Option<Box<Restore>>,
    /// The private session id, once known.
    pid: Option<String>,
    recovered: bool,
}

impl SocketSession {
    pub(super) fn new(restore: Option<Restore>) -> Self {
        SocketSession {
            recovered: restore.is_some(),
            restore: restore.map(Box::new),
            pid: None,
        }
    }
}

impl Socket {
    /// Whether this socket was recovered after its connection was lost:
    /// same id, rooms and data as before, and every event it missed was
    /// sent again (Node: `socket.recovered`). Only with recovery on
    /// ([`ServerBuilder::recovery`](crate::ServerBuilder::recovery)).
    pub fn recovered(&self) -> bool {
        self.0.session.lock().recovered
    }

    /// Whether the middlewares are skipped for this socket.
    pub(super) fn skips_middlewares(&self) -> bool {
        self.recovered() && self.0.ns.recovery().is_some_and(|r| r.skip_middlewares())
    }

    /// Into the namespace's hub, then the CONNECT answer (with the pid
    /// when recovery is on), then, for a recovered socket, its rooms and
    /// the packets it missed. False when the hub refuses the id.
    pub(super) fn enter_namespace(&self) -> bool {
        let ns = self.0.ns.clone();
        let Some(recovery) = ns.recovery().cloned() else {
            if !ns.insert(self) {
                return false;
            }
            self.send_connect(None);
            return true;
        };
        let restore = self.0.session.lock().restore.take().map(|r| *r);
        let entered = recovery.enter(
            restore.as_ref(),
            |restore_rooms| {
                if !ns.insert(self) {
                    return false;
                }
                if let Some(r) = restore.as_ref().filter(|_| restore_rooms) {
                    let own = Room::of_client(self.0.id);
                    self.join(r.session.rooms.iter().filter(|room| **room != own).cloned());
                }
                true
            },
            |pid| self.send_connect(Some(pid)),
            |missed| {
                let _ = self.send_raw(missed);
            },
        );
        let mut session = self.0.session.lock();
        match entered {
            None => false,
            Some(Entered::Recovered) => {
                session.pid = restore.map(|r| r.session.pid);
                true
            }
            Some(Entered::Fresh(pid)) => {
                session.recovered = false;
                session.pid = Some(pid);
                true
            }
        }
    }

    fn send_connect(&self, pid: Option<&str>) {
        let data = self.protocol().connect_data(&self.0.id, pid);
        let header = Header::new(PacketType::Connect, self.0.ns.name(), None);
        let reply = self.0.ns.parser().encode_data(header, data.as_ref());
        let _ = self.send_raw(reply);
    }

    /// Queues an EVENT without ack id for this client; with recovery on, it
    /// is stored and carries its offset.
    pub(super) fn send_event(&self, message: Message) -> Result<(), EmitError> {
        match self.0.ns.recovery() {
            Some(recovery) if recovery.log().is_some() => {
                let target = Target::to([Room::of_client(self.0.id)]);
                let log = recovery.log().map(|l| l.log().clone());
                if let Some(log) = log {
                    log.append(
                        self.0.ns.name(),
                        &target,
                        Default::default(),
                        message.frames(),
                    )
                    .unwrap_or_else(
                        |e| tracing::warn!(error = %e, "event not appended to the log"),
                    );
                }
                Ok(())
            }
            Some(recovery) => {
                let target = Target::to([Room::of_client(self.0.id)]);
                recovery.record(&target, &message, |m| self.send_raw(m))
            }
            None => self.send_raw(message),
        }
    }

    /// Leaves a session behind if recovery is on and `reason` is a lost
    /// connection. Called while the socket is still in its rooms.
    pub(super) fn keep_session(&self, reason: DisconnectReason) {
        let Some(recovery) = self.0.ns.recovery() else {
            return;
        };
        if !keeps_session(reason) {
            return;
        }
        let Some(pid) = self.0.session.lock().pid.clone() else {
            return;
        };
        recovery.persist(Session {
            sid: self.0.id,
            pid,
            rooms: self.rooms(),
            data: self.data_json(),
        });
    }
}
