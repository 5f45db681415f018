//! One Engine.IO session.
//!
//! Semantics:
//! - **Transport**: a session starts on long-polling or WebSocket and may
//!   move once, from polling to WebSocket. Its [`Outbox`] belongs to the
//!   session, so the move neither loses nor reorders a frame (see
//!   [`roomcast_core::Endpoint`]).
//! - **Heartbeat**: `ping_interval` after the session opens, and after each
//!   pong, the server sends a ping; without a pong within `ping_timeout` the
//!   session closes with [`CloseReason::PingTimeout`]. The timer is the
//!   session's [`Endpoint::deadline`]: a WebSocket connection task drives it;
//!   a session that opened on long-polling has a small task for it.
//! - **Close** happens once, whichever path comes first (client close
//!   packet, server close, transport failure, ping timeout, overflow). It
//!   closes the outbox (queued frames are still flushed), stops the
//!   heartbeat, calls [`Handler::on_close`], removes the session from
//!   the engine's table and releases what the layer above attached — after
//!   which nothing of the session remains. An overflow closes the session
//!   at once, even when no transport is writing: the WebSocket task is
//!   woken by the outbox's close while its socket is full, and a polling
//!   session's heartbeat task watches the outbox for a client that stopped
//!   polling.
//!   A polling session closed by the server stays reachable (out of the
//!   table) for one more GET, which fetches what was queued and the close
//!   packet, for at most `ping_timeout`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant, SystemTime};

use http::{HeaderMap, Uri};
use parking_lot::Mutex;
use roomcast_core::{ClientId, CloseReason, Endpoint, Frame, Message, Outbox, PushError, Pushed};
use tokio::sync::Notify;

use crate::engine::Shared;
use crate::packet::{self, Packet};
use crate::TransportKind;

/// What the client sent when it opened the session.
///
/// The headers are kept in one compact block and turned into a
/// [`HeaderMap`] the first time [`Handshake::headers`] is called: most
/// sessions never look at them, and a map costs several times their size.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// The request URI (path and query).
    pub uri: Uri,
    /// `name:value\n` for each header, in order.
    raw_headers: Box<[u8]>,
    headers: OnceLock<HeaderMap>,
    /// The peer's address, when known.
    pub remote_addr: Option<std::net::SocketAddr>,
    /// When the session opened.
    pub issued: SystemTime,
    /// The transport the session opened on.
    pub transport: TransportKind,
}

impl Handshake {
    /// A handshake of a request with these headers (copied).
    ///
    /// ```
    /// use roomcast_engineio::{Handshake, TransportKind};
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("x-token", "abc".parse().unwrap());
    /// let hs = Handshake::new("/engine.io/?EIO=4".parse().unwrap(), &headers, None, TransportKind::Polling);
    /// assert_eq!(hs.headers().get("x-token").unwrap(), "abc");
    /// ```
    pub fn new(
        uri: Uri,
        headers: &HeaderMap,
        remote_addr: Option<std::net::SocketAddr>,
        transport: TransportKind,
    ) -> Self {
        let size = headers
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 2)
            .sum();
        let mut raw = Vec::with_capacity(size);
        for (name, value) in headers {
            raw.extend_from_slice(name.as_str().as_bytes());
            raw.push(b':');
            raw.extend_from_slice(value.as_bytes());
            raw.push(b'\n');
        }
        Handshake {
            uri,
            raw_headers: raw.into_boxed_slice(),
            headers: OnceLock::new(),
            remote_addr,
            issued: SystemTime::now(),
            transport,
        }
    }

    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        self.headers.get_or_init(|| {
            let mut map = HeaderMap::new();
            // Names never hold ':' and values never hold '\n' (both were
            // valid header parts), so the split is exact.
            for line in self.raw_headers.split(|b| *b == b'\n') {
                let Some(colon) = line.iter().position(|b| *b == b':') else {
                    continue;
                };
                let name = http::HeaderName::from_bytes(&line[..colon]);
                let value = http::HeaderValue::from_bytes(&line[colon + 1..]);
                if let (Ok(name), Ok(value)) = (name, value) {
                    map.append(name, value);
                }
            }
            map
        })
    }

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
    /// When the next ping is due, or, while a pong is awaited, when it is late.
    ping_due: Instant,
    awaiting_pong: bool,
}

/// The heartbeat's two periods.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Heartbeat {
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
}

/// One Engine.IO session. See the [module docs](self).
pub struct Socket {
    id: ClientId,
    outbox: Arc<Outbox>,
    handshake: Arc<Handshake>,
    pub(crate) state: Mutex<State>,
    heartbeat: Heartbeat,
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
        handshake: Arc<Handshake>,
        engine: Weak<Shared>,
        outbox: roomcast_core::OutboxConfig,
        heartbeat: Heartbeat,
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
                ping_due: Instant::now() + heartbeat.interval,
                awaiting_pong: false,
            }),
            heartbeat,
            handshake,
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
                {
                    let mut state = self.state.lock();
                    if state.awaiting_pong {
                        state.awaiting_pong = false;
                        state.ping_due = Instant::now() + self.heartbeat.interval;
                    }
                }
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

    /// Drives the heartbeat of a session that opened on long-polling (a
    /// WebSocket connection task does it otherwise); ends when the session
    /// closes. It also closes the session as soon as its outbox closes on its
    /// own (an overflow: a polling client that stopped polling has no
    /// transport to notice).
    pub(crate) async fn heartbeat(self: Arc<Self>) {
        loop {
            let Some(due) = self.deadline() else { return };
            tokio::select! {
                _ = self.closed() => return,
                reason = self.outbox.wait_closed() => {
                    self.shutdown(reason);
                    return;
                }
                // A pong moved the deadline.
                _ = self.pong.notified() => continue,
                _ = tokio::time::sleep_until(due.into()) => {}
            }
            if self.on_deadline().is_err() {
                return;
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

    fn deadline(&self) -> Option<Instant> {
        if self.is_closed() {
            return None;
        }
        Some(self.state.lock().ping_due)
    }

    /// Sends the ping that is due, or closes the session when the pong is
    /// late. Early and repeated calls (two drivers during an upgrade) change
    /// nothing.
    fn on_deadline(&self) -> Result<(), CloseReason> {
        let now = Instant::now();
        {
            let mut state = self.state.lock();
            if self.is_closed() || now < state.ping_due {
                return Ok(());
            }
            if !state.awaiting_pong {
                state.awaiting_pong = true;
                state.ping_due = now + self.heartbeat.timeout;
                drop(state);
                if self.outbox.push_control(Frame::Text(packet::PING)).is_ok() {
                    return Ok(());
                }
                let reason = self.outbox.closed().unwrap_or(CloseReason::Forced);
                self.shutdown(reason);
                return Err(reason);
            }
        }
        tracing::debug!(sid = %self.id, "ping timeout");
        self.shutdown(CloseReason::PingTimeout);
        Err(CloseReason::PingTimeout)
    }
}
