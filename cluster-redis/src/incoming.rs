//! Messages from Redis: broadcasts and requests of other nodes, and the
//! answers to our requests.
//!
//! Every message is checked before anything is applied: larger than the
//! size limit, not decodable, of an unknown type or shape → logged at debug
//! level, counted in [`LinkStats::skipped`](crate::LinkStats), skipped. Our
//! own messages (same uid) are skipped silently: this node applied them
//! locally before publishing. Requests are handed to the namespace's
//! [`RemoteHandler`](roomcast_core::cluster::RemoteHandler) in arrival
//! order; its answers are published by a task of their own.

use std::sync::atomic::Ordering;

use rmpv::Value as Mp;
use roomcast_core::cluster::{NodeId, RemoteClient, Request, Response};
use roomcast_core::{Room, Target};
use serde_json::Value as Json;
use tokio::sync::mpsc;

use crate::channels::ChannelKind;
use crate::cluster::Shared;
use crate::packet::{field, mp_to_json, to_frames};
use crate::pending::Kind;
use crate::wire::{self, kind, WireError};

/// How a reply of our namespace handler goes on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReplyAs {
    Sockets,
    Fetch,
    Rooms,
    ServerMessage,
    Acks,
}

impl Shared {
    /// Handles one message from the subscriber connection.
    pub async fn on_message(&self, msg: &redis::Msg) {
        let channel = msg.get_channel_name();
        let payload = msg.get_payload_bytes();
        if payload.len() > self.options.max_message_size {
            self.skip(channel, &WireError::Shape("message larger than the limit"));
            return;
        }
        let result = match self.channels.classify(channel) {
            Some(ChannelKind::Broadcast) => self.on_broadcast(channel, payload).await,
            Some(ChannelKind::Request(scope)) => self.on_request(scope, payload).await,
            Some(ChannelKind::Response) => self.on_response(payload),
            None => Ok(()),
        };
        if let Err(e) = result {
            self.skip(channel, &e);
        }
    }

    fn skip(&self, channel: &str, e: &WireError) {
        self.node.stats.skipped.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(channel, error = %e, "skipped a malformed cluster message");
    }

    async fn on_broadcast(&self, channel: &str, payload: &[u8]) -> Result<(), WireError> {
        let b = wire::decode_broadcast(payload)?;
        if b.uid == self.node.uid.as_str() {
            return Ok(());
        }
        let (nsp, frames) = to_frames(&b.packet)?;
        if !channel.starts_with(&self.channels.broadcast(&nsp)) {
            return Err(WireError::Shape("packet namespace differs from channel"));
        }
        let Some(handler) = self.node.handler(&nsp) else {
            return Ok(());
        };
        let request = Request::Broadcast {
            target: b.target,
            flags: b.flags,
            frames,
        };
        let (reply, _) = mpsc::channel(1);
        handler.handle(NodeId::from(b.uid), request, reply).await;
        Ok(())
    }

    async fn on_request(&self, scope: &str, payload: &[u8]) -> Result<(), WireError> {
        let msg = wire::decode(payload)?;
        let uid = wire::str_of(&msg, "uid").unwrap_or_default().to_string();
        if uid == self.node.uid.as_str() {
            return Ok(());
        }
        let Some(handler) = self.node.handler(scope) else {
            return Ok(());
        };
        let local = self.node.next_request();
        let (request, reply_as) = parse_request(scope, &msg, local)?;
        let (reply, replies) = mpsc::channel(1024);
        if let Some((how, request_id)) = reply_as {
            let channel = match how {
                // Node answers server-side emits on the shared channel.
                ReplyAs::ServerMessage => self.channels.response(scope),
                _ => self.response_channel(scope, &uid),
            };
            self.spawn_replies(how, request_id, channel, replies);
        }
        handler.handle(NodeId::from(uid), request, reply).await;
        Ok(())
    }

    /// Publishes the answers of our handler as they come.
    fn spawn_replies(
        &self,
        how: ReplyAs,
        request_id: String,
        channel: String,
        mut replies: mpsc::Receiver<Response>,
    ) {
        let out = self.out.clone();
        tokio::spawn(async move {
            while let Some(response) = replies.recv().await {
                let Some(payload) = encode_reply(how, &request_id, response) else {
                    continue;
                };
                let m = crate::link::Outgoing {
                    channel: channel.clone(),
                    payload,
                };
                if out.send(m).await.is_err() {
                    return;
                }
            }
        });
    }

    fn on_response(&self, payload: &[u8]) -> Result<(), WireError> {
        apply_response(&self.node.pending, &wire::decode(payload)?)
    }
}

/// Hands an answer (`{uid, type, requestId, ...}` as Node's redis adapter
/// has it) to the request it answers.
pub(crate) fn apply_response(
    pending: &crate::pending::PendingRequests,
    msg: &Mp,
) -> Result<(), WireError> {
    let Some(rid) = wire::request_id_of(msg) else {
        return Err(WireError::Shape("response without requestId"));
    };
    let t = wire::u64_of(msg, "type");
    let from = NodeId::from(wire::str_of(msg, "uid").unwrap_or("?"));
    let mut shape_error = None;
    pending.answer(
        &rid,
        |p| {
            let request = p.local_id;
            let body = match (p.kind, t) {
                (Kind::Acks, Some(kind::BROADCAST_CLIENT_COUNT)) => {
                    let count = wire::u64_of(msg, "clientCount").unwrap_or(0) as usize;
                    p.answered += 1;
                    p.acks_expected += count;
                    Response::AckCount { request, count }
                }
                (Kind::Acks, Some(kind::BROADCAST_ACK)) => {
                    p.acks_received += 1;
                    let mut attachments = Vec::new();
                    let arg = field(msg, "packet")
                        .map_or(Json::Null, |v| mp_to_json(v, &mut attachments));
                    Response::Ack {
                        request,
                        payload: wire::json_bytes(&Json::Array(vec![arg])),
                        attachments,
                    }
                }
                (Kind::ServerMessage, _) => {
                    p.answered += 1;
                    let data = field(msg, "data").map_or(Json::Null, wire::to_json);
                    Response::ServerMessage {
                        request,
                        payload: wire::json_bytes(&data),
                    }
                }
                (Kind::Fetch, _) => {
                    p.answered += 1;
                    let Some(Mp::Array(sockets)) = field(msg, "sockets") else {
                        shape_error = Some("fetch answer without sockets");
                        return None;
                    };
                    let clients = sockets.iter().filter_map(remote_client).collect();
                    Response::Clients { request, clients }
                }
                (Kind::Rooms, _) => {
                    p.answered += 1;
                    let rooms = wire::rooms_of(field(msg, "rooms"));
                    Response::Rooms { request, rooms }
                }
                (Kind::Acks, _) => {
                    shape_error = Some("unexpected answer to a broadcast with acks");
                    return None;
                }
            };
            Some(body)
        },
        &from,
    );
    match shape_error {
        Some(e) => Err(WireError::Shape(e)),
        None => Ok(()),
    }
}

/// What a request from another node asks, and how to answer it (with the
/// wire request id). `local` is the id our handler correlates answers by.
pub(crate) fn parse_request(
    scope: &str,
    msg: &Mp,
    local: u64,
) -> Result<(Request, Option<(ReplyAs, String)>), WireError> {
    let t = wire::u64_of(msg, "type").ok_or(WireError::Shape("no type"))?;
    let rid = wire::request_id_of(msg);
    let need_id = || rid.clone().ok_or(WireError::Shape("no requestId"));
    let one = |name: &str| {
        wire::str_of(msg, name)
            .map(Room::from)
            .ok_or(WireError::Shape("no sid/room"))
    };
    let (request, reply_as) = match t {
        kind::SOCKETS => (
            Request::FetchClients {
                request: local,
                target: Target {
                    rooms: wire::rooms_of(field(msg, "rooms")),
                    except: Vec::new(),
                },
            },
            Some((ReplyAs::Sockets, need_id()?)),
        ),
        kind::ALL_ROOMS => (
            Request::FetchRooms { request: local },
            Some((ReplyAs::Rooms, need_id()?)),
        ),
        kind::REMOTE_JOIN | kind::REMOTE_LEAVE => {
            let (target, rooms) = match field(msg, "opts") {
                Some(opts) => (
                    wire::target_of(Some(opts)),
                    wire::rooms_of(field(msg, "rooms")),
                ),
                None => (Target::to([one("sid")?]), vec![one("room")?]),
            };
            let r = if t == kind::REMOTE_JOIN {
                Request::AddRooms { target, rooms }
            } else {
                Request::RemoveRooms { target, rooms }
            };
            (r, None)
        }
        kind::REMOTE_DISCONNECT => {
            let target = match field(msg, "opts") {
                Some(opts) => wire::target_of(Some(opts)),
                None => Target::to([one("sid")?]),
            };
            let close = field(msg, "close").and_then(Mp::as_bool) == Some(true);
            (
                Request::Disconnect {
                    target,
                    close_connection: close,
                },
                None,
            )
        }
        kind::REMOTE_FETCH => (
            Request::FetchClients {
                request: local,
                target: wire::target_of(field(msg, "opts")),
            },
            Some((ReplyAs::Fetch, need_id()?)),
        ),
        kind::SERVER_SIDE_EMIT => {
            let data = match field(msg, "data") {
                Some(d @ Mp::Array(items)) if matches!(items.first(), Some(Mp::String(_))) => {
                    wire::to_json(d)
                }
                _ => return Err(WireError::Shape("server-side emit without [event, …]")),
            };
            (
                Request::ServerMessage {
                    request: rid.as_ref().map(|_| local),
                    payload: wire::json_bytes(&data),
                },
                rid.clone().map(|id| (ReplyAs::ServerMessage, id)),
            )
        }
        kind::BROADCAST => {
            let packet = field(msg, "packet").ok_or(WireError::Shape("no packet"))?;
            let (nsp, frames) = to_frames(packet)?;
            if nsp != scope {
                return Err(WireError::Shape("packet namespace differs from channel"));
            }
            let opts = field(msg, "opts").cloned().unwrap_or(Mp::Nil);
            (
                Request::BroadcastWithAck {
                    request: local,
                    target: wire::target_of(Some(&opts)),
                    flags: wire::flags_of(&opts),
                    frames,
                    timeout: wire::timeout_of(&opts),
                },
                Some((ReplyAs::Acks, need_id()?)),
            )
        }
        _ => return Err(WireError::Shape("unknown request type")),
    };
    Ok((request, reply_as))
}

/// A socket in a fetch answer: `{id, handshake, rooms, data}`.
pub(crate) fn remote_client(v: &Mp) -> Option<RemoteClient> {
    Some(RemoteClient {
        id: wire::str_of(v, "id")?.to_string(),
        rooms: wire::rooms_of(field(v, "rooms")),
        handshake: wire::json_bytes(&field(v, "handshake").map_or(Json::Null, wire::to_json)),
        data: wire::json_bytes(&field(v, "data").map_or(Json::Null, wire::to_json)),
    })
}

fn json_of(bytes: &[u8]) -> Json {
    serde_json::from_slice(bytes).unwrap_or(Json::Null)
}

/// Our handler's answer as Node's response message.
pub(crate) fn encode_reply(how: ReplyAs, request_id: &str, response: Response) -> Option<Vec<u8>> {
    let json = |v: Json| Some(wire::json_bytes(&v));
    match (how, response) {
        (ReplyAs::Sockets, Response::Clients { clients, .. }) => {
            let ids: Vec<&str> = clients.iter().map(|c| c.id.as_str()).collect();
            json(serde_json::json!({ "requestId": request_id, "sockets": ids }))
        }
        (ReplyAs::Fetch, Response::Clients { clients, .. }) => {
            let sockets: Vec<Json> = clients
                .iter()
                .map(|c| {
                    let rooms: Vec<&str> = c.rooms.iter().map(|r| r.as_str()).collect();
                    serde_json::json!({
                        "id": c.id, "handshake": json_of(&c.handshake),
                        "rooms": rooms, "data": json_of(&c.data),
                    })
                })
                .collect();
            json(serde_json::json!({ "requestId": request_id, "sockets": sockets }))
        }
        (ReplyAs::Rooms, Response::Rooms { rooms, .. }) => {
            let rooms: Vec<&str> = rooms.iter().map(|r| r.as_str()).collect();
            json(serde_json::json!({ "requestId": request_id, "rooms": rooms }))
        }
        (ReplyAs::ServerMessage, Response::ServerMessage { payload, .. }) => {
            json(serde_json::json!({
                "type": kind::SERVER_SIDE_EMIT, "requestId": request_id, "data": json_of(&payload),
            }))
        }
        (ReplyAs::Acks, Response::AckCount { count, .. }) => json(serde_json::json!({
            "type": kind::BROADCAST_CLIENT_COUNT, "requestId": request_id, "clientCount": count,
        })),
        (
            ReplyAs::Acks,
            Response::Ack {
                payload,
                attachments,
                ..
            },
        ) => {
            // Node's protocol carries the first argument of an answer.
            let args = json_of(&payload);
            let first = args.get(0).cloned().unwrap_or(Json::Null);
            let refs: Vec<&bytes::Bytes> = attachments.iter().collect();
            let packet = crate::packet::json_to_mp(&first, &refs).ok()?;
            let msg = Mp::Map(vec![
                (Mp::from("type"), Mp::from(kind::BROADCAST_ACK)),
                (Mp::from("requestId"), Mp::from(request_id)),
                (Mp::from("packet"), packet),
            ]);
            Some(wire::encode_msgpack(&msg))
        }
        _ => None,
    }
}
