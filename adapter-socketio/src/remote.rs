//! What a namespace does with operations other nodes forward to it.
//!
//! Every namespace attaches a [`RemoteHandler`] to the server's
//! [`Cluster`](roomcast_core::cluster::Cluster) under its name. Requests
//! from other nodes are applied to this node's sockets only (never
//! forwarded again):
//! - broadcasts are delivered through the namespace's hub;
//! - room changes and disconnects apply to the local sockets in the target;
//! - a fetch answers with the local sockets in the target (id, handshake,
//!   rooms, data), a room listing with every room of the namespace here;
//! - a broadcast expecting acks gets an ack id from *this* node's counter
//!   (the sender's id is never reused: it could be the id of an ack this
//!   node is waiting for), answers first with how many local sockets were
//!   sent the packet, then with one answer per socket as it comes, until
//!   the sender's timeout (then the slot is forgotten);
//! - a server message goes to the namespace's server-event handler.

use std::sync::Arc;

use async_trait::async_trait;
use roomcast_core::cluster::{NodeId, RemoteClient, RemoteHandler, Request, Response};
use roomcast_core::metrics;
use roomcast_core::Flags;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::{Handshake, Namespace};

pub(crate) struct NamespaceRemote {
    ns: Namespace,
}

impl NamespaceRemote {
    pub(crate) fn new(ns: Namespace) -> Arc<Self> {
        Arc::new(NamespaceRemote { ns })
    }
}

fn local(flags: Flags) -> Flags {
    Flags {
        local: true,
        ..flags
    }
}

#[async_trait]
impl RemoteHandler for NamespaceRemote {
    /// A broadcast read from the cluster's log: delivered through the
    /// namespace's recovery (with its offset) when it recovers through the
    /// log; otherwise delivered unless this node sent it (it was delivered
    /// here at once).
    fn logged(&self, mut entry: roomcast_core::cluster::log::Logged) {
        let hub = self.ns.hub();
        let own = entry.from == hub.cluster().node_id();
        if !own {
            // Another node's entry, in this parser's format.
            let Some(message) = self.ns.parser().adopt(std::mem::take(&mut entry.frames)) else {
                tracing::debug!(node = %entry.from, "logged broadcast in a format this parser cannot take");
                return;
            };
            entry.frames = message.frames().to_vec();
        }
        match self.ns.recovery().and_then(|r| r.log()) {
            Some(log) => log.deliver(hub, entry, own),
            None if own => {}
            None => {
                let message = roomcast_core::Message::many(entry.frames);
                hub.broadcast(&entry.target, &message, local(entry.flags));
            }
        }
    }

    async fn handle(&self, from: NodeId, request: Request, reply: mpsc::Sender<Response>) {
        metrics::add(metrics::Counter::ClusterReceived, 1);
        let hub = self.ns.hub();
        match request {
            Request::Broadcast {
                target,
                flags,
                frames,
            } => match self.ns.parser().adopt(frames) {
                Some(message) => {
                    hub.broadcast(&target, &message, local(flags));
                }
                None => {
                    tracing::debug!(node = %from, "forwarded broadcast in a format this parser cannot take")
                }
            },
            Request::AddRooms { target, rooms } => hub.add_rooms_local(&target, &rooms),
            Request::RemoveRooms { target, rooms } => hub.remove_rooms_local(&target, &rooms),
            Request::Disconnect {
                target,
                close_connection,
            } => self
                .ns
                .operator()
                .to(target.rooms)
                .except(target.except)
                .local()
                .disconnect(close_connection),
            Request::FetchClients { request, target } => {
                let clients = hub
                    .select(&target)
                    .into_iter()
                    .filter_map(|id| self.ns.socket(id))
                    .map(|socket| RemoteClient {
                        id: socket.id().to_string(),
                        rooms: hub.rooms_of(socket.id()).unwrap_or_default(),
                        handshake: handshake_json(socket.handshake()).to_string().into_bytes(),
                        data: socket.data_json().to_string().into_bytes(),
                    })
                    .collect();
                let _ = reply.send(Response::Clients { request, clients }).await;
            }
            Request::FetchRooms { request } => {
                let rooms = hub.rooms();
                let _ = reply.send(Response::Rooms { request, rooms }).await;
            }
            Request::BroadcastWithAck {
                request,
                target,
                frames,
                timeout,
                ..
            } => {
                let id = self.ns.next_ack_id();
                let parser = self.ns.parser();
                let adopted = parser.adopt(frames);
                let Some(message) =
                    adopted.and_then(|m| parser.with_ack_id(m.frames().to_vec(), id))
                else {
                    tracing::debug!(node = %from, "forwarded broadcast with ack is not an event");
                    let _ = reply.send(Response::AckCount { request, count: 0 }).await;
                    return;
                };
                let mut pending = Vec::new();
                for socket in hub
                    .select(&target)
                    .into_iter()
                    .filter_map(|c| self.ns.socket(c))
                {
                    if let Some(rx) = socket.register_ack(id) {
                        if socket.send_raw(&message).is_ok() {
                            pending.push((socket, rx));
                        } else {
                            socket.forget_ack(id);
                        }
                    }
                }
                let count = pending.len();
                if reply
                    .send(Response::AckCount { request, count })
                    .await
                    .is_err()
                {
                    return;
                }
                for (socket, rx) in pending {
                    let reply = reply.clone();
                    tokio::spawn(async move {
                        // Past the sender's timeout nobody waits for it.
                        let answer = match timeout {
                            Some(t) => match tokio::time::timeout(t, rx).await {
                                Ok(answer) => answer,
                                Err(_) => {
                                    socket.forget_ack(id);
                                    return;
                                }
                            },
                            None => rx.await,
                        };
                        if let Ok(answer) = answer {
                            let payload = serde_json::to_vec(&answer.args).unwrap_or_default();
                            let _ = reply
                                .send(Response::Ack {
                                    request,
                                    payload,
                                    attachments: answer.attachments,
                                })
                                .await;
                        }
                    });
                }
            }
            Request::ServerMessage { request, payload } => {
                self.ns
                    .dispatch_server_event(from, request, &payload, reply);
            }
        }
    }
}

/// The handshake as the reference server shows it to other servers.
pub(crate) fn handshake_json(h: &Handshake) -> Value {
    let headers: serde_json::Map<String, Value> = h
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.to_string(), Value::from(v.to_str().ok()?))))
        .collect();
    let query: serde_json::Map<String, Value> = h
        .query_pairs()
        .into_iter()
        .map(|(k, v)| (k, Value::from(v)))
        .collect();
    serde_json::json!({
        "headers": headers,
        "time": h.time().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0).to_string(),
        "address": h.address().map(|a| a.ip().to_string()).unwrap_or_default(),
        "xdomain": h.headers().contains_key(http::header::ORIGIN),
        "secure": false,
        "issued": h.issued() as u64,
        "url": h.url(),
        "query": query,
        "auth": h.auth,
    })
}
