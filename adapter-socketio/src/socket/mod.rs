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
//!   fail with [`AckError::Disconnected`], and `disconnect` hooks run.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use roomcast_core::{ClientId, Message, PushError, Room};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::ack::{AckError, AckReply, AckSender, AckSlot};
use crate::client::Client;
use crate::handler::{self, AnyHandler, DisconnectFn, EventHandler, RawEvent, TypedEvent};
use crate::parser::{args_to_value, encode_event, encode_value, Packet, PacketType};
use crate::{BroadcastOperator, DisconnectReason, EmitError, Extensions, Handshake, Namespace};

/// Events a socket may not emit: the reference server reserves them.
pub(crate) const RESERVED: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// The most packets kept for a socket whose connect handler is still running.
const MAX_EARLY_PACKETS: usize = 1024;

/// One client's membership of one namespace. Cheap to clone (a handle).
#[derive(Clone)]
pub struct Socket(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    id: ClientId,
    ns: Namespace,
    client: Weak<Client>,
    conn: Arc<roomcast_engineio::Socket>,
    handshake: Handshake,
    handlers: RwLock<Handlers>,
    any_incoming: RwLock<Vec<AnyHandler>>,
    any_outgoing: RwLock<Vec<AnyHandler>>,
    disconnecting: RwLock<Vec<DisconnectFn>>,
    disconnected: RwLock<Vec<DisconnectFn>>,
    acks: Mutex<HashMap<u64, AckSlot>>,
    connected: AtomicBool,
    inbox: Mutex<Inbox>,
    extensions: Extensions,
}

/// Event handlers by name: a short list, searched in order. A socket has a
/// handful; a hash map would cost each socket more memory than the search.
#[derive(Default)]
struct Handlers(Vec<(Box<str>, Arc<dyn EventHandler>)>);

impl Handlers {
    fn insert(&mut self, name: String, handler: Arc<dyn EventHandler>) {
        match self.0.iter_mut().find(|(n, _)| **n == *name) {
            Some(slot) => slot.1 = handler,
            None => self.0.push((name.into_boxed_str(), handler)),
        }
    }

    fn get(&self, name: &str) -> Option<&Arc<dyn EventHandler>> {
        self.0.iter().find(|(n, _)| &**n == name).map(|(_, h)| h)
    }

    fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| &**n != name);
    }

    fn clear(&mut self) {
        self.0 = Vec::new();
    }
}

#[derive(Default)]
struct Inbox {
    ready: bool,
    early: VecDeque<Packet>,
    /// Too many packets came before the socket was connected: it is
    /// disconnected as soon as it is (never run on with packets missing).
    overflowed: bool,
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
    pub(crate) fn new(ns: Namespace, client: &Arc<Client>, handshake: Handshake) -> Self {
        Socket(Arc::new(Inner {
            id: ClientId::random(),
            ns,
            client: Arc::downgrade(client),
            conn: client.conn().clone(),
            handshake,
            handlers: RwLock::default(),
            any_incoming: RwLock::default(),
            any_outgoing: RwLock::default(),
            disconnecting: RwLock::default(),
            disconnected: RwLock::default(),
            acks: Mutex::default(),
            connected: AtomicBool::new(false),
            inbox: Mutex::default(),
            extensions: Extensions::default(),
        }))
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

    /// The transport in use now (`polling` or `websocket`).
    pub fn transport(&self) -> &'static str {
        self.0.conn.transport().as_str()
    }

    /// Typed data attached to this socket.
    pub fn extensions(&self) -> &Extensions {
        &self.0.extensions
    }

    pub(crate) fn conn_outbox(&self) -> Arc<roomcast_core::Outbox> {
        self.0.conn.outbox().clone()
    }

    /// Whether the socket is connected to its namespace.
    pub fn connected(&self) -> bool {
        self.0.connected.load(Ordering::Acquire)
    }

    /// Handles `event` with `handler(socket, args, ack)`. The arguments
    /// decode into `T` (a tuple for several arguments; `serde_json::Value`
    /// for raw JSON; `bytes::Bytes` wherever a binary attachment is). An
    /// event whose arguments do not decode is logged and ignored. A second
    /// handler for the same event replaces the first.
    ///
    /// ```no_run
    /// # use roomcast_socketio::{Socket, AckSender};
    /// # fn f(socket: Socket) {
    /// socket.on("chat", |socket: Socket, (room, text): (String, String), _ack: AckSender| async move {
    ///     socket.to([room]).emit("chat", &text).ok();
    /// });
    /// # }
    /// ```
    pub fn on<T, F, Fut>(&self, event: impl Into<String>, handler: F)
    where
        F: Fn(Socket, T, AckSender) -> Fut + Send + Sync + 'static,
        T: DeserializeOwned + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.0
            .handlers
            .write()
            .insert(event.into(), Arc::new(TypedEvent::new(handler)));
    }

    /// Handles `event` with its raw arguments: JSON values (binary ones as
    /// `{"_placeholder":true,"num":N}`) and the attachments they refer to.
    /// Useful to relay events unchanged (see [`Socket::emit_raw`]).
    pub fn on_raw<F, Fut>(&self, event: impl Into<String>, handler: F)
    where
        F: Fn(Socket, Vec<Value>, Vec<bytes::Bytes>, AckSender) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.0
            .handlers
            .write()
            .insert(event.into(), Arc::new(RawEvent(handler)));
    }

    /// Removes the handler of `event`.
    pub fn off(&self, event: &str) {
        self.0.handlers.write().remove(event);
    }

    /// Calls `listener(socket, event, args)` for every incoming event, before its handler.
    pub fn on_any(&self, listener: impl Fn(&Socket, &str, &[Value]) + Send + Sync + 'static) {
        self.0.any_incoming.write().push(Arc::new(listener));
    }

    /// Calls `listener(socket, event, args)` for every event sent to this
    /// socket (its own emits and broadcasts that reach it).
    pub fn on_any_outgoing(
        &self,
        listener: impl Fn(&Socket, &str, &[Value]) + Send + Sync + 'static,
    ) {
        let mut listeners = self.0.any_outgoing.write();
        if listeners.is_empty() {
            self.0.ns.outgoing_listeners(1);
        }
        listeners.push(Arc::new(listener));
    }

    /// Runs `hook(socket, reason)` when the socket is disconnecting, while
    /// it is still in its rooms.
    pub fn on_disconnecting<F, Fut>(&self, hook: F)
    where
        F: Fn(Socket, DisconnectReason) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.0
            .disconnecting
            .write()
            .push(Arc::new(move |s, r| Box::pin(hook(s, r))));
    }

    /// Runs `hook(socket, reason)` once the socket has disconnected.
    pub fn on_disconnect<F, Fut>(&self, hook: F)
    where
        F: Fn(Socket, DisconnectReason) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.0
            .disconnected
            .write()
            .push(Arc::new(move |s, r| Box::pin(hook(s, r))));
    }

    /// Sends `event` to this client with `data` as its arguments (a tuple
    /// is several arguments, `()` none).
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        check_event(event)?;
        let message = encode_event(self.0.ns.name(), event, data, None)?;
        self.notify_outgoing(event, data);
        self.send_raw(&message)
    }

    /// Sends `event` with raw arguments: JSON values whose placeholders
    /// refer to `attachments` (as received by [`Socket::on_raw`]).
    pub fn emit_raw(
        &self,
        event: &str,
        args: &[Value],
        attachments: &[bytes::Bytes],
    ) -> Result<(), EmitError> {
        check_event(event)?;
        let mut data = Vec::with_capacity(args.len() + 1);
        data.push(Value::String(event.to_string()));
        data.extend_from_slice(args);
        let message = encode_value(
            PacketType::Event,
            self.0.ns.name(),
            None,
            Some(&Value::Array(data)),
            attachments,
        );
        self.notify_outgoing_values(event, args);
        self.send_raw(&message)
    }

    /// Sends `event` and waits for the client's acknowledgement, decoded
    /// into `R`, for at most `timeout`.
    pub async fn emit_with_ack<T, R>(
        &self,
        event: &str,
        data: &T,
        timeout: Duration,
    ) -> Result<R, AckError>
    where
        T: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        check_event(event)?;
        let id = self.0.ns.next_ack_id();
        let message =
            encode_event(self.0.ns.name(), event, data, Some(id)).map_err(EmitError::from)?;
        let reply = self.register_ack(id).ok_or(AckError::Disconnected)?;
        self.notify_outgoing(event, data);
        if let Err(e) = self.send_raw(&message) {
            self.0.acks.lock().remove(&id);
            return Err(e.into());
        }
        match tokio::time::timeout(timeout, reply).await {
            Ok(Ok(reply)) => Ok(reply.decode()?),
            Ok(Err(_)) => Err(AckError::Disconnected),
            Err(_) => {
                self.0.acks.lock().remove(&id);
                Err(AckError::Timeout)
            }
        }
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

    pub(crate) fn send_raw(&self, message: &Message) -> Result<(), EmitError> {
        match self.0.conn.send(message) {
            Ok(_) => Ok(()),
            Err(PushError::Closed) => Err(EmitError::Closed),
            Err(PushError::Overflow) => Err(EmitError::Overflow),
        }
    }

    pub(crate) fn notify_outgoing<T: Serialize + ?Sized>(&self, event: &str, data: &T) {
        let listeners = self.0.any_outgoing.read().clone();
        if listeners.is_empty() {
            return;
        }
        if let Ok((serde_json::Value::Array(args), _)) = args_to_value(None, data) {
            for l in listeners {
                l(self, event, &args);
            }
        }
    }

    pub(crate) fn notify_outgoing_values(&self, event: &str, args: &[Value]) {
        let listeners = self.0.any_outgoing.read().clone();
        for l in listeners {
            l(self, event, args);
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

    /// Broadcast to these rooms, leaving this socket out.
    pub fn to<R: Into<Room>>(&self, rooms: impl IntoIterator<Item = R>) -> BroadcastOperator {
        self.operator().to(rooms)
    }

    /// Same as [`Socket::to`].
    pub fn within<R: Into<Room>>(&self, rooms: impl IntoIterator<Item = R>) -> BroadcastOperator {
        self.to(rooms)
    }

    /// Broadcast to every socket of the namespace but those in `rooms` and this one.
    pub fn except<R: Into<Room>>(&self, rooms: impl IntoIterator<Item = R>) -> BroadcastOperator {
        self.operator().except(rooms)
    }

    /// Broadcast to every other socket of the namespace.
    pub fn broadcast(&self) -> BroadcastOperator {
        self.operator()
    }

    /// Disconnects the socket from its namespace; the client is told. The
    /// connection stays open for its other namespaces.
    pub fn disconnect(&self) {
        if !self.connected() {
            return;
        }
        let packet = encode_value(PacketType::Disconnect, self.0.ns.name(), None, None, &[]);
        let _ = self.send_raw(&packet);
        self.close(DisconnectReason::ServerNamespaceDisconnect);
    }

    /// Disconnects every namespace of this client and closes the connection.
    pub fn disconnect_all(&self) {
        match self.0.client.upgrade() {
            Some(client) => client.disconnect_all(),
            None => self.disconnect(),
        }
    }

    /// The namespace connection is complete: handle the packets that waited.
    pub(crate) fn set_connected(&self) {
        self.0.connected.store(true, Ordering::Release);
    }

    pub(crate) fn set_ready(&self) {
        if self.0.inbox.lock().overflowed {
            self.disconnect();
        }
        loop {
            let batch = {
                let mut inbox = self.0.inbox.lock();
                if inbox.early.is_empty() {
                    inbox.ready = true;
                    return;
                }
                std::mem::take(&mut inbox.early)
            };
            for packet in batch {
                self.handle(packet);
            }
        }
    }

    /// A packet for this socket, from the connection.
    pub(crate) fn deliver(&self, packet: Packet) {
        // Answers to this server's own emits need no handler: they must not
        // wait for the connect handler, which may itself await one.
        let is_ack = matches!(packet.kind, PacketType::Ack | PacketType::BinaryAck);
        if !is_ack {
            let mut inbox = self.0.inbox.lock();
            if !inbox.ready {
                if inbox.overflowed {
                    return;
                }
                if inbox.early.len() >= MAX_EARLY_PACKETS {
                    tracing::warn!(socket = %self.0.id, "too many events before the connect handler returned");
                    if !self.connected() {
                        // A middleware is still running: disconnect once connected.
                        inbox.overflowed = true;
                        return;
                    }
                    drop(inbox);
                    self.disconnect();
                    return;
                }
                inbox.early.push_back(packet);
                return;
            }
        }
        self.handle(packet);
    }

    fn handle(&self, packet: Packet) {
        if !self.connected() {
            return;
        }
        match packet.kind {
            PacketType::Event | PacketType::BinaryEvent => {
                let Some(event) = packet.event_name() else {
                    return;
                };
                let args = packet.args();
                let any = self.0.any_incoming.read().clone();
                for l in any {
                    l(self, event, args);
                }
                let handler = self.0.handlers.read().get(event).cloned();
                if let Some(handler) = handler {
                    let ack = AckSender::new(self.clone(), packet.id);
                    if let Some(fut) = handler.call(self.clone(), args, &packet.attachments, ack) {
                        let me = self.clone();
                        handler::run(fut, move || me.disconnect());
                    }
                }
            }
            PacketType::Ack | PacketType::BinaryAck => {
                let Some(id) = packet.id else { return };
                let slot = self.0.acks.lock().remove(&id);
                if let Some(slot) = slot {
                    let args = packet.args().to_vec();
                    let _ = slot.send(AckReply {
                        args,
                        attachments: packet.attachments,
                    });
                }
            }
            PacketType::Disconnect => self.close(DisconnectReason::ClientNamespaceDisconnect),
            _ => {}
        }
    }

    /// Leaves the namespace: hooks, rooms, acks. Runs once.
    pub(crate) fn close(&self, reason: DisconnectReason) {
        if !self.0.connected.swap(false, Ordering::AcqRel) {
            if let Some(client) = self.0.client.upgrade() {
                client.forget(self.0.ns.name(), self.0.id);
            }
            return;
        }
        let span = tracing::debug_span!("disconnect", ns = %self.0.ns.name(), socket = %self.0.id, %reason);
        let _enter = span.enter();
        let hooks = self.0.disconnecting.read().clone();
        for hook in hooks {
            handler::run(hook(self.clone(), reason), || {});
        }
        self.0.ns.remove(self);
        if let Some(client) = self.0.client.upgrade() {
            client.forget(self.0.ns.name(), self.0.id);
        }
        self.0.acks.lock().clear();
        if !self.0.any_outgoing.read().is_empty() {
            self.0.ns.outgoing_listeners(-1);
        }
        let hooks = std::mem::take(&mut *self.0.disconnected.write());
        for hook in hooks {
            handler::run(hook(self.clone(), reason), || {});
        }
        // Handlers often hold a clone of their socket: drop them all, or the
        // socket (and its connection) would keep itself alive.
        self.0.handlers.write().clear();
        self.0.any_incoming.write().clear();
        self.0.any_outgoing.write().clear();
        self.0.disconnecting.write().clear();
        tracing::debug!("socket disconnected");
    }
}

fn check_event(event: &str) -> Result<(), EmitError> {
    if RESERVED.contains(&event) {
        return Err(EmitError::Reserved(event.to_string()));
    }
    Ok(())
}
