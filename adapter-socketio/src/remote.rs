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
use roomcast_core::{Flags, Frame, Message, Text};
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
    async fn handle(&self, from: NodeId, request: Request, reply: mpsc::Sender<Response>) {
        metrics::add(metrics::Counter::ClusterReceived, 1);
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
                let Some(frames) = with_ack_id(frames, id) else {
                    tracing::debug!(node = %from, "forwarded broadcast with ack is not an event");
                    let _ = reply.send(Response::AckCount { request, count: 0 }).await;
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

/// The event frames with `id` written in as the ack id: after the type,
/// the attachment count and the namespace (`42/chat,["a"]` →
/// `42/chat,17["a"]`). `None` when the first frame is not an event
/// without an ack id.
pub(crate) fn with_ack_id(mut frames: Vec<Frame>, id: u64) -> Option<Vec<Frame>> {
    let Frame::Text(text) = frames.first()? else {
        return None;
    };
    let s = text.as_str();
    let rest = s.strip_prefix('4')?;
    let kind = rest.as_bytes().first()?;
    let mut at = 2;
    if *kind == b'5' {
        at += s[at..].find('-')? + 1;
    } else if *kind != b'2' {
        return None;
    }
    if s[at..].starts_with('/') {
        at += s[at..].find(',')? + 1;
    }
    if !s[at..].starts_with('[') {
        return None;
    }
    let mut out = String::with_capacity(s.len() + 20);
    out.push_str(&s[..at]);
    out.push_str(itoa::Buffer::new().format(id));
    out.push_str(&s[at..]);
    frames[0] = Frame::Text(Text::from(out));
    Some(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(frames: Option<Vec<Frame>>) -> Option<String> {
        match frames?.into_iter().next()? {
            Frame::Text(t) => Some(t.as_str().to_string()),
            Frame::Binary(_) => None,
        }
    }

    #[test]
    fn writes_the_ack_id() {
        let f = |s: &'static str| vec![Frame::text(s)];
        assert_eq!(
            first(with_ack_id(f("42[\"a\"]"), 17)).unwrap(),
            "4217[\"a\"]"
        );
        assert_eq!(
            first(with_ack_id(f("42/chat,[\"a\"]"), 3)).unwrap(),
            "42/chat,3[\"a\"]"
        );
        assert_eq!(
            first(with_ack_id(
                vec![Frame::text("451-/x,[\"a\",{}]"), Frame::binary(vec![1])],
                9
            ))
            .unwrap(),
            "451-/x,9[\"a\",{}]"
        );
        assert_eq!(with_ack_id(f("4217[\"a\"]"), 1), None, "already has one");
        assert_eq!(with_ack_id(f("43[\"a\"]"), 1), None);
        assert_eq!(with_ack_id(vec![Frame::binary(vec![1])], 1), None);
    }
}
