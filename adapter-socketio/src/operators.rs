//! Broadcast operators: choose recipients and flags, then act.
//!
//! An operator is a [`Target`] (rooms, except-rooms) plus [`Flags`]
//! (volatile, local) and an optional ack timeout, on one namespace. Every
//! action goes through the namespace's [`Hub`](roomcast_core::Hub): `emit`
//! encodes the packet once and the hub queues the same bytes for every
//! recipient; room and disconnect actions select recipients the same way.

use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use roomcast_core::{ClientId, Flags, Room, Target};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::parser::{args_to_value, encode_event};
use crate::{AckError, BroadcastAcks, EmitError, Namespace, Socket};

/// Recipients and flags for a broadcast. Built from a server, namespace or
/// socket (`to`, `except`, `broadcast`, …).
///
/// ```no_run
/// # fn f(io: roomcast_socketio::Server) {
/// io.to(["room-a", "room-b"]).except(["muted"]).volatile().emit("news", "hi").ok();
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct BroadcastOperator {
    ns: Namespace,
    target: Target,
    flags: Flags,
    timeout: Option<Duration>,
}

impl BroadcastOperator {
    pub(crate) fn new(ns: Namespace) -> Self {
        BroadcastOperator {
            ns,
            target: Target::all(),
            flags: Flags::default(),
            timeout: None,
        }
    }

    pub(crate) fn except_socket(mut self, id: ClientId) -> Self {
        self.target = self.target.except_client(id);
        self
    }

    /// Adds rooms to the recipients (their union).
    pub fn to<R: Into<Room>>(mut self, rooms: impl IntoIterator<Item = R>) -> Self {
        self.target = self.target.and(rooms);
        self
    }

    /// Same as [`BroadcastOperator::to`].
    pub fn within<R: Into<Room>>(self, rooms: impl IntoIterator<Item = R>) -> Self {
        self.to(rooms)
    }

    /// Leaves out sockets in these rooms.
    pub fn except<R: Into<Room>>(mut self, rooms: impl IntoIterator<Item = R>) -> Self {
        self.target = self.target.except(rooms);
        self
    }

    /// Only sockets on this node.
    pub fn local(mut self) -> Self {
        self.flags.local = true;
        self
    }

    /// The event may be dropped for clients that cannot take it now.
    pub fn volatile(mut self) -> Self {
        self.flags.volatile = true;
        self
    }

    /// How long [`BroadcastOperator::emit_with_ack`] waits for answers
    /// (default: until every recipient answered or disconnected).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sends an event to every recipient.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        let message = encode_event(self.ns.name(), event, data, None)?;
        let listeners = self.ns.any_outgoing_listeners();
        let args = if listeners {
            match args_to_value(None, data) {
                Ok((serde_json::Value::Array(a), _)) => a,
                _ => Vec::new(),
            }
        } else {
            Vec::new()
        };
        self.ns
            .hub()
            .broadcast_each(&self.target, &message, self.flags, |id, _| {
                if listeners {
                    if let Some(s) = self.ns.socket(id) {
                        s.notify_outgoing_values(event, &args);
                    }
                }
            });
        Ok(())
    }

    /// Sends an event to every recipient and collects one answer from each,
    /// within the timeout.
    pub async fn emit_with_ack<T, R>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<BroadcastAcks<R>, AckError>
    where
        T: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let id = self.ns.next_ack_id();
        let message =
            encode_event(self.ns.name(), event, data, Some(id)).map_err(EmitError::from)?;
        let mut pending = Vec::new();
        // Slots are registered before the hub queues the packet: an answer
        // can never arrive before its slot exists.
        let recipients: Vec<Socket> = self
            .ns
            .hub()
            .select(&self.target)
            .into_iter()
            .filter_map(|id| self.ns.socket(id))
            .collect();
        for socket in &recipients {
            if let Some(rx) = socket.register_ack(id) {
                pending.push((socket.id(), rx));
            }
        }
        for socket in &recipients {
            if socket.send_raw(&message).is_err() {
                socket.forget_ack(id);
            }
        }
        let mut waiting: FuturesUnordered<_> = pending
            .into_iter()
            .map(|(client, rx)| async move { (client, rx.await) })
            .collect();
        let mut acks = BroadcastAcks {
            responses: Vec::new(),
            timed_out: Vec::new(),
            invalid: Vec::new(),
        };
        let mut answered = std::collections::HashSet::new();
        let collect = async {
            while let Some((client, reply)) = waiting.next().await {
                answered.insert(client);
                match reply {
                    Ok(reply) => match reply.decode::<R>() {
                        Ok(v) => acks.responses.push((client, v)),
                        Err(e) => acks.invalid.push((client, e)),
                    },
                    Err(_) => acks.timed_out.push(client),
                }
            }
        };
        match self.timeout {
            Some(t) => {
                let _ = tokio::time::timeout(t, collect).await;
            }
            None => collect.await,
        }
        for socket in &recipients {
            if !answered.contains(&socket.id()) {
                socket.forget_ack(id);
                acks.timed_out.push(socket.id());
            }
        }
        Ok(acks)
    }

    /// Ids of the recipients on this node.
    pub fn sockets(&self) -> Vec<ClientId> {
        self.ns.hub().select(&self.target)
    }

    /// The recipients.
    pub async fn fetch_sockets(&self) -> Vec<Socket> {
        self.sockets()
            .into_iter()
            .filter_map(|id| self.ns.socket(id))
            .collect()
    }

    /// Makes the recipients join rooms.
    pub fn sockets_join<R: Into<Room>>(&self, rooms: impl IntoIterator<Item = R>) {
        let rooms: Vec<Room> = rooms.into_iter().map(Into::into).collect();
        self.ns
            .hub()
            .add_rooms(&self.target, &rooms, self.flags.local);
    }

    /// Makes the recipients leave rooms.
    pub fn sockets_leave<R: Into<Room>>(&self, rooms: impl IntoIterator<Item = R>) {
        let rooms: Vec<Room> = rooms.into_iter().map(Into::into).collect();
        self.ns
            .hub()
            .remove_rooms(&self.target, &rooms, self.flags.local);
    }

    /// Disconnects the recipients from the namespace; with `close`, closes
    /// their whole connections.
    pub fn disconnect_sockets(&self, close: bool) {
        for socket in self
            .sockets()
            .into_iter()
            .filter_map(|id| self.ns.socket(id))
        {
            if close {
                socket.disconnect_all();
            } else {
                socket.disconnect();
            }
        }
    }
}
