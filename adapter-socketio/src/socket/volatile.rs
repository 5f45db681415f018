//! A socket's volatile emit (Node's `socket.volatile.emit`): the event is
//! dropped, and counted by the outbox, when the connection's queue is full,
//! instead of disconnecting the client as a slow consumer; it is not
//! stored for connection state recovery. Ordering is the socket's: a
//! volatile event that is queued leaves in emit order with the others.

use roomcast_core::PushError;
use serde::Serialize;

use super::Socket;
use crate::reserved::check_event;
use crate::EmitError;

/// Emits of one socket that may be dropped; from [`Socket::volatile`].
///
/// ```no_run
/// # fn f(socket: roomcast_socketio::Socket) {
/// socket.volatile().emit("position", &(10, 20)).ok();
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Volatile<'a>(&'a Socket);

impl Volatile<'_> {
    /// Sends `event` unless the connection's queue is full (then it is
    /// dropped: `Ok` all the same). A reserved name is refused.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        check_event(event)?;
        let socket = self.0;
        let message = socket
            .0
            .ns
            .parser()
            .encode_event(socket.0.ns.name(), event, data, None)?;
        socket.notify_outgoing(event, data);
        match socket.0.conn.outbox().push_volatile(&message) {
            Ok(_) => Ok(()),
            Err(PushError::Closed) => Err(EmitError::Closed),
            Err(PushError::Overflow) => Err(EmitError::Overflow),
        }
    }
}

impl Socket {
    /// Emits that may be dropped when the client cannot take them now
    /// (Node's `socket.volatile`); see [`BroadcastOperator::volatile`](crate::BroadcastOperator::volatile)
    /// for broadcasts.
    pub fn volatile(&self) -> Volatile<'_> {
        Volatile(self)
    }
}
