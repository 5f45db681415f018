//! A socket's lifecycle, from CONNECT to DISCONNECT: the one state
//! ([`SocketState`]) and every transition of it.
//!
//! ```text
//!  CONNECT ─▶ Middlewares ─▶ ConnectHandler ─▶ Connected ─▶ Disconnecting ─▶ Disconnected
//!                 │   (CONNECT answered)  (held events            ▲
//!                 │                         handled)               │ close(reason)
//!                 └──── refused / connection gone ─────────────────┴──▶ Disconnected
//! ```
//!
//! - **Middlewares**: a CONNECT created the socket; the namespace's
//!   middlewares run in order. The socket is not in the namespace yet.
//!   The first `Err` refuses it: CONNECT_ERROR with its message and data,
//!   then `Disconnected` with no hook run. A panicking middleware refuses
//!   with "server error". A connection that closed meanwhile, or an id the
//!   namespace's hub refuses, ends it silently.
//! - **ConnectHandler**: the socket joined the namespace (its hub and its
//!   own room), the connection's connect timer is stopped and CONNECT is
//!   answered with the socket's id; the connect handler runs.
//! - **Connected**: the connect handler returned. Every event is handled as
//!   it arrives.
//! - **Held events**: events (and a client DISCONNECT) that arrive before
//!   `Connected` wait, in order, and are handled once the connect handler
//!   returns — so handlers it registers never miss an event the client sent
//!   right after connecting. Acks do not wait (the connect handler may
//!   itself await one). At most [`MAX_HELD`] wait: one more disconnects the
//!   socket — at once when its connect handler is running, or, while
//!   middlewares run, as soon as its connect handler has returned (later
//!   events are dropped until then); a socket never runs on with events
//!   missing.
//! - **Disconnecting**: [`Socket::close`] (the client left, the server
//!   disconnected it, the connection closed): `disconnecting` hooks run
//!   while the socket is still in its rooms; then it leaves them all and
//!   the namespace, and pending acks fail with
//!   [`AckError::Disconnected`](crate::AckError::Disconnected).
//! - **Disconnected**: `disconnect` hooks run once; every handler is
//!   dropped; packets for the socket are ignored. The connection forgets
//!   it, so a new CONNECT to that namespace makes a new socket.
//!
//! [`Socket::connected`] is true in `ConnectHandler` and `Connected`.

use roomcast_core::CloseReason;

use crate::handler;
use crate::parser::{Packet, PacketType};
use crate::{ConnectError, DisconnectReason};

use super::Socket;

/// The most events held for a socket that is not `Connected` yet.
pub(super) const MAX_HELD: usize = 1024;

/// Where a socket is in its lifecycle. See the [module docs](self).
pub(super) enum SocketState {
    /// The namespace's middlewares are running.
    Middlewares(Held),
    /// In the namespace, CONNECT answered; the connect handler is running.
    ConnectHandler(Held),
    /// Events are handled as they arrive.
    Connected,
    /// Leaving: hooks run, then rooms and namespace are left.
    Disconnecting,
    /// Gone.
    Disconnected,
}

/// Events that came before the socket was `Connected`.
#[derive(Default)]
pub(super) struct Held {
    packets: Vec<Packet>,
    /// More than [`MAX_HELD`] came: the socket is disconnected once its
    /// connect handler has returned.
    overflowed: bool,
}

impl SocketState {
    pub(super) fn new() -> Self {
        SocketState::Middlewares(Held::default())
    }
}

impl Socket {
    /// Whether the socket is connected to its namespace.
    pub fn connected(&self) -> bool {
        matches!(
            *self.0.state.lock(),
            SocketState::ConnectHandler(_) | SocketState::Connected
        )
    }

    /// Runs the connect sequence of a socket that a CONNECT just created:
    /// middlewares, joining the namespace, the CONNECT answer (after
    /// `on_joined`), the connect handler, then the held events.
    pub(crate) fn connect(&self, on_joined: impl FnOnce() + Send + 'static) {
        let span = tracing::debug_span!("connect", ns = %self.0.ns.name(), socket = %self.0.id, transport = self.transport().as_str());
        let _enter = span.enter();
        let ns = self.0.ns.clone();
        let middlewares = ns.middlewares();
        let connect = ns.connect_handlers();
        let socket = self.clone();
        let on_panic = {
            let socket = self.clone();
            move || socket.panicked()
        };
        let sequence = async move {
            let middlewares = if socket.skips_middlewares() {
                Vec::new()
            } else {
                middlewares
            };
            for middleware in middlewares {
                if let Err(e) = middleware(socket.clone()).await {
                    tracing::debug!(message = %e.message, "connection refused by a middleware");
                    socket.refuse(&e);
                    return;
                }
            }
            if !socket.join_namespace() {
                return;
            }
            on_joined();
            tracing::debug!(recovered = socket.recovered(), "socket connected");
            if let Some(observers) = socket.0.ns.observers() {
                observers.socket_connected(&socket);
            }
            for connect in connect {
                let _ = connect(socket.clone()).await;
            }
            socket.connect_handler_returned();
        };
        handler::run(Box::pin(sequence), on_panic);
    }

    /// `Middlewares` → `ConnectHandler`: into the namespace, unless the
    /// connection or the socket closed meanwhile or the hub refuses the id.
    fn join_namespace(&self) -> bool {
        if self.0.conn.is_closed() || !self.enter_namespace() {
            self.abandon();
            return false;
        }
        let mut state = self.0.state.lock();
        match std::mem::replace(&mut *state, SocketState::Disconnected) {
            SocketState::Middlewares(held) => {
                *state = SocketState::ConnectHandler(held);
                true
            }
            other => {
                // Closed while middlewares ran.
                *state = other;
                drop(state);
                self.0.ns.remove(self);
                self.forget();
                false
            }
        }
    }

    /// `ConnectHandler` → `Connected`: the held events are handled, in
    /// order, including those that arrive meanwhile.
    fn connect_handler_returned(&self) {
        let overflowed = matches!(
            &*self.0.state.lock(),
            SocketState::ConnectHandler(held) if held.overflowed
        );
        if overflowed {
            self.disconnect();
        }
        loop {
            let batch = {
                let mut state = self.0.state.lock();
                let SocketState::ConnectHandler(held) = &mut *state else {
                    return;
                };
                if held.packets.is_empty() {
                    *state = SocketState::Connected;
                    return;
                }
                std::mem::take(&mut held.packets)
            };
            for packet in batch {
                // A held event's handler may have closed the socket.
                if !self.connected() {
                    return;
                }
                if let Err(reason) = self.handle(packet) {
                    self.0.conn.close(reason);
                    return;
                }
            }
        }
    }

    /// `Middlewares` → `Disconnected`, telling the client why.
    fn refuse(&self, error: &ConnectError) {
        self.abandon();
        let data = self.protocol().refusal_data(error);
        let _ = self.send_raw(ConnectError::encode_data(
            self.0.ns.parser(),
            self.0.ns.name(),
            &data,
        ));
    }

    /// `Middlewares` → `Disconnected`, silently.
    fn abandon(&self) {
        {
            let mut state = self.0.state.lock();
            if matches!(*state, SocketState::Middlewares(_)) {
                *state = SocketState::Disconnected;
            }
        }
        self.forget();
    }

    /// A middleware or the connect handler panicked.
    fn panicked(&self) {
        let refusing = matches!(*self.0.state.lock(), SocketState::Middlewares(_));
        if refusing {
            self.refuse(&ConnectError::new("server error"));
        } else {
            self.disconnect();
        }
    }

    /// A packet for this socket, from the connection: handled now, held
    /// until the connect handler returns, or dropped. See the module docs.
    /// An error (an event that is not valid JSON, found when it is
    /// handled) closes the connection; a held packet found invalid later
    /// closes it then.
    pub(crate) fn deliver(&self, packet: Packet) -> Result<(), CloseReason> {
        let is_ack = matches!(packet.kind, PacketType::Ack | PacketType::BinaryAck);
        let mut state = self.0.state.lock();
        let (held, middlewares) = match &mut *state {
            SocketState::Middlewares(held) if !is_ack => (held, true),
            SocketState::ConnectHandler(held) if !is_ack => (held, false),
            SocketState::ConnectHandler(_) | SocketState::Connected => {
                drop(state);
                return self.handle(packet);
            }
            SocketState::Middlewares(_)
            | SocketState::Disconnecting
            | SocketState::Disconnected => return Ok(()),
        };
        if held.overflowed {
            return Ok(());
        }
        if held.packets.len() < MAX_HELD {
            held.packets.push(packet);
            return Ok(());
        }
        tracing::warn!(socket = %self.0.id, "too many events before the connect handler returned");
        if middlewares {
            held.overflowed = true;
            return Ok(());
        }
        drop(state);
        self.disconnect();
        Ok(())
    }

    /// Disconnects the socket from its namespace; the client is told. The
    /// connection stays open for its other namespaces.
    pub fn disconnect(&self) {
        if !self.connected() {
            return;
        }
        let packet = self.0.ns.parser().encode_value(
            PacketType::Disconnect,
            self.0.ns.name(),
            None,
            None,
            &[],
        );
        let _ = self.send_raw(&packet);
        self.close(DisconnectReason::ServerNamespaceDisconnect);
    }

    /// Disconnects every namespace of this client and closes the connection.
    pub fn disconnect_all(&self) {
        match self.0.siblings.upgrade() {
            Some(siblings) => siblings.disconnect_all(&self.0.conn),
            None => self.disconnect(),
        }
    }

    /// `ConnectHandler` / `Connected` → `Disconnecting` → `Disconnected`:
    /// hooks, rooms, acks. Runs once; on a socket that never connected it
    /// only ends it.
    pub(crate) fn close(&self, reason: DisconnectReason) {
        let was_connected = {
            let mut state = self.0.state.lock();
            match *state {
                SocketState::ConnectHandler(_) | SocketState::Connected => {
                    *state = SocketState::Disconnecting;
                    true
                }
                SocketState::Middlewares(_) => {
                    *state = SocketState::Disconnected;
                    false
                }
                SocketState::Disconnecting | SocketState::Disconnected => false,
            }
        };
        if !was_connected {
            self.forget();
            return;
        }
        let span = tracing::debug_span!("disconnect", ns = %self.0.ns.name(), socket = %self.0.id, %reason);
        let _enter = span.enter();
        let hooks = self.0.handlers.disconnecting.read().clone();
        for hook in hooks {
            handler::run(hook(self.clone(), reason), || {});
        }
        self.keep_session(reason);
        self.0.ns.remove(self);
        self.forget();
        self.0.acks.lock().clear();
        if self.0.handlers.has_outgoing_listeners() {
            self.0.ns.outgoing_listeners(-1);
        }
        *self.0.state.lock() = SocketState::Disconnected;
        let hooks = std::mem::take(&mut *self.0.handlers.disconnected.write());
        for hook in hooks {
            handler::run(hook(self.clone(), reason), || {});
        }
        self.0.handlers.clear();
        tracing::debug!("socket disconnected");
    }

    /// The connection stops routing packets to this socket.
    fn forget(&self) {
        if let Some(siblings) = self.0.siblings.upgrade() {
            siblings.forget(self.0.ns.name(), self.0.id);
        }
    }
}
