//! One Engine.IO session.
//!
//! Semantics:
//! - **Transport**: a session starts on long-polling or WebSocket and may
//!   move once, from polling to WebSocket. Its [`Outbox`] belongs to the
//!   session, so the move neither loses nor reorders a frame (see
//!   [`roomcast_core::Endpoint`]).
//! - **Heartbeat**: every `ping_interval` the server sends a ping; without a
//!   pong within `ping_timeout` the session closes with
//!   [`CloseReason::PingTimeout`].
//! - **Close** happens once, whichever path comes first (client close
//!   packet, server close, transport failure, ping timeout, overflow). It
//!   closes the outbox (queued frames are still flushed), stops the
//!   heartbeat task, calls [`Handler::on_close`], removes the session from
//!   the engine's table and releases what the layer above attached — after
//!   which nothing of the session remains. An overflow closes the session
//!   at once (the heartbeat task watches the outbox), even when no
//!   transport is there to notice: a polling client that stopped polling,
//!   a WebSocket writer blocked on a client that stopped reading.
//!   A polling session closed by the server stays reachable (out of the
//!   table) for one more GET, which fetches what was queued and the close
//!   packet, for at most `ping_timeout`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use http::{HeaderMap, Uri};
use parking_lot::Mutex;
use roomcast_core::{ClientId, CloseReason, Endpoint, Frame, Message, Outbox, PushError, Pushed};
use tokio::sync::Notify;

use crate::engine::Shared;
use crate::packet::{self, Packet};
use crate::TransportKind;

/// What the client sent when it opened the session.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// The request URI (path and query).
    pub uri: Uri,
    /// The request headers.
    pub headers: HeaderMap,
    /// The peer's address, when known.
    pub remote_addr: Option<std::net::SocketAddr>,
    /// When the session opened.
    pub issued: SystemTime,
    /// The transport the session opened on.
    pub transport: TransportKind,
}

impl Handshake {
    /// The query parameters, percent-decoded, in order.
    pub fn query(&self) -> Vec<(String, String)> {
        self.uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default()
    }
}

/// What the layer above does with sessions.
///
/// Calls for one session never overlap and come in order: `on_open`, then
/// `on_message` for each message in arrival order, then `on_close` once.
pub trait Handler: Send + Sync + 'static {
    /// A session opened.
    fn on_open(&self, socket: &Arc<Socket>);
    /// A message arrived (text without the `4`, or binary). An `Err` closes
    /// the session with that reason.
    fn on_message(&self, socket: &Arc<Socket>, message: Frame) -> Result<(), CloseReason>;
    /// The session closed.
    fn on_close(&self, socket: &Arc<Socket>, reason: CloseReason);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Upgrade {
    None,
    /// A WebSocket is connecting for this session, not yet probed.
    Connecting,
    /// The WebSocket answered the probe; polling pauses.
    Probing,
    Done,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) transport: TransportKind,
    pub(crate) upgrade: Upgrade,
    pub(crate) get_pending: bool,
    pub(crate) post_pending: bool,
}

/// One Engine.IO session. See the [module docs](self).
pub struct Socket {
    id: ClientId,
    outbox: Arc<Outbox>,
    handshake: Arc<Handshake>,
    pub(crate) state: Mutex<State>,
    closed: AtomicBool,
    close_signal: Notify,
    pong: Notify,
    /// Wakes a held polling GET when the session's state changes.
    pub(crate) poll_interrupt: Notify,
    engine: Weak<Shared>,
    me: Weak<Socket>,
    /// Serializes inbound delivery (a POST body, a WebSocket read loop).
    inbound: Mutex<()>,
    /// State the layer above attaches to the session; released on close.
    attached: Mutex<Option<Arc<dyn std::any::Any + Send + Sync>>>,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.id)
            .field("transport", &self.transport())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl Socket {
    pub(crate) fn new(
        id: ClientId,
        handshake: Handshake,
        engine: Weak<Shared>,
        outbox: roomcast_core::OutboxConfig,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| Socket {
            me: me.clone(),
            id,
            outbox: Arc::new(Outbox::new(outbox)),
            state: Mutex::new(State {
                transport: handshake.transport,
                upgrade: Upgrade::None,
                get_pending: false,
                post_pending: false,
            }),
            handshake: Arc::new(handshake),
            closed: AtomicBool::new(false),
            close_signal: Notify::new(),
            pong: Notify::new(),
            poll_interrupt: Notify::new(),
            engine,
            inbound: Mutex::new(()),
            attached: Mutex::new(None),
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

    /// The transport in use now.
    pub fn transport(&self) -> TransportKind {
        self.state.lock().transport
    }

    /// Attaches the layer above's state to this session (once; later calls,
    /// and calls once the session has closed, return `false` and change
    /// nothing). The session releases it when it closes, right after
    /// [`Handler::on_close`], so the state may hold the session itself.
    pub fn attach<T: std::any::Any + Send + Sync>(&self, state: Arc<T>) -> bool {
        let mut slot = self.attached.lock();
        if slot.is_some() || self.is_closed() {
            return false;
        }
        *slot = Some(state);
        true
    }

    /// The state attached with [`Socket::attach`], if it is a `T` (none once
    /// the session has closed and `on_close` returned).
    pub fn attached<T: std::any::Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let state = self.attached.lock().clone()?;
        state.downcast::<T>().ok()
    }

    /// Whether the session has closed.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Queues a message of Engine.IO message frames (text frames start
    /// with `4`, see [`message_text`](crate::message_text)).
    pub fn send(&self, message: &Message) -> Result<Pushed, PushError> {
        self.outbox.push(message, false)
    }

    /// Closes the session from the server side: the client gets a close
    /// packet after everything queued before it.
    ///
    /// Over long-polling with no GET held, the client's next GET (within
    /// `ping_timeout`) still fetches what was queued and the close packet,
    /// as from the reference server, though the session has left the
    /// engine's table.
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
        let (Some(engine), Some(me)) = (self.engine.upgrade(), self.me.upgrade()) else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.state.lock().transport != TransportKind::Polling {
            return;
        }
        // Inserted before `shutdown` removes the session, so a GET finds it
        // in one table or the other.
        engine.closing.insert(self.id, me);
        let (id, linger, weak) = (self.id, engine.config.ping_timeout, self.engine.clone());
        runtime.spawn(async move {
            tokio::time::sleep(linger).await;
            if let Some(engine) = weak.upgrade() {
                engine.closing.remove(&id);
            }
        });
    }

    /// After a polling GET was answered: a closed session whose close packet
    /// went out needs no other.
    #[cfg(feature = "polling")]
    pub(crate) fn polled(&self, close_sent: bool) {
        if close_sent && self.is_closed() {
            if let Some(engine) = self.engine.upgrade() {
                engine.closing.remove(&self.id);
            }
        }
    }

    /// Closes the session once: see the module docs.
    pub(crate) fn shutdown(&self, reason: CloseReason) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::debug!(sid = %self.id, %reason, "engine session closed");
        self.outbox.close(reason);
        self.close_signal.notify_waiters();
        self.poll_interrupt.notify_waiters();
        if let (Some(engine), Some(me)) = (self.engine.upgrade(), self.me.upgrade()) {
            engine.sessions.remove(&self.id);
            engine.handler.on_close(&me, reason);
        }
        // What the layer above attached usually holds this session: release
        // it, or the two would keep each other alive.
        let attached = self.attached.lock().take();
        drop(attached);
    }

    /// Waits until the session closes.
    pub async fn closed(&self) {
        let signal = self.close_signal.notified();
        tokio::pin!(signal);
        signal.as_mut().enable();
        if self.is_closed() {
            return;
        }
        signal.await;
    }

    fn handler_socket(&self) -> Option<(Arc<Shared>, Arc<Socket>)> {
        Some((self.engine.upgrade()?, self.me.upgrade()?))
    }

    /// Delivers one inbound frame; see [`Endpoint::receive`].
    fn deliver(&self, frame: Frame) -> Result<(), CloseReason> {
        if self.is_closed() {
            return Ok(());
        }
        let packet = packet::decode(frame).map_err(|e| {
            tracing::info!(sid = %self.id, error = %e, "closing session: invalid engine.io packet");
            CloseReason::ParseError
        })?;
        match packet {
            Packet::Message(message) => {
                let (engine, me) = match self.handler_socket() {
                    Some(x) => x,
                    None => return Ok(()),
                };
                engine.handler.on_message(&me, message)
            }
            Packet::Pong => {
                self.pong.notify_one();
                Ok(())
            }
            Packet::Ping(data) => {
                let mut answer = String::with_capacity(data.len() + 1);
                answer.push('3');
                answer.push_str(data.as_str());
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

    /// Sends pings and closes the session when a pong is late. Ends when the
    /// session closes.
    ///
    /// It also closes the session as soon as its outbox closes on its own
    /// (an overflow: the client does not read): no transport may be there to
    /// notice (a polling client that stopped polling, a WebSocket writer
    /// blocked on a full socket).
    pub(crate) async fn heartbeat(self: Arc<Self>, interval: Duration, timeout: Duration) {
        loop {
            tokio::select! {
                _ = self.closed() => return,
                reason = self.outbox.wait_closed() => {
                    self.shutdown(reason);
                    return;
                }
                _ = tokio::time::sleep(interval) => {}
            }
            if self.outbox.push_control(Frame::Text(packet::PING)).is_err() {
                if let Some(reason) = self.outbox.closed() {
                    self.shutdown(reason);
                }
                return;
            }
            tokio::select! {
                _ = self.closed() => return,
                reason = self.outbox.wait_closed() => {
                    self.shutdown(reason);
                    return;
                }
                _ = self.pong.notified() => {}
                _ = tokio::time::sleep(timeout) => {
                    tracing::debug!(sid = %self.id, "ping timeout");
                    self.shutdown(CloseReason::PingTimeout);
                    return;
                }
            }
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
}
