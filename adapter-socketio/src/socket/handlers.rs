//! A socket's handlers: event listeners, catch-all listeners, packet
//! middlewares, error and disconnect hooks; how an incoming packet reaches
//! them.
//!
//! Semantics (Node's, see [`listeners`](super::listeners)):
//! - An incoming event first goes through the packet middlewares
//!   ([`Socket::use_middleware`]) in order; each may change it, and the
//!   first `Err` drops it and runs the socket's error hooks
//!   ([`Socket::on_error`]). Then the catch-all listeners
//!   ([`Socket::on_any`]) run, then every listener of the event, in
//!   registration order.
//! - An event whose arguments do not decode into a listener's type is
//!   logged and skipped by that listener.
//! - When several listeners share an event, they share its ack: the first
//!   `send` answers, later ones do nothing.
//! - Handlers run as [`handler::run`](crate::handler) runs them: the
//!   synchronous part at once, in packet order. A panic disconnects the
//!   socket.
//! - On disconnect every handler and listener is dropped (they often hold a
//!   clone of their socket, which would otherwise keep itself alive).

use std::future::Future;
use std::sync::Arc;

use parking_lot::RwLock;
use serde::Serialize;
use serde_json::Value;

use roomcast_core::CloseReason;
use smol_str::SmolStr;

use super::listeners::{CatchAlls, ListenerId, Listeners, Snapshot};
use super::Socket;
use crate::ack::{AckReply, AckSender};
use crate::event_handler::sealed::{ArgsRef, Sealed};
use crate::event_handler::EventHandler;
use crate::handler::{self, BoxFuture};
use crate::parser::{args_to_value, Data, Packet, PacketType};
use crate::RawArgs;
use crate::{ConnectError, DisconnectReason};

/// An event listener, its shape erased: given the packet, and whether it
/// is the event's last listener (which may take the arguments; the
/// others borrow or copy them). One pointer: a listener list stays as
/// small as it was before listeners came in two kinds.
pub(crate) type EventFn =
    Arc<dyn Fn(Socket, &mut Packet, bool, AckSender) -> Option<BoxFuture<()>> + Send + Sync>;

fn event_fn<M: 'static>(handler: impl EventHandler<M>) -> EventFn {
    Arc::new(move |socket, packet, _, ack| {
        let args = match &packet.data {
            Some(Data::Event(event)) => ArgsRef::Text(event),
            _ => ArgsRef::Values(packet.args(), &packet.attachments),
        };
        Sealed::<M>::call(&handler, socket, args, ack)
    })
}

fn raw_fn<F, Fut>(handler: F) -> EventFn
where
    F: Fn(Socket, RawArgs, AckSender) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Arc::new(move |socket, packet, last, ack| {
        let args = match last {
            true => RawArgs::take(packet),
            false => RawArgs::copy(packet),
        };
        Some(Box::pin(handler(socket, args, ack)))
    })
}

/// A packet middleware: the packet as Node gives it, `[event, ...args]`.
type PacketMiddleware =
    Arc<dyn Fn(&Socket, &mut Vec<Value>) -> Result<(), SocketError> + Send + Sync>;

/// An error hook.
type ErrorFn = Arc<dyn Fn(Socket, SocketError) -> BoxFuture<()> + Send + Sync>;

/// Why a packet middleware rejected an event (Node's `next(new Error(..))`);
/// it reaches the socket's [`Socket::on_error`] hooks.
///
/// ```
/// let e = roomcast_socketio::SocketError::new("not allowed");
/// assert_eq!(e.to_string(), "not allowed");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SocketError {
    /// The error's message.
    pub message: String,
}

impl SocketError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        SocketError {
            message: message.into(),
        }
    }
}

/// A connect handler or middleware: gets the socket, may reject.
pub(crate) type ConnectFn =
    Arc<dyn Fn(Socket) -> BoxFuture<Result<(), ConnectError>> + Send + Sync>;

/// A disconnecting / disconnect hook.
pub(super) type DisconnectFn = Arc<dyn Fn(Socket, DisconnectReason) -> BoxFuture<()> + Send + Sync>;

fn disconnect_fn<F, Fut>(hook: F) -> DisconnectFn
where
    F: Fn(Socket, DisconnectReason) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Arc::new(move |s, r| Box::pin(hook(s, r)))
}

/// Everything registered on one socket.
#[derive(Default)]
pub(super) struct Handlers {
    events: Listeners<EventFn>,
    any_incoming: CatchAlls<false>,
    any_outgoing: CatchAlls<true>,
    middlewares: Listeners<PacketMiddleware>,
    errors: RwLock<Vec<ErrorFn>>,
    pub(super) disconnecting: RwLock<Vec<DisconnectFn>>,
    pub(super) disconnected: RwLock<Vec<DisconnectFn>>,
}

impl Handlers {
    pub(super) fn has_outgoing_listeners(&self) -> bool {
        !self.any_outgoing.is_empty()
    }

    /// Drops every handler and listener (the disconnect hooks are taken
    /// when they run).
    pub(super) fn clear(&self) {
        self.events.remove_event(None);
        self.any_incoming.drop_all();
        self.any_outgoing.drop_all();
        self.middlewares.remove_event(None);
        self.errors.write().clear();
        self.disconnecting.write().clear();
    }
}

/// Declares methods that register a listener: `name => events, once: _,
/// prepend: _;` adds an event listener (Node's `on`, `once`,
/// `prependListener`), `name => list, prepend: _;` a catch-all to the
/// handlers' `list`.
macro_rules! listener_entry_points {
    () => {};
    ($(#[$doc:meta])* $name:ident => events, once: $once:literal, prepend: $prepend:literal; $($rest:tt)*) => {
        $(#[$doc])*
        pub fn $name<M: 'static>(&self, event: impl AsRef<str>, handler: impl EventHandler<M>) -> ListenerId {
            self.0.handlers.events.add(event.as_ref(), $once, $prepend, event_fn(handler))
        }
        listener_entry_points!($($rest)*);
    };
    ($(#[$doc:meta])* $name:ident => $list:ident, prepend: $prepend:literal; $($rest:tt)*) => {
        $(#[$doc])*
        pub fn $name(&self, listener: impl Fn(&Socket, &str, &[Value]) + Send + Sync + 'static) -> ListenerId {
            self.0.handlers.$list.add(&self.0.ns, $prepend, Arc::new(listener))
        }
        listener_entry_points!($($rest)*);
    };
}

impl Socket {
    listener_entry_points! {
        /// Adds a listener of `event`: an async closure `|socket: Socket|`,
        /// `|socket: Socket, data: T|` or `|socket: Socket, data: T, ack:
        /// AckSender|` (see [`EventHandler`]). The arguments decode into `T` (a
        /// tuple for several arguments; `serde_json::Value` for raw JSON;
        /// `bytes::Bytes` wherever a binary attachment is); an event whose
        /// arguments do not decode is logged and skipped by this listener.
        /// Several listeners of one event run in registration order (Node's
        /// `socket.on`); the id removes this one ([`Socket::remove_listener`]).
        ///
        /// ```no_run
        /// # use roomcast_socketio::{Socket, AckSender};
        /// # fn f(socket: Socket) {
        /// socket.on("chat", |socket: Socket, (room, text): (String, String)| async move {
        ///     socket.to([room]).emit("chat", &text).ok();
        /// });
        /// socket.on("ping", |_: Socket, n: u32, ack: AckSender| async move {
        ///     ack.send(&("pong", n)).ok();
        /// });
        /// # }
        /// ```
        on => events, once: false, prepend: false;

        /// Adds a listener that runs for the next `event` only (Node's `once`).
        once => events, once: true, prepend: false;

        /// Adds a listener of `event` that runs before the others (Node's
        /// `prependListener`).
        prepend_listener => events, once: false, prepend: true;
    }

    /// Adds a listener of `event` given its arguments as received
    /// ([`RawArgs`]), to relay them unchanged with [`Socket::emit_raw`] or
    /// [`AckSender::send_raw`]. Unless the socket has a catch-all or a
    /// packet middleware, an event's arguments are checked as JSON but not
    /// decoded, and relaying them copies their text.
    ///
    /// ```no_run
    /// # use roomcast_socketio::{AckSender, RawArgs, Socket};
    /// # fn f(socket: Socket) {
    /// socket.on_raw("chat", |socket: Socket, args: RawArgs, _: AckSender| async move {
    ///     socket.broadcast().emit_raw("chat", &args).ok();
    /// });
    /// # }
    /// ```
    pub fn on_raw<F, Fut>(&self, event: impl AsRef<str>, handler: F) -> ListenerId
    where
        F: Fn(Socket, RawArgs, AckSender) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.0
            .handlers
            .events
            .add(event.as_ref(), false, false, raw_fn(handler))
    }

    /// Removes every listener of `event` (Node's `removeAllListeners(event)`).
    pub fn off(&self, event: &str) {
        self.0.handlers.events.remove_event(Some(event));
    }

    /// Removes every listener of every event (not the catch-alls).
    pub fn remove_all_listeners(&self) {
        self.0.handlers.events.remove_event(None);
    }

    /// Removes one listener — of an event, a catch-all (incoming or
    /// outgoing) or a packet middleware — by the id its registration
    /// returned (Node's `off(event, fn)`, `offAny(fn)`, …). Whether it was
    /// registered.
    pub fn remove_listener(&self, id: ListenerId) -> bool {
        let (h, ns) = (&self.0.handlers, &self.0.ns);
        h.events.remove(id)
            || h.any_incoming.remove(ns, id)
            || h.any_outgoing.remove(ns, id)
            || h.middlewares.remove(id)
    }

    /// The listeners of `event`, in the order they run.
    pub fn listeners(&self, event: &str) -> Vec<ListenerId> {
        self.0.handlers.events.ids(Some(event))
    }

    /// How many listeners `event` has.
    pub fn listener_count(&self, event: &str) -> usize {
        self.listeners(event).len()
    }

    listener_entry_points! {
        /// Calls `listener(socket, event, args)` for every incoming event,
        /// before its listeners (Node's `onAny`).
        on_any => any_incoming, prepend: false;

        /// Same as [`Socket::on_any`], before the other catch-alls (Node's `prependAny`).
        prepend_any => any_incoming, prepend: true;
    }

    /// Removes every incoming catch-all (Node's `offAny()`; one:
    /// [`Socket::remove_listener`]).
    pub fn off_any(&self) {
        self.0.handlers.any_incoming.clear(&self.0.ns);
    }

    /// The incoming catch-alls, in the order they run (Node's `listenersAny`).
    pub fn listeners_any(&self) -> Vec<ListenerId> {
        self.0.handlers.any_incoming.ids()
    }

    listener_entry_points! {
        /// Calls `listener(socket, event, args)` for every event sent to this
        /// socket (its own emits and broadcasts that reach it; Node's
        /// `onAnyOutgoing`).
        on_any_outgoing => any_outgoing, prepend: false;

        /// Same as [`Socket::on_any_outgoing`], before the others (Node's
        /// `prependAnyOutgoing`).
        prepend_any_outgoing => any_outgoing, prepend: true;
    }

    /// Removes every outgoing catch-all (Node's `offAnyOutgoing()`).
    pub fn off_any_outgoing(&self) {
        self.0.handlers.any_outgoing.clear(&self.0.ns);
    }

    /// The outgoing catch-alls, in the order they run.
    pub fn listeners_any_outgoing(&self) -> Vec<ListenerId> {
        self.0.handlers.any_outgoing.ids()
    }

    /// Adds a packet middleware (Node's `socket.use`): it sees every
    /// incoming event as `[event, ...args]` before any listener, may change
    /// it, and passes it on with `Ok(())` or drops it with an `Err` that
    /// reaches the socket's [`Socket::on_error`] hooks. Middlewares run in
    /// order, synchronously (Node's may call `next` later).
    ///
    /// ```no_run
    /// # use roomcast_socketio::{Socket, SocketError};
    /// # fn f(socket: Socket) {
    /// socket.use_middleware(|_socket, packet| match packet[0].as_str() {
    ///     Some("admin") => Err(SocketError::new("not allowed")),
    ///     _ => Ok(()),
    /// });
    /// socket.on_error(|socket: Socket, e: SocketError| async move {
    ///     socket.emit("denied", &e.message).ok();
    /// });
    /// # }
    /// ```
    pub fn use_middleware(
        &self,
        middleware: impl Fn(&Socket, &mut Vec<Value>) -> Result<(), SocketError> + Send + Sync + 'static,
    ) -> ListenerId {
        self.0
            .handlers
            .middlewares
            .add("", false, false, Arc::new(middleware))
    }

    /// Runs `hook(socket, error)` when a packet middleware rejects an
    /// event (Node's `socket.on("error")`). Without a hook the rejection is
    /// logged.
    pub fn on_error<F, Fut>(&self, hook: F)
    where
        F: Fn(Socket, SocketError) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.0
            .handlers
            .errors
            .write()
            .push(Arc::new(move |s, e| Box::pin(hook(s, e))));
    }

    /// Runs `hook(socket, reason)` when the socket is disconnecting, while
    /// it is still in its rooms.
    pub fn on_disconnecting<F, Fut>(&self, hook: F)
    where
        F: Fn(Socket, DisconnectReason) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.0
            .handlers
            .disconnecting
            .write()
            .push(disconnect_fn(hook));
    }

    /// Runs `hook(socket, reason)` once the socket has disconnected.
    pub fn on_disconnect<F, Fut>(&self, hook: F)
    where
        F: Fn(Socket, DisconnectReason) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.0
            .handlers
            .disconnected
            .write()
            .push(disconnect_fn(hook));
    }

    pub(crate) fn notify_outgoing<T: Serialize + ?Sized>(&self, event: &str, data: &T) {
        if self.0.handlers.any_outgoing.is_empty() {
            return;
        }
        if let Ok((Value::Array(args), _)) = args_to_value(None, data) {
            self.notify_outgoing_values(event, &args);
        }
    }

    pub(crate) fn notify_outgoing_values(&self, event: &str, args: &[Value]) {
        self.0.handlers.any_outgoing.call(self, event, args);
    }

    /// Runs the packet middlewares (the packet is decoded); `false` when
    /// one rejected the event.
    fn run_middlewares(&self, packet: &mut Packet) -> bool {
        let middlewares = self.0.handlers.middlewares.snapshot();
        for m in middlewares.iter() {
            let Some(Data::Value(Value::Array(data))) = packet.data.as_mut() else {
                return false;
            };
            if let Err(e) = (m.f)(self, data) {
                let hooks = self.0.handlers.errors.read().clone();
                if hooks.is_empty() {
                    tracing::warn!(socket = %self.0.id, error = %e, "event rejected by a middleware; no error hook");
                }
                for hook in hooks {
                    let me = self.clone();
                    handler::run(hook(self.clone(), e.clone()), move || me.disconnect());
                }
                return false;
            }
        }
        true
    }

    /// Runs the catch-alls and the listeners of the event (whose data was
    /// checked, or decoded). Typed listeners borrow the arguments (text or
    /// values); raw ones get a copy, the last one the arguments
    /// themselves.
    fn dispatch(&self, mut packet: Packet, listeners: &Snapshot<EventFn>) {
        // The name outlives the borrow of the packet, which the listeners
        // get mutably.
        let event = match &packet.data {
            Some(Data::Event(json)) => json.name_smol().clone(),
            _ => match packet.event_name() {
                Some(name) => SmolStr::from(name),
                None => return,
            },
        };
        if !self.0.handlers.any_incoming.is_empty() {
            self.0
                .handlers
                .any_incoming
                .call(self, &event, packet.args());
        }
        let Some(last) = listeners.iter().rposition(|l| l.event == event) else {
            return;
        };
        let shared = listeners[..last].iter().any(|l| l.event == event);
        let mut ack = Some(AckSender::new(self.clone(), packet.id, shared));
        for (i, l) in listeners[..=last].iter().enumerate() {
            if l.event != event {
                continue;
            }
            // A `once` listener runs only if this pass removed it.
            if l.once && !self.0.handlers.events.remove(l.id) {
                continue;
            }
            let ack = match shared {
                true => ack.as_ref().map(AckSender::share),
                false => ack.take(),
            };
            let Some(ack) = ack else { continue };
            if let Some(fut) = (l.f)(self.clone(), &mut packet, i == last, ack) {
                let me = self.clone();
                handler::run(fut, move || me.disconnect());
            }
        }
    }

    /// Hands one packet to its listeners (events) or to the emit waiting
    /// for it (acks); a DISCONNECT from the client closes the socket. The
    /// caller has checked that the socket is connected.
    ///
    /// An event's data still held as text is checked first, and decoded
    /// into values only for catch-alls and packet middlewares (typed
    /// listeners read the text): an error means the packet was not valid
    /// JSON, and its connection is to be closed.
    pub(super) fn handle(&self, mut packet: Packet) -> Result<(), CloseReason> {
        match packet.kind {
            PacketType::Event | PacketType::BinaryEvent => {
                let h = &self.0.handlers;
                let listeners = h.events.snapshot();
                // Typed listeners read text too; catch-alls and packet
                // middlewares take values.
                let values = !h.middlewares.is_empty() || !h.any_incoming.is_empty();
                let checked = match values {
                    true => packet.decode_data(),
                    false => packet.check_data(),
                };
                if let Err(e) = checked {
                    tracing::info!(socket = %self.0.id, error = %e, "closing connection: invalid socket.io packet");
                    return Err(CloseReason::ParseError);
                }
                if !h.middlewares.is_empty() && !self.run_middlewares(&mut packet) {
                    return Ok(());
                }
                self.dispatch(packet, &listeners);
            }
            PacketType::Ack | PacketType::BinaryAck => {
                let Some(id) = packet.id else { return Ok(()) };
                let slot = self.0.acks.lock().remove(&id);
                if let Some(slot) = slot {
                    let args = packet.take_args();
                    let _ = slot.send(AckReply {
                        args,
                        attachments: packet.attachments,
                    });
                }
            }
            PacketType::Disconnect => self.close(DisconnectReason::ClientNamespaceDisconnect),
            _ => {}
        }
        Ok(())
    }
}
