//! What a namespace does with operations other nodes forward to it.
//!
//! Every namespace attaches a [`RemoteHandler`] to the server's
//! [`Cluster`](roomcast_core::cluster::Cluster) under its name. Requests
//! from other nodes are applied to this node's sockets only (never
//! forwarded again):
//! - broadcasts are delivered through the namespace's hub;
//! - room changes and disconnects apply to the local sockets in the target;
//! - a fetch answers with the local sockets in the target (id and rooms);
//! - a broadcast expecting acks answers first with how many local sockets
//!   were sent the packet, then with one answer per socket as it comes
//!   (arguments as JSON; binary attachments of answers are not carried).

use std::sync::Arc;

use async_trait::async_trait;
use roomcast_core::cluster::{NodeId, RemoteClient, RemoteHandler, Request, Response};
use roomcast_core::{Flags, Message};
use tokio::sync::mpsc;

use crate::Namespace;

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
    async fn handle(&self, from: NodeId, request: Request, reply: mpsc::Sender<Response>) {
        let hub = self.ns.hub();
        match request {
            Request::Broadcast {
                target,
                flags,
                frames,
            } => {
                hub.broadcast(&target, &Message::many(frames), local(flags));
            }
            Request::AddRooms { target, rooms } => hub.add_rooms(&target, &rooms, true),
            Request::RemoveRooms { target, rooms } => hub.remove_rooms(&target, &rooms, true),
            Request::Disconnect {
                target,
                close_connection,
            } => self
                .ns
                .operator()
                .to(target.rooms)
                .except(target.except)
                .local()
                .disconnect_sockets(close_connection),
            Request::FetchClients { request, target } => {
                let clients = hub
                    .select(&target)
                    .into_iter()
                    .map(|id| RemoteClient {
                        id,
                        rooms: hub.rooms_of(id).unwrap_or_default(),
                        data: Vec::new(),
                    })
                    .collect();
                let _ = reply.send(Response::Clients { request, clients }).await;
            }
            Request::BroadcastWithAck {
                request,
                target,
                frames,
                ..
            } => {
                let Some(id) = ack_id(&frames) else {
                    tracing::debug!(node = %from, "forwarded broadcast with ack has no ack id");
                    return;
                };
                let message = Message::many(frames);
                let mut pending = Vec::new();
                for socket in hub
                    .select(&target)
                    .into_iter()
                    .filter_map(|c| self.ns.socket(c))
                {
                    if let Some(rx) = socket.register_ack(id) {
                        if socket.send_raw(&message).is_ok() {
                            pending.push((socket.id(), rx));
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
                for (client, rx) in pending {
                    let reply = reply.clone();
                    tokio::spawn(async move {
                        if let Ok(answer) = rx.await {
                            let payload = serde_json::to_vec(&answer.args).unwrap_or_default();
                            let _ = reply
                                .send(Response::Ack {
                                    request,
                                    client,
                                    payload,
                                })
                                .await;
                        }
                    });
                }
            }
            Request::ServerMessage { .. } => {}
        }
    }
}

/// The ack id of an encoded event: the digits after the type, the
/// attachment count and the namespace (`42/chat,17[...]` → 17).
pub(crate) fn ack_id(frames: &[roomcast_core::Frame]) -> Option<u64> {
    let roomcast_core::Frame::Text(text) = frames.first()? else {
        return None;
    };
    let s = text.as_str().strip_prefix('4')?;
    let mut rest = s.get(1..)?;
    if s.starts_with('5') || s.starts_with('6') {
        rest = &rest[rest.find('-')? + 1..];
    }
    if rest.starts_with('/') {
        rest = &rest[rest.find(',')? + 1..];
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    rest.get(..digits)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use roomcast_core::Frame;

    #[test]
    fn finds_the_ack_id() {
        assert_eq!(ack_id(&[Frame::text("4217[\"a\"]")]), Some(17));
        assert_eq!(ack_id(&[Frame::text("42/chat,3[\"a\"]")]), Some(3));
        assert_eq!(ack_id(&[Frame::text("451-/x,9[\"a\",{}]")]), Some(9));
        assert_eq!(ack_id(&[Frame::text("42[\"a\"]")]), None);
        assert_eq!(ack_id(&[Frame::binary(vec![1])]), None);
    }
}
