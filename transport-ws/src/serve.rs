//! [`WsConnection::serve`]: one task moves frames both ways and drives the
//! session's timers. See the [crate docs](crate) for its semantics.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use roomcast_core::{CloseReason, Endpoint};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Sleep;

use crate::error::ReadEnd;
use crate::scratch::{return_scratch, take_scratch, BATCH_SCRATCH};
use crate::{WsConnection, WsError};

/// Reads per turn before the outbox gets its turn (each read takes up to
/// 64 KiB, every complete message in it delivered).
const READS_PER_TURN: usize = 4;

/// What one [`WsConnection::serve`] keeps between polls. (The frames
/// taken from the outbox are a local of each write: an idle connection
/// keeps no vector for them.)
struct ServeState {
    /// The deadline the timer is set to (`None`: not armed).
    armed: Option<Instant>,
    /// The endpoint's deadline may have moved: read it again. It moves only
    /// with what the peer sends and with `on_deadline`, so it is read after
    /// those, not on every wake-up.
    deadline_stale: bool,
    /// Set once the connection is ending: the last bytes are being written.
    ending: Option<CloseReason>,
    /// Until when the last bytes may take, once ending; the timer is set to
    /// it only if the socket does not take them at once (setting a timer
    /// that is due before the runtime's next one wakes the runtime's
    /// driver: a syscall saved on most connections).
    grace_until: Option<Instant>,
}

impl<S> WsConnection<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    /// Carries frames both ways between the peer and `endpoint` until either
    /// side closes, and calls [`Endpoint::on_deadline`] when the endpoint's
    /// deadline passes. Returns why the connection ended; the endpoint has
    /// been told through [`Endpoint::transport_closed`] when the end came
    /// from the peer, the socket, or an overflow of its outbox.
    ///
    /// The future lives as long as the connection, inside its task: it
    /// holds the connection once (an `async fn` taking `self` would keep
    /// the argument and a moved copy of it side by side), its timer and a
    /// few flags.
    pub fn serve<'a>(self, endpoint: &'a dyn Endpoint) -> impl Future<Output = CloseReason> + 'a
    where
        S: 'a,
    {
        let mut conn = self;
        async move {
            let timer = tokio::time::sleep(conn.config.close_grace);
            tokio::pin!(timer);
            let mut state = ServeState {
                armed: None,
                deadline_stale: true,
                ending: None,
                grace_until: None,
            };
            poll_fn(|cx| conn.poll_serve(cx, endpoint, timer.as_mut(), &mut state)).await
        }
    }

    fn poll_serve(
        &mut self,
        cx: &mut Context<'_>,
        endpoint: &dyn Endpoint,
        mut timer: Pin<&mut Sleep>,
        state: &mut ServeState,
    ) -> Poll<CloseReason> {
        loop {
            if let Some(reason) = state.ending {
                return self.poll_last_bytes(cx, timer, reason, &mut state.grace_until);
            }

            // Inbound: what `recv` read ahead, then up to READS_PER_TURN reads.
            for frame in self.backlog.take().into_iter().flat_map(|b| *b) {
                state.deadline_stale = true;
                if let Err(reason) = endpoint.receive(frame) {
                    self.end(cx, ReadEnd::Refused(reason), endpoint, state);
                    break;
                }
            }
            if state.ending.is_some() {
                continue;
            }
            let mut more_to_read = true;
            for _ in 0..READS_PER_TURN {
                let mut delivered = false;
                let read = self.poll_read_messages(cx, &mut |f| {
                    delivered = true;
                    endpoint.receive(f)
                });
                state.deadline_stale |= delivered;
                match read {
                    Poll::Pending => {
                        more_to_read = false;
                        break;
                    }
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(stop)) => {
                        self.end(cx, stop, endpoint, state);
                        break;
                    }
                }
            }
            if state.ending.is_some() {
                continue;
            }

            // Outbound: pongs owed, then everything queued, in one write.
            // While the socket is full the outbox is left alone, unless it
            // closed: then its last frames queue behind the unsent bytes.
            let flushed = match self.poll_flush_unsent(cx) {
                Poll::Ready(Err(e)) => return self.failed(e, endpoint),
                Poll::Ready(Ok(())) => true,
                Poll::Pending => false,
            };
            let outbox = endpoint.outbox();
            if outbox.poll_ready(cx).is_ready() && (flushed || outbox.closed().is_some()) {
                // The batch is the thread's: draining into it and writing
                // it out allocate nothing, and no connection keeps one.
                let mut batch = take_scratch(&BATCH_SCRATCH);
                let closed = outbox.drain(&mut batch);
                let written = self.write_frames(cx, &mut batch);
                batch.clear();
                return_scratch(&BATCH_SCRATCH, batch);
                if let Err(e) = written {
                    return self.failed(e, endpoint);
                }
                if let Some(reason) = closed {
                    if reason == CloseReason::SlowConsumer {
                        endpoint.transport_closed(reason);
                    }
                    self.queue_close(None);
                    self.begin_ending(reason, state);
                    continue;
                }
            }

            // Timers.
            if state.deadline_stale {
                state.deadline_stale = false;
                let deadline = endpoint.deadline();
                if deadline != state.armed {
                    if let Some(at) = deadline {
                        timer.as_mut().reset(at.into());
                    }
                    state.armed = deadline;
                }
            }
            if state.armed.is_some() && timer.as_mut().poll(cx).is_ready() {
                state.armed = None;
                state.deadline_stale = true;
                // An `Err` closed the session and its outbox: the next
                // round writes what was queued and ends.
                let _ = endpoint.on_deadline();
                continue;
            }

            if more_to_read {
                cx.waker().wake_by_ref();
            }
            return Poll::Pending;
        }
    }

    /// Reading stopped: answer the peer as the reason requires and start
    /// ending.
    fn end(
        &mut self,
        cx: &mut Context<'_>,
        stop: ReadEnd,
        endpoint: &dyn Endpoint,
        state: &mut ServeState,
    ) {
        let reason = match stop {
            ReadEnd::Refused(reason) => {
                // The session layer decided; it knows already, and closed
                // its outbox: what it queued before goes out first.
                let mut batch = Vec::new();
                let _ = endpoint.outbox().drain(&mut batch);
                if self.write_frames(cx, &mut batch).is_err() {
                    self.unsent = Vec::new();
                }
                let code = if reason == CloseReason::ParseError {
                    1002
                } else {
                    1000
                };
                self.queue_close(Some(code));
                reason
            }
            ReadEnd::Connection(e) => {
                let reason = match &e {
                    WsError::Closed => CloseReason::TransportClose,
                    WsError::Io(err) => {
                        tracing::debug!(error = %err, "websocket read failed");
                        CloseReason::TransportError
                    }
                    WsError::TooBig => {
                        tracing::info!("closing connection: websocket message over the size limit");
                        CloseReason::TransportError
                    }
                    WsError::Protocol(_) | WsError::InvalidUtf8 => {
                        tracing::info!(error = %e, "closing connection: invalid websocket data");
                        CloseReason::TransportError
                    }
                };
                if let Some(code) = e.close_code() {
                    self.queue_close(Some(code));
                }
                endpoint.transport_closed(reason);
                reason
            }
        };
        self.begin_ending(reason, state);
    }

    fn begin_ending(&mut self, reason: CloseReason, state: &mut ServeState) {
        state.ending = Some(reason);
        state.armed = None;
        state.grace_until = Some(Instant::now() + self.config.close_grace);
    }

    /// Writes the last bytes (queued frames, the close frame) within the
    /// grace period; a peer that does not take them in time is dropped.
    /// The stream is shut down after them unless the peer closed first (its
    /// close frame answered): the stream is dropped, so closed, right after.
    fn poll_last_bytes(
        &mut self,
        cx: &mut Context<'_>,
        mut timer: Pin<&mut Sleep>,
        reason: CloseReason,
        grace_until: &mut Option<Instant>,
    ) -> Poll<CloseReason> {
        match self.poll_flush_unsent(cx) {
            Poll::Ready(Ok(())) => {
                if reason != CloseReason::TransportClose {
                    let _ = Pin::new(&mut self.io).poll_shutdown(cx);
                }
                Poll::Ready(reason)
            }
            Poll::Ready(Err(e)) => {
                tracing::debug!(error = %e, "websocket write failed while closing");
                Poll::Ready(reason)
            }
            Poll::Pending => {
                if let Some(at) = grace_until.take() {
                    timer.as_mut().reset(at.into());
                }
                if timer.poll(cx).is_ready() {
                    tracing::debug!(
                        "the peer did not take its last frames in time; connection dropped"
                    );
                    return Poll::Ready(CloseReason::TransportError);
                }
                Poll::Pending
            }
        }
    }

    fn failed(&mut self, e: std::io::Error, endpoint: &dyn Endpoint) -> Poll<CloseReason> {
        tracing::debug!(error = %e, "websocket write failed");
        endpoint.transport_closed(CloseReason::TransportError);
        Poll::Ready(CloseReason::TransportError)
    }
}
