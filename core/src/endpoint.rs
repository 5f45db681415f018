//! The seam between a session and the transport that carries its frames.
//!
//! A transport (WebSocket, HTTP long-polling, a test's in-memory pipe) moves
//! frames between a peer and an [`Endpoint`], the session side:
//! - **Outbound**: the transport waits on [`Outbox::ready`], takes every
//!   queued frame with [`Outbox::drain`], writes them all and flushes once.
//!   Once `drain` reports a close reason, the transport writes what it got and
//!   ends the connection.
//! - **Inbound**: each frame from the peer goes to [`Endpoint::receive`], in
//!   arrival order, from one task at a time. An `Err` from `receive` means the
//!   peer broke the protocol: the transport ends the connection with that
//!   reason.
//! - **Close**: a transport that ends for its own reasons (peer closed, I/O
//!   error) reports it once with [`Endpoint::transport_closed`].
//! - **Moving between transports**: the outbox belongs to the session, not to
//!   the transport. The old transport stops draining before the new one
//!   starts (the session layer decides when: for Engine.IO, on the upgrade
//!   packet), so a frame is taken by exactly one transport, in order, and
//!   none is lost or duplicated by the move. Inbound order across the move is
//!   kept by the peer, which stops sending on the old transport first.
//! - **Timers**: a session may need to act at a time of its own (send a
//!   heartbeat, give up on a silent peer). [`Endpoint::deadline`] says when;
//!   a transport that runs a task per connection calls
//!   [`Endpoint::on_deadline`] once that time has passed, and reads the
//!   deadline again after every delivered burst (an answer may move it), so
//!   the session needs no task of its own. Calls that come early change
//!   nothing.

use crate::{CloseReason, Frame, Outbox};

/// The session side of a transport. See the [module docs](self).
///
/// ```
/// use roomcast_core::{CloseReason, Endpoint, Frame, Message, Outbox, OutboxConfig};
/// use std::sync::Mutex;
///
/// struct Echo { outbox: Outbox, closed: Mutex<Option<CloseReason>> }
/// impl Endpoint for Echo {
///     fn outbox(&self) -> &Outbox { &self.outbox }
///     fn receive(&self, frame: Frame) -> Result<(), CloseReason> {
///         self.outbox.push(Message::from(frame)).map(|_| ()).map_err(|_| CloseReason::SlowConsumer)
///     }
///     fn transport_closed(&self, reason: CloseReason) { *self.closed.lock().unwrap() = Some(reason); }
/// }
/// let e = Echo { outbox: Outbox::new(OutboxConfig::default()), closed: Mutex::new(None) };
/// e.receive(Frame::text("ping")).unwrap();
/// assert_eq!(e.outbox().len(), 1);
/// ```
pub trait Endpoint: Send + Sync + 'static {
    /// The queue the transport drains.
    fn outbox(&self) -> &Outbox;

    /// A frame from the peer, in arrival order.
    fn receive(&self, frame: Frame) -> Result<(), CloseReason>;

    /// The transport ended on its own (peer closed, I/O error), or found
    /// the outbox closed by an overflow. Called once per transport.
    fn transport_closed(&self, reason: CloseReason);

    /// When the session next wants [`Endpoint::on_deadline`]; `None` (the
    /// default): no timer, or the session drives its timers itself.
    fn deadline(&self) -> Option<std::time::Instant> {
        None
    }

    /// The [`deadline`](Endpoint::deadline) has passed. `Err`: the session
    /// closed with that reason (its outbox is closed; the transport writes
    /// what was queued and ends).
    fn on_deadline(&self) -> Result<(), CloseReason> {
        Ok(())
    }
}
