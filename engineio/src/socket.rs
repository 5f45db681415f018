//! One Engine.IO session.
//!
//! Semantics:
//! - **Transport**: a session starts on long-polling or WebSocket and may
//!   move once, from polling to WebSocket. Its [`Outbox`] belongs to the
//!   session, so the move neither loses nor reorders a frame (see
//!   [`roomcast_core::Endpoint`]).
//! - **Lifecycle**: one `Phase` (`phase.rs`) holds where the session is; the
//!   transports ask the session for each transition (see below), and a
//!   transition that does not apply to the current phase changes nothing.
//! - **Heartbeat**: `ping_interval` after the session opens, and after each
//!   pong, the server sends a ping; without a pong within `ping_timeout` the
//!   session closes with [`CloseReason::PingTimeout`]. In Engine.IO v3
//!   ([`Protocol::V3`]) the client pings and the server answers; without a
//!   ping for `ping_interval + ping_timeout` the session closes alike, and
//!   a pong from the client closes it with a transport error. The timer
//!   (which also ends the session at its [`Socket::expire_at`]) is the
//!   session's [`Endpoint::deadline`]: a WebSocket connection task drives
//!   it; a session that opened on long-polling has a small task for it.
//! - **Close** happens once, whichever path comes first (client close
//!   packet, server close, transport failure, ping timeout, overflow). It
//!   closes the outbox (queued frames are still flushed), stops the
//!   heartbeat, removes the session from the engine's table, calls
//!   [`Handler::on_close`](crate::Handler::on_close) and drops the
//!   handler's per-session value — after which nothing of the session
//!   remains. An overflow closes the session at once, even when no
//!   transport is writing: the WebSocket task is woken by the outbox's
//!   close while its socket is full, and a polling session's heartbeat task
//!   watches the outbox for a client that stopped polling.
//!   A polling session closed by the server stays reachable (out of the
//!   table) for one more GET, which fetches what was queued and the close
//!   packet, for at most `ping_timeout`.

use std::borrow::Cow;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use roomcast_core::{ClientId, CloseReason, Endpoint, Frame, Message, Outbox, PushError, Pushed};
use tokio::sync::futures::Notified;
use tokio::sync::Notify;

use crate::config::TransportKind;
use crate::events::{UpgradeListeners, UpgradeStep};
use crate::handshake::Handshake;
use crate::heartbeat::{Due, Heartbeat};
use crate::packet::{self, Packet};
use crate::phase::{Phase, PollRequest};
use crate::protocol::Protocol;
use crate::sessions::Sessions;

#[derive(Debug)]
struct State {
    phase: Phase,
    /// Why the session closed (set with `Phase::Closed`).
    reason: Option<CloseReason>,
    get_pending: bool,
    post_pending: bool,
}

/// The handler with one session's value: what a session calls for each of
/// its messages and for its close. Made by the engine's handler when the
/// session opens (see `handler.rs`).
pub(crate) trait BoundHandler: Send + Sync {
    fn on_message(&self, socket: &Arc<Socket>, message: Frame) -> Result<(), CloseReason>;
    fn on_close(&self, socket: &Arc<Socket>, reason: CloseReason);
}

/// What a session needs to know of its engine.
#[derive(Debug, Clone)]
pub(crate) struct SessionConfig {
    pub(crate) outbox: roomcast_core::OutboxConfig,
    pub(crate) ping_interval: Duration,
    pub(crate) ping_timeout: Duration,
}

/// One Engine.IO session. See the [module docs](self).
pub struct Socket {
    id: ClientId,
    outbox: Arc<Outbox>,
    handshake: Arc<Handshake>,
    state: Mutex<State>,
    heartbeat: Heartbeat,
    /// How long a closed polling session waits for its last GET.
    linger: Duration,
    close_signal: Notify,
    /// Wakes a held polling GET when the phase changes.
    phase_changed: Notify,
    sessions: Weak<Sessions<Socket>>,
    me: Weak<Socket>,
    /// Serializes inbound delivery (a POST body, a WebSocket read loop).
    inbound: Mutex<()>,
    /// The handler's calls with this session's value; dropped on close.
    handler: Mutex<Option<Arc<dyn BoundHandler>>>,
    /// `on_upgrading` / `on_upgrade` listeners.
    upgrades: UpgradeListeners,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.id)
            .field("phase", &self.phase())
            .finish()
    }
}

impl Socket {
    pub(crate) fn new(
        id: ClientId,
        handshake: Arc<Handshake>,
        sessions: Weak<Sessions<Socket>>,
        config: SessionConfig,
    ) -> Arc<Self> {
        let phase = match handshake.transport {
            TransportKind::Polling => Phase::Polling,
            TransportKind::WebSocket => Phase::WebSocket,
        };
        Arc::new_cyclic(|me| Socket {
            me: me.clone(),
            id,
            outbox: Arc::new(Outbox::new(config.outbox)),
            state: Mutex::new(State {
                phase,
                reason: None,
                get_pending: false,
                post_pending: false,
            }),
            heartbeat: match handshake.protocol {
                Protocol::V4 => Heartbeat::new(config.ping_interval, config.ping_timeout),
                Protocol::V3 => Heartbeat::client_pings(config.ping_interval, config.ping_timeout),
            },
            linger: config.ping_timeout,
            handshake,
            close_signal: Notify::new(),
            phase_changed: Notify::new(),
            sessions,
            inbound: Mutex::new(()),
            handler: Mutex::new(None),
            upgrades: Default::default(),
        })
    }

    /// The session id (`sid`).
    pub fn id(&self) -> ClientId {
        self.id
    }

    /// The session's outbound queue (shared with the rooms it is in).
    pub fn outbox(&self) -> &Arc<Outbox> {
        &self.outbox
    }

    /// The handshake (shared: the layer above keeps it without copying).
    pub fn handshake(&self) -> &Arc<Handshake> {
        &self.handshake
    }

    /// The session's Engine.IO revision, decided at its handshake.
    pub fn protocol(&self) -> Protocol {
        self.handshake.protocol
    }

    /// The transport in use now.
    pub fn transport(&self) -> TransportKind {
        self.phase().transport()
    }

    /// Whether the session has closed.
    pub fn is_closed(&self) -> bool {
        matches!(self.phase(), Phase::Closed(_))
    }

    /// Queues a message of Engine.IO message frames (text frames start
    /// with `4`, see [`message_text`](crate::message_text)): by value, or
    /// by reference when it goes to several sessions (as
    /// [`Outbox::push`](roomcast_core::Outbox::push)).
    pub fn send<'a>(&self, message: impl Into<Cow<'a, Message>>) -> Result<Pushed, PushError> {
        self.outbox.push(message)
    }

    /// Ends the session ([`CloseReason::Forced`]) at `at` unless moved or
    /// cancelled (`None`) first. A WebSocket reads it on opening and after
    /// each message it delivers: set it in `on_open`, change it on a message.
    pub fn expire_at(&self, at: Option<Instant>) {
        self.heartbeat.expire_at(at);
    }

    /// Calls `listener` once the session moved from polling to WebSocket
    /// (Node's `socket.conn.on("upgrade")`; see [`events`](crate::events)).
    pub fn on_upgrade(&self, listener: impl FnOnce(TransportKind) + Send + 'static) {
        self.upgrades.add(UpgradeStep::Upgrade, Box::new(listener));
    }

    /// Calls `listener` when a WebSocket answered the upgrade probe (Node's
    /// `socket.conn.on("upgrading")`).
    pub fn on_upgrading(&self, listener: impl FnOnce(TransportKind) + Send + 'static) {
        self.upgrades
            .add(UpgradeStep::Upgrading, Box::new(listener));
    }

    /// Closes the session from the server side: the client gets a close
    /// packet after everything queued before it.
    ///
    /// Over long-polling with no GET held, the client's next GET (within
    /// `ping_timeout`) still fetches what was queued and the close packet
    /// (as from Node), though the session has left the engine's table.
    pub fn close(&self, reason: CloseReason) {
        if self.outbox.push_control(Frame::Text(packet::CLOSE)).is_ok() {
            #[cfg(feature = "polling")]
            self.keep_for_last_poll();
        }
        self.shutdown(reason);
    }

    /// Keeps a polling session reachable for one more GET after it closes.
    #[cfg(feature = "polling")]
    fn keep_for_last_poll(&self) {
        let (Some(sessions), Some(me)) = (self.sessions.upgrade(), self.me.upgrade()) else {
            return;
        };
        if self.transport() != TransportKind::Polling {
            return;
        }
        // Kept before `shutdown` removes the session, so a GET finds it in
        // one table or the other.
        sessions.linger(self.id, me, self.linger);
    }

    /// Waits until the session closes.
    pub async fn closed(&self) {
        let signal = self.close_signal.notified();
        tokio::pin!(signal);
        signal.as_mut().enable();
        if !self.is_closed() {
            signal.await;
        }
    }

    // ---------------------------------------------------------------------
    // Lifecycle: every change of `Phase` happens in the methods below.
    // ---------------------------------------------------------------------

    /// Where the session is now.
    pub(crate) fn phase(&self) -> Phase {
        self.state.lock().phase
    }

    /// Completes at the next change of phase (create it before reading the
    /// phase, and enable it, so that no change is missed).
    pub(crate) fn phase_changed(&self) -> Notified<'_> {
        self.phase_changed.notified()
    }

    /// Moves from `from` to `to`; `false` (and no change) when the session
    /// is not in one of `from`.
    fn transition(&self, from: &[Phase], to: Phase) -> bool {
        {
            let mut state = self.state.lock();
            if !from.contains(&state.phase) {
                return false;
            }
            state.phase = to;
        }
        self.phase_changed.notify_waiters();
        true
    }

    /// A WebSocket is connecting to this polling session: `Polling` →
    /// `Upgrading`. `false` when the session is not on polling or another
    /// upgrade is under way.
    pub(crate) fn begin_upgrade(&self) -> bool {
        self.transition(&[Phase::Polling], Phase::Upgrading)
    }

    /// The WebSocket answered the probe: `Upgrading` → `Probed` (held GETs
    /// are answered, polling pauses).
    pub(crate) fn probe_answered(&self) -> bool {
        let done = self.transition(&[Phase::Upgrading], Phase::Probed);
        self.upgrades.fire_if(done, UpgradeStep::Upgrading);
        done
    }

    /// The client sent `5`: `Probed` → `WebSocket`. `false` when the
    /// session closed meanwhile.
    pub(crate) fn finish_upgrade(&self) -> bool {
        let done = self.transition(&[Phase::Probed], Phase::WebSocket);
        if done {
            roomcast_core::metrics::add(roomcast_core::metrics::Counter::Upgrades, 1);
        }
        self.upgrades.fire_if(done, UpgradeStep::Upgrade);
        done
    }

    /// The upgrade failed or timed out: back to `Polling`.
    pub(crate) fn abandon_upgrade(&self) -> bool {
        self.transition(&[Phase::Upgrading, Phase::Probed], Phase::Polling)
    }

    /// Claims the session's one GET or one POST; `None` when one is under
    /// way already. The claim ends when the returned guard drops.
    pub(crate) fn claim_poll(&self, request: PollRequest) -> Option<PollClaim<'_>> {
        let mut state = self.state.lock();
        let flag = match request {
            PollRequest::Get => &mut state.get_pending,
            PollRequest::Post => &mut state.post_pending,
        };
        if *flag {
            return None;
        }
        *flag = true;
        Some(PollClaim {
            socket: self,
            request,
        })
    }

    /// After a polling GET was answered: a closed session whose close packet
    /// went out needs no other request.
    #[cfg(feature = "polling")]
    pub(crate) fn polled(&self, close_sent: bool) {
        if close_sent && self.is_closed() {
            if let Some(sessions) = self.sessions.upgrade() {
                sessions.forget(self.id);
            }
        }
    }

    /// Attaches the handler's per-session calls (right after `on_open`).
    /// If the session closed during `on_open`, `on_close` is called now.
    pub(crate) fn bind(&self, handler: Arc<dyn BoundHandler>) {
        let mut slot = self.handler.lock();
        let closed = self.state.lock().reason;
        match (closed, self.me.upgrade()) {
            (Some(reason), Some(me)) => {
                drop(slot);
                handler.on_close(&me, reason);
            }
            (Some(_), None) => {}
            (None, _) => *slot = Some(handler),
        }
    }

    /// Closes the session once (→ `Closed`): see the module docs.
    pub(crate) fn shutdown(&self, reason: CloseReason) {
        {
            let mut state = self.state.lock();
            if let Phase::Closed(_) = state.phase {
                return;
            }
            state.phase = Phase::Closed(state.phase.transport());
            state.reason = Some(reason);
        }
        tracing::debug!(sid = %self.id, %reason, "engine session closed");
        self.outbox.close(reason);
        self.close_signal.notify_waiters();
        self.phase_changed.notify_waiters();
        if let Some(sessions) = self.sessions.upgrade() {
            sessions.remove(self.id);
        }
        // The handler's per-session value usually holds this session:
        // release it, or the two would keep each other alive.
        let handler = self.handler.lock().take();
        if let (Some(handler), Some(me)) = (handler, self.me.upgrade()) {
            handler.on_close(&me, reason);
        }
        self.upgrades.clear();
    }

    /// Delivers one inbound frame; see [`Endpoint::receive`].
    fn deliver(&self, frame: Frame) -> Result<(), CloseReason> {
        if self.is_closed() {
            return Ok(());
        }
        let v3 = self.protocol() == Protocol::V3;
        let packet = self.protocol().decode(frame).map_err(|e| {
            tracing::info!(sid = %self.id, error = %e, "closing session: invalid engine.io packet");
            CloseReason::ParseError
        })?;
        match packet {
            Packet::Message(message) => {
                let handler = self.handler.lock().clone();
                match (handler, self.me.upgrade()) {
                    (Some(handler), Some(me)) => handler.on_message(&me, message),
                    _ => Ok(()),
                }
            }
            Packet::Pong if v3 => {
                tracing::info!(sid = %self.id, "closing session: pong from a v3 client (invalid heartbeat direction)");
                Err(CloseReason::TransportError)
            }
            Packet::Pong => {
                self.heartbeat.pong();
                Ok(())
            }
            Packet::Ping(data) => {
                if v3 {
                    self.heartbeat.client_ping();
                }
                let answer = format!("3{}", data.as_str());
                let _ = self.outbox.push_control(Frame::text(answer));
                Ok(())
            }
            Packet::Close => Err(CloseReason::TransportClose),
            Packet::Noop => Ok(()),
            // Only meaningful while probing, which the upgrade code handles.
            Packet::Upgrade => {
                tracing::info!(sid = %self.id, "closing session: upgrade packet outside an upgrade");
                Err(CloseReason::ParseError)
            }
        }
    }

    /// Drives the heartbeat of a session that opened on long-polling (a
    /// WebSocket connection task does it otherwise); ends when the session
    /// closes. It also closes the session as soon as its outbox closes on its
    /// own (an overflow: a polling client that stopped polling has no
    /// transport to notice).
    pub(crate) async fn run_heartbeat(self: Arc<Self>) {
        loop {
            let Some(due) = self.deadline() else { return };
            tokio::select! {
                _ = self.closed() => return,
                reason = self.outbox.wait_closed() => {
                    self.shutdown(reason);
                    return;
                }
                // A pong moved the deadline.
                _ = self.heartbeat.pong_received() => continue,
                _ = tokio::time::sleep_until(due.into()) => {}
            }
            if self.on_deadline().is_err() {
                return;
            }
        }
    }
}

/// A claimed polling request (see [`Socket::claim_poll`]); the claim ends
/// when it drops, whether the request was answered or abandoned.
pub(crate) struct PollClaim<'a> {
    socket: &'a Socket,
    request: PollRequest,
}

impl Drop for PollClaim<'_> {
    fn drop(&mut self) {
        let mut state = self.socket.state.lock();
        match self.request {
            PollRequest::Get => state.get_pending = false,
            PollRequest::Post => state.post_pending = false,
        }
    }
}

impl Endpoint for Socket {
    fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    fn receive(&self, frame: Frame) -> Result<(), CloseReason> {
        let _order = self.inbound.lock();
        let result = self.deliver(frame);
        drop(_order);
        if let Err(reason) = result {
            self.shutdown(reason);
        }
        result
    }

    fn transport_closed(&self, reason: CloseReason) {
        self.shutdown(reason);
    }

    fn deadline(&self) -> Option<Instant> {
        if self.is_closed() {
            return None;
        }
        Some(self.heartbeat.deadline())
    }

    /// Sends the ping that is due, or closes the session when the pong is
    /// late or it expired. Early and repeated calls (two drivers during an
    /// upgrade) change nothing.
    fn on_deadline(&self) -> Result<(), CloseReason> {
        if self.is_closed() {
            return Ok(());
        }
        let reason = match self.heartbeat.due(Instant::now()) {
            Due::Nothing => return Ok(()),
            Due::Ping => match self.outbox.push_control(Frame::Text(packet::PING)) {
                Ok(()) => return Ok(()),
                Err(_) => self.outbox.closed().unwrap_or(CloseReason::Forced),
            },
            // The expiry closes as `close` does: with a close packet.
            Due::End(CloseReason::Forced) => {
                self.close(CloseReason::Forced);
                return Err(CloseReason::Forced);
            }
            Due::End(reason) => {
                tracing::debug!(sid = %self.id, %reason, "heartbeat deadline");
                reason
            }
        };
        self.shutdown(reason);
        Err(reason)
    }
}
