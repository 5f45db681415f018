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
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::RwLock;
use serde::Serialize;
use serde_json::Value;

use super::Socket;
use crate::ack::{AckReply, AckSender};
use crate::event_handler::{sealed::Sealed, EventHandler};
use crate::handler::{self, BoxFuture};
use crate::parser::{args_to_value, Packet, PacketType};
use crate::{ConnectError, DisconnectReason};

/// An event handler, its shape erased.
pub(crate) type EventFn =
    Arc<dyn Fn(Socket, &[Value], &[Bytes], AckSender) -> Option<BoxFuture<()>> + Send + Sync>;

fn event_fn<M: 'static>(handler: impl EventHandler<M>) -> EventFn {
    Arc::new(move |socket, args, attachments, ack| {
        Sealed::<M>::call(&handler, socket, args, attachments, ack)
    })
}

fn raw_fn<F, Fut>(handler: F) -> EventFn
where
    F: Fn(Socket, Vec<Value>, Vec<Bytes>, AckSender) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Arc::new(move |socket, args, attachments, ack| {
        Some(Box::pin(handler(
            socket,
            args.to_vec(),
            attachments.to_vec(),
            ack,
        )))
    })
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
struct EventHandlers(Vec<(Box<str>, EventFn)>);

impl EventHandlers {
    fn insert(&mut self, name: String, handler: EventFn) {
        match self.0.iter_mut().find(|(n, _)| **n == *name) {
            Some(slot) => slot.1 = handler,
            None => self.0.push((name.into_boxed_str(), handler)),
        }
    }

    fn get(&self, name: &str) -> Option<&EventFn> {
        self.0.iter().find(|(n, _)| &**n == name).map(|(_, h)| h)
    }

    fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| &**n != name);
    }
}

impl Socket {
    /// Handles `event` with `handler`: an async closure `|socket: Socket|`,
    /// `|socket: Socket, data: T|` or `|socket: Socket, data: T, ack:
    /// AckSender|` (see [`EventHandler`]). The arguments decode into `T` (a
    /// tuple for several arguments; `serde_json::Value` for raw JSON;
    /// `bytes::Bytes` wherever a binary attachment is). An event whose
    /// arguments do not decode is logged and ignored. A second handler for
    /// the same event replaces the first.
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
    pub fn on<M: 'static>(&self, event: impl Into<String>, handler: impl EventHandler<M>) {
        self.0
            .handlers
            .events
            .write()
            .insert(event.into(), event_fn(handler));
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
            .insert(event.into(), raw_fn(handler));
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
                    if let Some(fut) = handler(self.clone(), args, &packet.attachments, ack) {
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
