//! What every request to one engine shares: the options, the session
//! table, the handler and whether shutdown has started. The engine
//! ([`Engine`](crate::Engine)) is a handle to it; the transports get it to
//! open sessions.
//!
//! Opening a session is two steps, so that the first frame goes out before
//! the handler runs: [`Registry::open`] creates and registers the session
//! (and starts its heartbeat task on polling), the transport queues the
//! open packet, then [`Registry::start`] calls `on_open`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use roomcast_core::ClientId;
use tokio::sync::Notify;
use tracing::Instrument;

use crate::config::{EngineConfig, TransportKind};
use crate::handler::OpenSession;
use crate::handshake::Handshake;
use crate::sessions::Sessions;
use crate::socket::{SessionConfig, Socket};

/// See the [module docs](self).
pub(crate) struct Registry {
    pub(crate) config: EngineConfig,
    pub(crate) sessions: Arc<Sessions<Socket>>,
    handler: Box<dyn OpenSession>,
    /// Set once shutdown starts: no new sessions.
    stopping: AtomicBool,
    /// Wakes the accept loops of `Engine::serve` at the end of shutdown.
    stop: Notify,
}

impl Registry {
    pub(crate) fn new(config: EngineConfig, handler: Box<dyn OpenSession>) -> Self {
        Registry {
            config,
            sessions: Arc::new(Sessions::new()),
            handler,
            stopping: AtomicBool::new(false),
            stop: Notify::new(),
        }
    }

    /// Creates and registers a session; the caller queues the open packet,
    /// then calls [`Registry::start`].
    pub(crate) fn open(&self, id: ClientId, handshake: Arc<Handshake>) -> Arc<Socket> {
        roomcast_core::metrics::add(roomcast_core::metrics::Counter::SessionsOpened, 1);
        let config = &self.config;
        let socket = Socket::new(
            id,
            handshake,
            Arc::downgrade(&self.sessions),
            SessionConfig {
                outbox: config.outbox,
                ping_interval: config.ping_interval,
                ping_timeout: config.ping_timeout,
            },
        );
        self.sessions.insert(id, socket.clone());
        // A WebSocket session's connection task drives its heartbeat
        // (`Endpoint::deadline`); a polling session has no task of its own.
        if socket.transport() == TransportKind::Polling {
            let span = tracing::debug_span!("engine_session", sid = %id, transport = "polling");
            tokio::spawn(socket.clone().run_heartbeat().instrument(span));
        }
        tracing::debug!(sid = %id, transport = socket.transport().as_str(), "engine session opened");
        socket
    }

    /// Hands an opened session to the handler (`on_open`).
    pub(crate) fn start(&self, socket: &Arc<Socket>) {
        self.handler.open(socket);
    }

    /// Whether shutdown has started.
    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Shutdown starts: no new sessions.
    pub(crate) fn start_stopping(&self) {
        self.stopping.store(true, Ordering::Release);
    }

    /// Shutdown is over: the accept loops stop.
    pub(crate) fn stopped(&self) {
        self.stop.notify_waiters();
    }

    /// Completes once shutdown is over (at once if it is).
    pub(crate) async fn wait_stopped(&self) {
        let stop = self.stop.notified();
        tokio::pin!(stop);
        stop.as_mut().enable();
        if self.is_stopping() {
            return;
        }
        stop.await;
    }
}
