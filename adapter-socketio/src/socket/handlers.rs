//! A socket's handlers: event handlers by name, catch-all listeners, and
//! disconnect hooks; how an incoming packet reaches them.
//!
//! Semantics:
//! - One handler per event name: a second registration replaces the first.
//!   Catch-all listeners ([`Socket::on_any`]) run before the event's
//!   handler, in registration order.
//! - An event whose arguments do not decode into the handler's type is
//!   logged and ignored.
//! - Handlers run as [`handler::run`](crate::handler) runs them: the
//!   synchronous part at once, in packet order. A panic disconnects the
//!   socket.
//! - On disconnect every handler and listener is dropped (they often hold a
//!   clone of their socket, which would otherwise keep itself alive).

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::RwLock;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::Socket;
use crate::ack::{AckReply, AckSender};
use crate::handler::{self, BoxFuture};
use crate::parser::{args_to_value, decode_args, Packet, PacketType};
use crate::{ConnectError, DisconnectReason};

/// An event handler with typed arguments.
pub(crate) trait EventHandler: Send + Sync + 'static {
    fn call(
        &self,
        socket: Socket,
        args: &[Value],
        attachments: &[Bytes],
        ack: AckSender,
    ) -> Option<BoxFuture<()>>;
}

struct TypedEvent<F, T> {
    f: F,
    _args: PhantomData<fn(T)>,
}

impl<F, T, Fut> EventHandler for TypedEvent<F, T>
where
    F: Fn(Socket, T, AckSender) -> Fut + Send + Sync + 'static,
    T: DeserializeOwned + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn call(
        &self,
        socket: Socket,
        args: &[Value],
        attachments: &[Bytes],
        ack: AckSender,
    ) -> Option<BoxFuture<()>> {
        match decode_args::<T>(args, attachments) {
            Ok(data) => Some(Box::pin((self.f)(socket, data, ack))),
            Err(e) => {
                tracing::debug!(socket = %socket.id(), error = %e, "event arguments do not match the handler's type; ignored");
                None
            }
        }
    }
}

/// An event handler given the raw arguments and attachments.
struct RawEvent<F>(F);

impl<F, Fut> EventHandler for RawEvent<F>
where
    F: Fn(Socket, Vec<Value>, Vec<Bytes>, AckSender) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn call(
        &self,
        socket: Socket,
        args: &[Value],
        attachments: &[Bytes],
        ack: AckSender,
    ) -> Option<BoxFuture<()>> {
        Some(Box::pin((self.0)(
            socket,
            args.to_vec(),
            attachments.to_vec(),
            ack,
        )))
    }
}

/// A catch-all listener: event name and raw arguments.
type AnyListener = Arc<dyn Fn(&Socket, &str, &[Value]) + Send + Sync>;

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
    events: RwLock<EventHandlers>,
    any_incoming: RwLock<Vec<AnyListener>>,
    any_outgoing: RwLock<Vec<AnyListener>>,
    pub(super) disconnecting: RwLock<Vec<DisconnectFn>>,
    pub(super) disconnected: RwLock<Vec<DisconnectFn>>,
}

impl Handlers {
    pub(super) fn has_outgoing_listeners(&self) -> bool {
        !self.any_outgoing.read().is_empty()
    }

    /// Drops every handler and listener (the disconnect hooks are taken
    /// when they run).
    pub(super) fn clear(&self) {
        self.events.write().0 = Vec::new();
        self.any_incoming.write().clear();
        self.any_outgoing.write().clear();
        self.disconnecting.write().clear();
    }
}

/// Event handlers by name: a short list, searched in order. A socket has a
/// handful; a hash map would cost each socket more memory than the search.
#[derive(Default)]
struct EventHandlers(Vec<(Box<str>, Arc<dyn EventHandler>)>);

impl EventHandlers {
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
}

impl Socket {
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
        let handler = TypedEvent {
            f: handler,
            _args: PhantomData,
        };
        self.0
            .handlers
            .events
            .write()
            .insert(event.into(), Arc::new(handler));
    }

    /// Handles `event` with its raw arguments: JSON values (binary ones as
    /// `{"_placeholder":true,"num":N}`) and the attachments they refer to.
    /// Useful to relay events unchanged (see [`Socket::emit_raw`]).
    pub fn on_raw<F, Fut>(&self, event: impl Into<String>, handler: F)
    where
        F: Fn(Socket, Vec<Value>, Vec<Bytes>, AckSender) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.0
            .handlers
            .events
            .write()
            .insert(event.into(), Arc::new(RawEvent(handler)));
    }

    /// Removes the handler of `event`.
    pub fn off(&self, event: &str) {
        self.0.handlers.events.write().remove(event);
    }

    /// Calls `listener(socket, event, args)` for every incoming event, before its handler.
    pub fn on_any(&self, listener: impl Fn(&Socket, &str, &[Value]) + Send + Sync + 'static) {
        self.0
            .handlers
            .any_incoming
            .write()
            .push(Arc::new(listener));
    }

    /// Calls `listener(socket, event, args)` for every event sent to this
    /// socket (its own emits and broadcasts that reach it).
    pub fn on_any_outgoing(
        &self,
        listener: impl Fn(&Socket, &str, &[Value]) + Send + Sync + 'static,
    ) {
        let mut listeners = self.0.handlers.any_outgoing.write();
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
        if self.0.handlers.any_outgoing.read().is_empty() {
            return;
        }
        if let Ok((Value::Array(args), _)) = args_to_value(None, data) {
            self.notify_outgoing_values(event, &args);
        }
    }

    pub(crate) fn notify_outgoing_values(&self, event: &str, args: &[Value]) {
        let listeners = self.0.handlers.any_outgoing.read().clone();
        for l in listeners {
            l(self, event, args);
        }
    }

    /// Hands one packet to its handler (events) or to the emit waiting for
    /// it (acks); a DISCONNECT from the client closes the socket. The
    /// caller has checked that the socket is connected.
    pub(super) fn handle(&self, packet: Packet) {
        match packet.kind {
            PacketType::Event | PacketType::BinaryEvent => {
                let Some(event) = packet.event_name() else {
                    return;
                };
                let args = packet.args();
                let any = self.0.handlers.any_incoming.read().clone();
                for l in any {
                    l(self, event, args);
                }
                let handler = self.0.handlers.events.read().get(event).cloned();
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
}
