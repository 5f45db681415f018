//! What the layer above does with sessions: [`Handler`], and how the
//! engine keeps each session's value typed.
//!
//! Calls for one session never overlap and come in order: `on_open`, then
//! `on_message` for each message in arrival order, then `on_close` once.
//! The value `on_open` returns is stored with the session (as a
//! `Bound<H>`, with its type) and given to every later call; the session
//! drops it right after `on_close`.

use std::sync::Arc;

use roomcast_core::{CloseReason, Frame};

use crate::socket::{BoundHandler, Socket};

/// What the layer above does with sessions.
///
/// Calls for one session never overlap and come in order: `on_open`, then
/// `on_message` for each message in arrival order, then `on_close` once.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use roomcast_core::{CloseReason, Frame};
/// use roomcast_engineio::{Handler, Socket};
///
/// /// Counts each session's messages.
/// struct Counter;
/// impl Handler for Counter {
///     type Session = AtomicUsize;
///     fn on_open(&self, _: &Arc<Socket>) -> AtomicUsize {
///         AtomicUsize::new(0)
///     }
///     fn on_message(&self, _: &Arc<Socket>, count: &AtomicUsize, _: Frame) -> Result<(), CloseReason> {
///         count.fetch_add(1, Ordering::Relaxed);
///         Ok(())
///     }
///     fn on_close(&self, socket: &Arc<Socket>, count: &AtomicUsize, _: CloseReason) {
///         println!("{} sent {} messages", socket.id(), count.load(Ordering::Relaxed));
///     }
/// }
/// ```
pub trait Handler: Send + Sync + 'static {
    /// What the handler keeps for each session (`()` for nothing): made by
    /// `on_open`, given to every later call for that session, dropped by
    /// the session right after `on_close` (so it may hold the session).
    type Session: Send + Sync + 'static;
    /// A session opened.
    fn on_open(&self, socket: &Arc<Socket>) -> Self::Session;
    /// A message arrived (text without the `4`, or binary). An `Err` closes
    /// the session with that reason.
    fn on_message(
        &self,
        socket: &Arc<Socket>,
        session: &Self::Session,
        message: Frame,
    ) -> Result<(), CloseReason>;
    /// The session closed.
    fn on_close(&self, socket: &Arc<Socket>, session: &Self::Session, reason: CloseReason);
}

/// The engine's handler, whatever its session type: opens sessions.
pub(crate) trait OpenSession: Send + Sync {
    /// Calls `on_open` and binds its value to the session.
    fn open(&self, socket: &Arc<Socket>);
}

impl<H: Handler> OpenSession for Arc<H> {
    fn open(&self, socket: &Arc<Socket>) {
        let session = self.on_open(socket);
        socket.bind(Arc::new(Bound {
            handler: self.clone(),
            session,
        }));
    }
}

/// A handler with one session's value.
struct Bound<H: Handler> {
    handler: Arc<H>,
    session: H::Session,
}

impl<H: Handler> BoundHandler for Bound<H> {
    fn on_message(&self, socket: &Arc<Socket>, message: Frame) -> Result<(), CloseReason> {
        self.handler.on_message(socket, &self.session, message)
    }

    fn on_close(&self, socket: &Arc<Socket>, reason: CloseReason) {
        self.handler.on_close(socket, &self.session, reason);
    }
}
