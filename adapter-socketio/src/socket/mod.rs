//! A socket: one client's membership of one namespace.
//!
//! Semantics:
//! - **Order**: packets of one socket are handled in arrival order (see
//!   [`handler`](crate::handler) for how async handlers run). Events that
//!   arrive while the namespace's connect handler is still running wait and
//!   are handled, in order, once it returns — so handlers it registers never
//!   miss an event the client sent right after connecting.
//! - **Emit** encodes once and queues on the connection's outbox; it never
//!   waits. A full outbox disconnects the client (see roomcast-core).
//! - **Disconnect** happens once: `disconnecting` hooks run while the
//!   socket is still in its rooms, then it leaves them all, pending acks
//!   fail with [`AckError::Disconnected`](crate::AckError::Disconnected),
//!   and `disconnect` hooks run.
//!
//! Files: this one holds the socket and what it sends (emits, acks, rooms,
//! broadcast operators); [`compress`] the emits' encoding and sending (an
//! emit is `compress(true)`'s); [`lifecycle`] its state from CONNECT to
//! DISCONNECT; [`handlers`] what it runs for incoming packets;
//! [`connection`] the table of one connection's sockets; [`session`] its
//! part in connection state recovery.

mod compress;
mod connection;
mod handlers;
mod lifecycle;
mod listeners;
mod session;
mod volatile;

pub use compress::CompressEmit;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, Weak};

use crate::RawArgs;
use parking_lot::Mutex;
use roomcast_core::{ClientId, Message, PushError, Room};

pub(crate) use connection::ConnectionSockets;
pub(crate) use handlers::ConnectFn;
pub use handlers::SocketError;
pub use listeners::ListenerId;
pub use volatile::Volatile;

use crate::ack::{AckReply, AckSlot};
use crate::entry_points::entry_points;
use crate::parser::{Header, PacketType};
use crate::protocol::ProtocolVersion;
use crate::reserved::check_event;
use crate::{BroadcastOperator, EmitError, Extensions, Handshake, Namespace};
use handlers::Handlers;
use lifecycle::SocketState;

/// One client's membership of one namespace. Cheap to clone (a handle).
#[derive(Clone)]
pub struct Socket(Arc<Inner>);

struct Inner {
    id: ClientId,
    ns: Namespace,
    /// The other sockets of the same connection (weak: they hold this one).
    siblings: Weak<ConnectionSockets>,
    conn: Arc<roomcast_engineio::Socket>,
    handshake: Handshake,
    handlers: Handlers,
    /// Emits waiting for their ack, by ack id (a B-tree: 24 bytes and no
    /// allocation while none waits, where a hash map is 48).
    acks: Mutex<BTreeMap<u64, AckSlot>>,
    state: Mutex<SocketState>,
    extensions: Extensions,
    session: Mutex<session::SocketSession>,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.0.id)
            .field("ns", &self.0.ns.name())
            .finish()
    }
}

impl Socket {
    /// A socket for a CONNECT just received; [`Socket::connect`] runs the
    /// rest of the lifecycle.
    pub(crate) fn new(
        ns: Namespace,
        conn: Arc<roomcast_engineio::Socket>,
        siblings: &Arc<ConnectionSockets>,
        handshake: Handshake,
        restore: Option<crate::recovery::Restore>,
    ) -> Self {
        let fresh = || ProtocolVersion::of(&conn).socket_id(ns.name(), conn.id());
        let id = restore.as_ref().map_or_else(fresh, |r| r.session.sid);
        let data = restore.as_ref().map(|r| r.session.data.clone());
        let socket = Socket(Arc::new(Inner {
            id,
            ns,
            siblings: Arc::downgrade(siblings),
            conn,
            handshake,
            handlers: Handlers::default(),
            acks: Mutex::default(),
            state: Mutex::new(SocketState::new()),
            extensions: Extensions::default(),
            session: Mutex::new(session::SocketSession::new(restore)),
        }));
        if let Some(data) = data.filter(|d| !d.is_null()) {
            let _ = socket.set_data(&data);
        }
        socket
    }

    /// The Socket.IO revision of the socket's connection.
    pub(crate) fn protocol(&self) -> ProtocolVersion {
        ProtocolVersion::of(&self.0.conn)
    }

    /// The socket's id (also the name of its own room).
    pub fn id(&self) -> ClientId {
        self.0.id
    }

    /// The namespace.
    pub fn ns(&self) -> &Namespace {
        &self.0.ns
    }

    /// The handshake: auth payload, query, headers, address, time.
    pub fn handshake(&self) -> &Handshake {
        &self.0.handshake
    }

    /// The transport in use now (Node's `socket.conn.transport.name`;
    /// [`TransportKind::as_str`](crate::TransportKind::as_str) gives that name).
    pub fn transport(&self) -> crate::TransportKind {
        self.0.conn.transport()
    }

    /// The application's value of type `T`, given to
    /// [`ServerBuilder::state`](crate::ServerBuilder::state): what a
    /// handler reaches instead of capturing clones.
    ///
    /// ```no_run
    /// # use roomcast_socketio::Socket;
    /// struct Motd(String);
    /// # fn f(socket: Socket) {
    /// socket.on("motd", |socket: Socket| async move {
    ///     socket.emit("motd", &socket.state::<Motd>().0).ok();
    /// });
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// When the builder was given no `T` (see [`Socket::try_state`]).
    pub fn state<T: Send + Sync + 'static>(&self) -> &T {
        self.0.ns.state::<T>()
    }

    /// The application's value of type `T`, if the builder was given one.
    pub fn try_state<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.0.ns.try_state::<T>()
    }

    /// Typed data attached to this socket.
    pub fn extensions(&self) -> &Extensions {
        &self.0.extensions
    }

    /// The Engine.IO connection underneath (Node's `socket.conn`), shared
    /// by the sockets of one client in several namespaces: its transport,
    /// and its upgrade events.
    ///
    /// ```no_run
    /// # fn f(socket: roomcast_socketio::Socket) {
    /// socket.conn().on_upgrade(|transport| println!("upgraded to {}", transport.as_str()));
    /// # }
    /// ```
    pub fn conn(&self) -> &Arc<roomcast_engineio::Socket> {
        &self.0.conn
    }

    pub(crate) fn conn_outbox(&self) -> Arc<roomcast_core::Outbox> {
        self.0.conn.outbox().clone()
    }

    entry_points! { compressible =>
        /// Sends `event` to this client with `data` as its arguments (a tuple
        /// is several arguments, `()` none).
        emit;
    }

    /// Sends `event` with arguments as received ([`Socket::on_raw`]) or
    /// built with [`RawArgs::new`]. Arguments held as JSON text are copied
    /// into the frame as they are (JSON parser).
    pub fn emit_raw(&self, event: &str, args: &RawArgs) -> Result<(), EmitError> {
        check_event(event)?;
        let header = Header::new(PacketType::Event, self.0.ns.name(), None);
        let message = self.0.ns.parser().encode_raw(header, Some(event), args)?;
        if self.0.handlers.has_outgoing_listeners() {
            self.notify_outgoing_values(event, &args.values());
        }
        roomcast_core::metrics::add(roomcast_core::metrics::Counter::EventsOut, 1);
        self.send_event(message)
    }

    entry_points! { compressible =>
        /// Sends `event` and waits for the client's acknowledgement, decoded
        /// into `R`, for at most `timeout`.
        emit_with_ack(timeout);
    }

    /// Registers an ack slot (before the packet that asks for it is queued).
    pub(crate) fn register_ack(&self, id: u64) -> Option<tokio::sync::oneshot::Receiver<AckReply>> {
        if !self.connected() {
            return None;
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.0.acks.lock().insert(id, tx);
        Some(rx)
    }

    pub(crate) fn forget_ack(&self, id: u64) {
        self.0.acks.lock().remove(&id);
    }

    pub(crate) fn send_raw<'a>(
        &self,
        message: impl Into<Cow<'a, Message>>,
    ) -> Result<(), EmitError> {
        let message = message.into();
        if roomcast_core::metrics::ENABLED {
            let bytes: usize = message.frames().iter().map(|f| f.len()).sum();
            roomcast_core::metrics::add(roomcast_core::metrics::Counter::BytesOut, bytes as u64);
        }
        match self.0.conn.send(message) {
            Ok(_) => Ok(()),
            Err(PushError::Closed) => Err(EmitError::Closed),
            Err(PushError::Overflow) => Err(EmitError::Overflow),
        }
    }

    /// Joins rooms. Beyond the server's `max_rooms_per_socket` the join is
    /// refused and logged.
    pub fn join<R: Into<Room>>(&self, rooms: impl IntoIterator<Item = R>) {
        if let Err(e) = self.0.ns.hub().join(self.0.id, rooms) {
            tracing::warn!(socket = %self.0.id, error = %e, "join refused");
        }
    }

    /// Leaves rooms.
    pub fn leave<R: Into<Room>>(&self, rooms: impl IntoIterator<Item = R>) {
        let _ = self.0.ns.hub().leave(self.0.id, rooms);
    }

    /// The rooms the socket is in (its own id's included), sorted.
    pub fn rooms(&self) -> Vec<Room> {
        self.0.ns.hub().rooms_of(self.0.id).unwrap_or_default()
    }

    fn operator(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.0.ns.clone()).except_socket(self.0.id)
    }

    entry_points! { operator =>
        /// Broadcast to these rooms, leaving this socket out.
        to;

        /// Same as [`Socket::to`].
        within;

        /// Broadcast to every socket of the namespace but those in `rooms` and this one.
        except;
    }

    /// Broadcast to every other socket of the namespace.
    pub fn broadcast(&self) -> BroadcastOperator {
        self.operator()
    }
}
