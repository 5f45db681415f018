//! The bounded outbound queue of one connection.
//!
//! Semantics:
//! - **Ordering**: frames leave in the order they were pushed; the frames of
//!   one [`Message`] are contiguous.
//! - **Bound**: at most [`OutboxConfig::capacity`] frames wait (control
//!   frames such as heartbeats are exempt; the session layer sends at most one
//!   at a time). A message that does not fit whole is not queued.
//! - **Overflow**: a *volatile* message that does not fit is dropped and
//!   counted ([`Outbox::dropped`]). Any other message that does not fit
//!   applies the [`Overflow`] policy: by default the outbox closes with
//!   [`CloseReason::SlowConsumer`] and releases what it held, so one stalled
//!   client never makes memory grow nor slows delivery to the others.
//! - **Close**: after [`Outbox::close`] pushes fail with [`PushError::Closed`];
//!   frames queued before the close are still drained (a graceful flush),
//!   except after an overflow, where they are discarded.
//! - **Draining**: one transport at a time drains the outbox, taking
//!   everything queued in one call ([`Outbox::drain`]) so that it can write
//!   it all and flush once. This is also the hand-over point when a session
//!   moves between transports: frames stay here until the active transport
//!   takes them, so none is lost, duplicated or reordered by the move.
//!
//! - **Waking**: the drainer registers its waker with [`Outbox::poll_ready`]
//!   (or awaits [`Outbox::ready`]); only the last registered drainer is
//!   woken, once per transition from empty to non-empty, and on close.
//!
//! No lock is held across an `.await`: every method but [`Outbox::ready`] and
//! [`Outbox::wait_closed`] is synchronous, and those only wait for a wake-up.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;
use parking_lot::Mutex;
use smallvec::SmallVec;
use tokio::sync::Notify;

use crate::{CloseReason, Frame, Message};

/// What to do when a non-volatile message does not fit in a client's queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Disconnect the slow client with [`CloseReason::SlowConsumer`].
    #[default]
    Disconnect,
    /// Drop the message for that client and count it, as for volatile ones.
    Drop,
}

/// Size and overflow policy of an [`Outbox`].
///
/// ```
/// use roomcast_core::{OutboxConfig, Overflow};
/// let config = OutboxConfig { capacity: 256, overflow: Overflow::Disconnect };
/// assert_eq!(OutboxConfig::default().overflow, Overflow::Disconnect);
/// # let _ = config;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutboxConfig {
    /// The most frames that may wait in the queue.
    pub capacity: usize,
    /// What happens when a non-volatile message does not fit.
    pub overflow: Overflow,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            capacity: 4096,
            overflow: Overflow::Disconnect,
        }
    }
}

/// What happened to a pushed message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// The message is queued.
    Queued,
    /// The message did not fit and was dropped (volatile, or [`Overflow::Drop`]).
    Dropped,
}

/// Why a message could not be pushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// The outbox is closed; the connection is going away.
    #[error("the outbox is closed")]
    Closed,
    /// The message did not fit and the policy closed the outbox.
    #[error("the client's outbound queue is full; the client was disconnected")]
    Overflow,
}

/// The bounded outbound queue of one connection. See the [module docs](self).
///
/// ```
/// use roomcast_core::{Frame, Message, Outbox, OutboxConfig, Pushed};
/// let outbox = Outbox::new(OutboxConfig::default());
/// assert_eq!(outbox.push(&Message::from(Frame::text("hi"))), Ok(Pushed::Queued));
/// let mut batch = Vec::new();
/// outbox.drain(&mut batch);
/// assert_eq!(batch, vec![Frame::text("hi")]);
/// ```
#[derive(Debug)]
pub struct Outbox {
    state: Mutex<State>,
    /// The drainer's waker.
    ready: AtomicWaker,
    /// Wakes [`Outbox::wait_closed`] (the session's watcher, not the drainer).
    closing: Notify,
    config: OutboxConfig,
    dropped: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    /// One frame is held inline: a connection that gets one message at a
    /// time queues it without allocating, and an idle one holds no heap.
    frames: SmallVec<[Frame; 1]>,
    closed: Option<CloseReason>,
    /// How many frames the last drain took: the queue's first allocation
    /// after a drain makes room for as many (up to 64), instead of growing
    /// 4, 8, 16… while a batch of broadcasts arrives.
    last_batch: u8,
}

impl Outbox {
    /// An empty, open outbox.
    pub fn new(config: OutboxConfig) -> Self {
        Outbox {
            state: Mutex::new(State::default()),
            ready: AtomicWaker::new(),
            closing: Notify::new(),
            config,
            dropped: AtomicU64::new(0),
        }
    }

    /// Queues a message, applying the bound and the overflow policy: one
    /// that does not fit disconnects the client (or is dropped under
    /// [`Overflow::Drop`]).
    ///
    /// Takes the message (`Message`) or a reference to it (`&Message`, for
    /// a message sent to several connections: each queue then holds a
    /// reference to the same bytes). Give it by value when it is not used
    /// after: its frames are moved in, and a text made from a `String`
    /// then never needs the shared header that a copy of its bytes would
    /// allocate.
    pub fn push<'a>(&self, message: impl Into<Cow<'a, Message>>) -> Result<Pushed, PushError> {
        self.enqueue(message.into(), false)
    }

    /// Queues a volatile message: one that does not fit is dropped and
    /// counted, never a reason to disconnect. Takes what [`Outbox::push`]
    /// takes.
    pub fn push_volatile<'a>(
        &self,
        message: impl Into<Cow<'a, Message>>,
    ) -> Result<Pushed, PushError> {
        self.enqueue(message.into(), true)
    }

    fn enqueue(&self, message: Cow<'_, Message>, volatile: bool) -> Result<Pushed, PushError> {
        let frames = message.frames();
        let mut state = self.state.lock();
        if state.closed.is_some() {
            return Err(PushError::Closed);
        }
        if state.frames.len() + frames.len() > self.config.capacity {
            if volatile || self.config.overflow == Overflow::Drop {
                drop(state);
                self.dropped.fetch_add(1, Ordering::Relaxed);
                crate::metrics::add(crate::metrics::Counter::Dropped, 1);
                return Ok(Pushed::Dropped);
            }
            state.closed = Some(CloseReason::SlowConsumer);
            state.frames = SmallVec::new();
            drop(state);
            crate::metrics::add(crate::metrics::Counter::SlowDisconnects, 1);
            self.wake();
            self.closing.notify_waiters();
            return Err(PushError::Overflow);
        }
        let was_empty = state.frames.is_empty();
        if was_empty && frames.len() < usize::from(state.last_batch) {
            let room = usize::from(state.last_batch);
            state.frames.reserve_exact(room);
        }
        match message {
            Cow::Owned(Message::One(frame)) => state.frames.push(frame),
            message => state.frames.extend(message.frames().iter().cloned()),
        }
        drop(state);
        if was_empty {
            self.ready.wake();
        }
        Ok(Pushed::Queued)
    }

    /// Queues a control frame (heartbeat, noop, close) outside the bound.
    pub fn push_control(&self, frame: Frame) -> Result<(), PushError> {
        let mut state = self.state.lock();
        if state.closed.is_some() {
            return Err(PushError::Closed);
        }
        let was_empty = state.frames.is_empty();
        state.frames.push(frame);
        drop(state);
        if was_empty {
            self.ready.wake();
        }
        Ok(())
    }

    /// Closes the outbox. Frames already queued can still be drained.
    ///
    /// Returns `false` when it was already closed (the first reason stays).
    pub fn close(&self, reason: CloseReason) -> bool {
        let mut state = self.state.lock();
        if state.closed.is_some() {
            return false;
        }
        state.closed = Some(reason);
        drop(state);
        self.wake();
        self.closing.notify_waiters();
        true
    }

    /// Moves every queued frame to the end of `batch`, in order. The queue
    /// gives back any heap it grew: a drainer that keeps one `batch` (per
    /// thread, say) moves frames without allocating.
    ///
    /// Returns the close reason once the outbox is closed; the frames queued
    /// before the close come with it (drain, write, then end the transport).
    pub fn drain(&self, batch: &mut Vec<Frame>) -> Option<CloseReason> {
        let mut state = self.state.lock();
        state.last_batch = state.frames.len().min(64) as u8;
        let frames = std::mem::take(&mut state.frames);
        let closed = state.closed;
        drop(state);
        batch.extend(frames);
        closed
    }

    /// Waits until a frame is queued or the outbox is closed.
    ///
    /// Cancel-safe. Meant for the one transport that drains the outbox.
    pub async fn ready(&self) {
        std::future::poll_fn(|cx| self.poll_ready(cx)).await
    }

    /// `Ready` when a frame is queued or the outbox is closed; otherwise
    /// registers `cx`'s waker (replacing the previous drainer's) and
    /// returns `Pending`.
    pub fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.ready.register(cx.waker());
        let state = self.state.lock();
        if !state.frames.is_empty() || state.closed.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Waits until the outbox is closed (by [`Outbox::close`] or by an
    /// overflow) and returns why. Cancel-safe; any number of tasks may wait.
    /// The session layer uses it to end a session whose client overflowed
    /// even while no transport is draining (a stalled writer, no poll).
    pub async fn wait_closed(&self) -> CloseReason {
        loop {
            let notified = self.closing.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(reason) = self.state.lock().closed {
                return reason;
            }
            notified.await;
        }
    }

    /// Wakes a waiting drainer without queueing anything, e.g. so that a
    /// transport that is being replaced re-checks its state.
    pub fn wake(&self) {
        self.ready.wake();
    }

    /// The close reason, once closed.
    pub fn closed(&self) -> Option<CloseReason> {
        self.state.lock().closed
    }

    /// Number of frames waiting.
    pub fn len(&self) -> usize {
        self.state.lock().frames.len()
    }

    /// Whether no frame is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of messages dropped because they did not fit.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The configuration.
    pub fn config(&self) -> OutboxConfig {
        self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(s: &str) -> Message {
        Message::from(Frame::text(s))
    }

    fn small(capacity: usize, overflow: Overflow) -> Outbox {
        Outbox::new(OutboxConfig { capacity, overflow })
    }

    #[test]
    fn keeps_order_and_message_frames_together() {
        let o = small(10, Overflow::Disconnect);
        o.push(msg("a")).unwrap();
        o.push(Message::many(vec![
            Frame::text("h"),
            Frame::binary(vec![1]),
            Frame::binary(vec![2]),
        ]))
        .unwrap();
        o.push(msg("b")).unwrap();
        let mut out = Vec::new();
        assert_eq!(o.drain(&mut out), None);
        assert_eq!(
            out,
            vec![
                Frame::text("a"),
                Frame::text("h"),
                Frame::binary(vec![1]),
                Frame::binary(vec![2]),
                Frame::text("b")
            ]
        );
        assert!(o.is_empty());
    }

    #[test]
    fn volatile_is_dropped_when_full_and_counted() {
        let o = small(2, Overflow::Disconnect);
        o.push(msg("a")).unwrap();
        o.push_volatile(msg("b")).unwrap();
        assert_eq!(o.push_volatile(msg("c")), Ok(Pushed::Dropped));
        assert_eq!(o.dropped(), 1);
        assert_eq!(o.closed(), None);
    }

    #[test]
    fn overflow_disconnects_and_releases_memory() {
        let o = small(2, Overflow::Disconnect);
        o.push(msg("a")).unwrap();
        o.push(msg("b")).unwrap();
        assert_eq!(o.push(msg("c")), Err(PushError::Overflow));
        assert_eq!(o.closed(), Some(CloseReason::SlowConsumer));
        assert_eq!(o.len(), 0);
        assert_eq!(o.push(msg("d")), Err(PushError::Closed));
    }

    #[test]
    fn a_message_that_does_not_fit_whole_is_not_split() {
        let o = small(3, Overflow::Drop);
        o.push(msg("a")).unwrap();
        let big = Message::many(vec![
            Frame::text("h"),
            Frame::binary(vec![1]),
            Frame::binary(vec![2]),
        ]);
        assert_eq!(o.push(&big), Ok(Pushed::Dropped));
        assert_eq!(o.len(), 1);
    }

    #[test]
    fn close_keeps_queued_frames_for_a_final_flush() {
        let o = small(4, Overflow::Disconnect);
        o.push(msg("a")).unwrap();
        assert!(o.close(CloseReason::ServerShutdown));
        assert!(!o.close(CloseReason::TransportClose));
        let mut out = Vec::new();
        assert_eq!(o.drain(&mut out), Some(CloseReason::ServerShutdown));
        assert_eq!(out, vec![Frame::text("a")]);
    }

    #[tokio::test]
    async fn ready_wakes_on_push_and_on_close() {
        let o = std::sync::Arc::new(small(4, Overflow::Disconnect));
        let waiter = {
            let o = o.clone();
            tokio::spawn(async move { o.ready().await })
        };
        tokio::task::yield_now().await;
        o.push(msg("a")).unwrap();
        waiter.await.unwrap();

        let mut out = Vec::new();
        o.drain(&mut out);
        let waiter = {
            let o = o.clone();
            tokio::spawn(async move { o.ready().await })
        };
        tokio::task::yield_now().await;
        o.close(CloseReason::Forced);
        waiter.await.unwrap();
    }

    #[tokio::test]
    async fn wait_closed_wakes_on_overflow_and_on_close() {
        let o = std::sync::Arc::new(small(1, Overflow::Disconnect));
        let waiter = {
            let o = o.clone();
            tokio::spawn(async move { o.wait_closed().await })
        };
        tokio::task::yield_now().await;
        o.push(msg("a")).unwrap();
        assert_eq!(o.push(msg("b")), Err(PushError::Overflow));
        assert_eq!(waiter.await.unwrap(), CloseReason::SlowConsumer);

        let o = small(1, Overflow::Disconnect);
        o.close(CloseReason::Forced);
        assert_eq!(o.wait_closed().await, CloseReason::Forced);
    }
}
