//! Broadcast operators: choose recipients and flags, then act.
//!
//! An operator is a [`Target`] (rooms, except-rooms) plus [`Flags`]
//! (volatile, local) and an optional ack timeout, on one namespace. Every
//! action goes through the namespace's [`Hub`](roomcast_core::Hub): `emit`
//! encodes the packet once and the hub queues the same bytes for every
//! recipient; room and disconnect actions select recipients the same way.

use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use roomcast_core::cluster::{Request, Response};
use roomcast_core::{ClientId, Flags, Message, Room, Target};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::parser::{args_to_value, DecodeError, Header, PacketType};
use crate::reserved::check_event;
use crate::{AckError, BroadcastAcks, EmitError, Namespace, RawArgs, RemoteSocket, Socket};

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
    /// Whether a compressing transport may compress the events (Node's
    /// `compress` flag; default true).
    compress: bool,
}

impl BroadcastOperator {
    pub(crate) fn new(ns: Namespace) -> Self {
        BroadcastOperator {
            ns,
            target: Target::all(),
            flags: Flags::default(),
            timeout: None,
            compress: true,
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

    /// Whether the events may be compressed (default true), as Node's
    /// `compress(false)`: with false they are sent uncompressed over
    /// WebSocket (`permessage-deflate`) and do not make a polling answer
    /// compressed. Only this node's recipients see the flag.
    ///
    /// ```no_run
    /// # fn f(io: roomcast_socketio::Server) {
    /// io.to(["room"]).compress(false).emit("tick", &[1, 2, 3]).ok();
    /// # }
    /// ```
    pub fn compress(mut self, compress: bool) -> Self {
        self.compress = compress;
        self
    }

    /// How long [`BroadcastOperator::emit_with_ack`] waits for answers
    /// (default: until every recipient answered or disconnected; the other
    /// nodes' answers until the cluster's own request timeout), and
    /// [`BroadcastOperator::fetch_sockets`] for the other nodes (default
    /// 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sends an event to every recipient.
    ///
    /// A reserved event name (`connect`, `disconnect`, …) is refused with
    /// [`EmitError::Reserved`], as by [`Socket::emit`].
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        check_event(event)?;
        let message = self
            .ns
            .parser()
            .encode_event(self.ns.name(), event, data, None)?;
        self.send(event, message, || match args_to_value(None, data) {
            Ok((serde_json::Value::Array(a), _)) => a,
            _ => Vec::new(),
        });
        Ok(())
    }

    /// Sends an event with arguments as received
    /// ([`Socket::on_raw`](crate::Socket::on_raw)) or built with
    /// [`RawArgs::new`] to every recipient: a relay. Arguments held as JSON
    /// text are copied into the frame as they are.
    ///
    /// ```no_run
    /// # use roomcast_socketio::{AckSender, RawArgs, Socket};
    /// # fn f(socket: Socket) {
    /// socket.on_raw("chat", |socket: Socket, args: RawArgs, _: AckSender| async move {
    ///     socket.to(["lobby"]).emit_raw("chat", &args).ok();
    /// });
    /// # }
    /// ```
    pub fn emit_raw(&self, event: &str, args: &RawArgs) -> Result<(), EmitError> {
        check_event(event)?;
        let header = Header::new(PacketType::Event, self.ns.name(), None);
        let message = self.ns.parser().encode_raw(header, Some(event), args)?;
        self.send(event, message, || args.values().into_owned());
        Ok(())
    }

    /// Queues an encoded event to every recipient (stored for recovery,
    /// forwarded to the cluster); `args` are what outgoing listeners hear.
    fn send(&self, event: &str, message: Message, args: impl FnOnce() -> Vec<serde_json::Value>) {
        let message = message.compress(self.compress);
        let recipients = match self.ns.recovery() {
            // Stored with its offset and queued here under the store's
            // lock; the other nodes get it without the offset.
            // Through the cluster's log: delivered here when read back,
            // with the log's offset, as on every other node. Outgoing
            // listeners hear it now, for the sockets here it is meant for.
            Some(recovery)
                if !self.flags.volatile && !self.flags.local && recovery.log().is_some() =>
            {
                if let Some(log) = recovery.log() {
                    log.log()
                        .append(self.ns.name(), &self.target, self.flags, message.frames())
                        .unwrap_or_else(
                            |e| tracing::warn!(error = %e, "event not appended to the log"),
                        );
                }
                if self.ns.any_outgoing_listeners() {
                    self.ns.hub().select(&self.target)
                } else {
                    Vec::new()
                }
            }
            Some(recovery) if !self.flags.volatile && recovery.log().is_none() => {
                let local = Flags {
                    local: true,
                    ..self.flags
                };
                let recipients = recovery.record(&self.target, &message, |m| self.queue(m, local));
                self.forward(&message);
                recipients
            }
            _ => self.queue(&message, self.flags),
        };
        if !recipients.is_empty() {
            let args = args();
            for s in recipients.into_iter().filter_map(|id| self.ns.socket(id)) {
                s.notify_outgoing_values(event, &args);
            }
        }
    }

    /// Queues `message` through the hub; the recipients on this node when
    /// some socket has outgoing listeners (empty otherwise).
    fn queue(&self, message: &Message, flags: Flags) -> Vec<ClientId> {
        let mut recipients = Vec::new();
        if !self.ns.any_outgoing_listeners() {
            self.ns.hub().broadcast(&self.target, message, flags);
        } else {
            self.ns
                .hub()
                .broadcast_each(&self.target, message, flags, |id, _| recipients.push(id));
        }
        recipients
    }

    /// Hands a broadcast queued with the local flag to the other nodes.
    fn forward(&self, message: &Message) {
        let cluster = self.ns.hub().cluster();
        if self.flags.local || !cluster.forwards() {
            return;
        }
        let request = Request::Broadcast {
            target: self.target.clone(),
            flags: self.flags,
            frames: message.frames().to_vec(),
        };
        if let Err(e) = cluster.publish(self.ns.name(), request) {
            tracing::warn!(error = %e, "broadcast not forwarded");
        }
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
        check_event(event)?;
        let id = self.ns.next_ack_id();
        let message = self
            .ns
            .parser()
            .encode_event(self.ns.name(), event, data, Some(id))
            .map_err(EmitError::from)?
            .compress(self.compress);
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
        let remote = if self.flags.local || !self.ns.hub().cluster().forwards() {
            None
        } else {
            // Without an ack id: each node assigns its own.
            let frames = self
                .ns
                .parser()
                .encode_event(self.ns.name(), event, data, None)
                .map_err(EmitError::from)?
                .frames()
                .to_vec();
            let request = Request::BroadcastWithAck {
                request: id,
                target: self.target.clone(),
                flags: self.flags,
                frames,
                timeout: self.timeout,
            };
            match self
                .ns
                .hub()
                .cluster()
                .request(self.ns.name(), request)
                .await
            {
                Ok(responses) => Some(responses),
                Err(e) => {
                    tracing::warn!(error = %e, "broadcast with ack not forwarded");
                    None
                }
            }
        };
        let mut waiting: FuturesUnordered<_> = pending
            .into_iter()
            .map(|(client, rx)| async move { (client, rx.await) })
            .collect();
        let mut acks = BroadcastAcks {
            responses: Vec::new(),
            timed_out: Vec::new(),
            invalid: Vec::new(),
            remote: Vec::new(),
            missing_remote: 0,
        };
        let mut answered = std::collections::HashSet::new();
        let mut remote_acks = Vec::new();
        let mut remote_expected = 0usize;
        let collect_local = async {
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
        let collect_remote = async {
            let Some(mut remote) = remote else { return };
            // Each node first says how many answers to expect, then answers.
            let mut nodes_left = remote.nodes;
            while nodes_left > 0 || remote_acks.len() < remote_expected {
                let Some(envelope) = remote.answers.recv().await else {
                    break;
                };
                match envelope.body {
                    Response::AckCount { count, .. } => {
                        nodes_left = nodes_left.saturating_sub(1);
                        remote_expected += count;
                    }
                    Response::Ack {
                        payload,
                        attachments,
                        ..
                    } => remote_acks.push((payload, attachments)),
                    _ => {}
                }
            }
        };
        let collect = futures_util::future::join(collect_local, collect_remote);
        match self.timeout {
            Some(t) => {
                let _ = tokio::time::timeout(t, collect).await;
            }
            None => {
                collect.await;
            }
        }
        acks.missing_remote = remote_expected.saturating_sub(remote_acks.len());
        for (payload, attachments) in remote_acks {
            let decoded = serde_json::from_slice::<Vec<serde_json::Value>>(&payload)
                .map_err(DecodeError::InvalidJson)
                .and_then(|args| crate::parser::decode_args::<R>(&args, &attachments));
            match decoded {
                Ok(v) => acks.remote.push(v),
                Err(_) => acks.missing_remote += 1,
            }
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

    /// Every recipient across the cluster (Node's `fetchSockets`): the
    /// sockets of this server, then those of every other server that
    /// answers within the operator's timeout (5 s by default; a server that
    /// does not answer in time is left out). With `local`, this server's
    /// only.
    pub async fn fetch_sockets(&self) -> Vec<RemoteSocket> {
        let mut found: Vec<RemoteSocket> = self
            .sockets()
            .into_iter()
            .filter_map(|id| self.ns.socket(id))
            .map(RemoteSocket::local)
            .collect();
        if self.flags.local {
            return found;
        }
        let request = Request::FetchClients {
            request: self.ns.next_ack_id(),
            target: self.target.clone(),
        };
        let json = |b: &[u8]| serde_json::from_slice(b).unwrap_or(serde_json::Value::Null);
        for response in self.ns.ask_other_nodes(request, self.timeout).await {
            if let Response::Clients { clients, .. } = response {
                found.extend(clients.into_iter().map(|c| {
                    let (handshake, data) = (json(&c.handshake), json(&c.data));
                    RemoteSocket::remote(self.ns.clone(), c.id, c.rooms, handshake, data)
                }));
            }
        }
        found
    }

    /// Makes the recipients join rooms.
    pub fn sockets_join<R: Into<Room>>(&self, rooms: impl IntoIterator<Item = R>) {
        let rooms: Vec<Room> = rooms.into_iter().map(Into::into).collect();
        match self.flags.local {
            true => self.ns.hub().add_rooms_local(&self.target, &rooms),
            false => self.ns.hub().add_rooms(&self.target, &rooms),
        }
    }

    /// Makes the recipients leave rooms.
    pub fn sockets_leave<R: Into<Room>>(&self, rooms: impl IntoIterator<Item = R>) {
        let rooms: Vec<Room> = rooms.into_iter().map(Into::into).collect();
        match self.flags.local {
            true => self.ns.hub().remove_rooms_local(&self.target, &rooms),
            false => self.ns.hub().remove_rooms(&self.target, &rooms),
        }
    }

    /// Disconnects the recipients from the namespace, on every node unless
    /// `local`; their connections stay open for other namespaces.
    pub fn disconnect_sockets(&self) {
        self.disconnect(false)
    }

    /// Disconnects the recipients and closes their whole connections, on
    /// every node unless `local` (Node's `disconnectSockets(true)`).
    pub fn close_connections(&self) {
        self.disconnect(true)
    }

    pub(crate) fn disconnect(&self, close: bool) {
        let cluster = self.ns.hub().cluster();
        if !self.flags.local && cluster.forwards() {
            let request = Request::Disconnect {
                target: self.target.clone(),
                close_connection: close,
            };
            if let Err(e) = cluster.publish(self.ns.name(), request) {
                tracing::warn!(error = %e, "disconnect not forwarded");
            }
        }
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
