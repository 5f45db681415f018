//! The messages Node's streams adapter sends over pub/sub rather than the
//! stream: broadcasts with acks, fetches and server-side emits on
//! `<prefix>#<nsp>#`, their answers on the requester's `<prefix>#<nsp>#<uid>#`,
//! each MessagePack `{uid, nsp, type, data}` (socket.io-adapter's
//! `ClusterMessage`/`ClusterResponse`).
//!
//! They are mapped to and from the flat shapes of Node's redis adapter
//! (`{uid, type, requestId, ...}`), so the request parsing, answer
//! encoding and answer matching of the classic mode apply unchanged.
//! A message of another kind or shape is skipped and counted.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use rmpv::Value as Mp;
use roomcast_core::cluster::{NodeId, Request, Response};
use tokio::sync::mpsc;

use super::Shared;
use crate::incoming::{self, ReplyAs};
use crate::packet::field;
use crate::wire::{self, kind as classic};

/// socket.io-adapter's message types on pub/sub.
mod kind {
    pub const BROADCAST: u64 = 3;
    pub const FETCH_SOCKETS: u64 = 7;
    pub const FETCH_SOCKETS_RESPONSE: u64 = 8;
    pub const SERVER_SIDE_EMIT: u64 = 9;
    pub const SERVER_SIDE_EMIT_RESPONSE: u64 = 10;
    pub const BROADCAST_CLIENT_COUNT: u64 = 11;
    pub const BROADCAST_ACK: u64 = 12;
}

fn map(entries: Vec<(&str, Mp)>) -> Mp {
    Mp::Map(entries.into_iter().map(|(k, v)| (Mp::from(k), v)).collect())
}

fn entries(v: &Mp) -> Vec<(Mp, Mp)> {
    match v {
        Mp::Map(e) => e.clone(),
        _ => Vec::new(),
    }
}

/// `{type, ...data}`: a message's data lifted beside the classic type.
fn flat(classic_type: u64, uid: &str, data: &Mp) -> Mp {
    let mut e = vec![
        (Mp::from("uid"), Mp::from(uid)),
        (Mp::from("type"), Mp::from(classic_type)),
    ];
    e.extend(entries(data));
    Mp::Map(e)
}

/// One message from the subscriber.
pub(crate) async fn on_message(s: &Arc<Shared>, payload: &[u8]) {
    if handle(s, payload).await.is_none() {
        s.node.stats.skipped.fetch_add(1, Ordering::Relaxed);
    }
}

async fn handle(s: &Arc<Shared>, payload: &[u8]) -> Option<()> {
    let msg = wire::decode_msgpack(payload).ok()?;
    let uid = wire::str_of(&msg, "uid").unwrap_or_default().to_string();
    if uid == s.node.uid.as_str() {
        return Some(());
    }
    let nsp = wire::str_of(&msg, "nsp")?.to_string();
    let t = wire::u64_of(&msg, "type")?;
    let data = field(&msg, "data").cloned().unwrap_or(Mp::Nil);
    let classic_request = match t {
        kind::FETCH_SOCKETS => flat(classic::REMOTE_FETCH, &uid, &data),
        kind::SERVER_SIDE_EMIT => {
            // Classic: `data` is the packet itself.
            let mut e = vec![
                (Mp::from("uid"), Mp::from(uid.as_str())),
                (Mp::from("type"), Mp::from(classic::SERVER_SIDE_EMIT)),
                (Mp::from("data"), field(&data, "packet")?.clone()),
            ];
            if let Some(id) = field(&data, "requestId") {
                e.push((Mp::from("requestId"), id.clone()));
            }
            Mp::Map(e)
        }
        kind::BROADCAST => flat(classic::BROADCAST, &uid, &data),
        kind::FETCH_SOCKETS_RESPONSE => {
            return incoming::apply_response(&s.node.pending, &flat(0, &uid, &data)).ok();
        }
        kind::SERVER_SIDE_EMIT_RESPONSE => {
            let mut e = vec![(Mp::from("uid"), Mp::from(uid.as_str()))];
            e.push((Mp::from("requestId"), field(&data, "requestId")?.clone()));
            e.push((
                Mp::from("data"),
                field(&data, "packet").cloned().unwrap_or(Mp::Nil),
            ));
            return incoming::apply_response(&s.node.pending, &Mp::Map(e)).ok();
        }
        kind::BROADCAST_CLIENT_COUNT => {
            let m = flat(classic::BROADCAST_CLIENT_COUNT, &uid, &data);
            return incoming::apply_response(&s.node.pending, &m).ok();
        }
        kind::BROADCAST_ACK => {
            let m = flat(classic::BROADCAST_ACK, &uid, &data);
            return incoming::apply_response(&s.node.pending, &m).ok();
        }
        _ => return None,
    };
    let handler = s.node.handler(&nsp)?;
    let local = s.node.next_request();
    let (request, reply_as) = incoming::parse_request(&nsp, &classic_request, local).ok()?;
    let (reply, replies) = mpsc::channel(1024);
    if let Some((how, request_id)) = reply_as {
        spawn_replies(s, nsp.clone(), uid.clone(), how, request_id, replies);
    }
    handler.handle(NodeId::from(uid), request, reply).await;
    Some(())
}

/// Publishes our handler's answers as they come, on the requester's channel.
fn spawn_replies(
    s: &Arc<Shared>,
    nsp: String,
    requester: String,
    how: ReplyAs,
    request_id: String,
    mut replies: mpsc::Receiver<Response>,
) {
    let s = Arc::downgrade(s);
    tokio::spawn(async move {
        while let Some(response) = replies.recv().await {
            let Some(s) = s.upgrade() else { return };
            let Some(bytes) = incoming::encode_reply(how, &request_id, response) else {
                continue;
            };
            let Ok(classic_msg) = wire::decode(&bytes) else {
                continue;
            };
            let Some(msg) = to_response(&s, &nsp, how, &classic_msg) else {
                continue;
            };
            let channel = format!("{}#{}#{}#", s.options.channel_prefix, nsp, requester);
            s.write(super::Write::Publish {
                channel,
                payload: wire::encode_msgpack(&msg),
            });
        }
    });
}

/// A classic answer as a `ClusterResponse`.
fn to_response(s: &Shared, nsp: &str, how: ReplyAs, m: &Mp) -> Option<Mp> {
    let rid = field(m, "requestId")?.clone();
    let (t, data) = match how {
        ReplyAs::Fetch => (
            kind::FETCH_SOCKETS_RESPONSE,
            map(vec![
                ("requestId", rid),
                ("sockets", field(m, "sockets")?.clone()),
            ]),
        ),
        ReplyAs::ServerMessage => (
            kind::SERVER_SIDE_EMIT_RESPONSE,
            map(vec![
                ("requestId", rid),
                ("packet", field(m, "data").cloned().unwrap_or(Mp::Nil)),
            ]),
        ),
        ReplyAs::Acks => match wire::u64_of(m, "type")? {
            classic::BROADCAST_CLIENT_COUNT => (
                kind::BROADCAST_CLIENT_COUNT,
                map(vec![
                    ("requestId", rid),
                    ("clientCount", field(m, "clientCount")?.clone()),
                ]),
            ),
            _ => (
                kind::BROADCAST_ACK,
                map(vec![
                    ("requestId", rid),
                    ("packet", field(m, "packet").cloned().unwrap_or(Mp::Nil)),
                ]),
            ),
        },
        ReplyAs::Sockets | ReplyAs::Rooms => return None,
    };
    Some(map(vec![
        ("uid", Mp::from(s.node.uid.as_str())),
        ("nsp", Mp::from(nsp)),
        ("type", Mp::from(t)),
        ("data", data),
    ]))
}

/// Our request as a `ClusterMessage` for the public channel, and what
/// answers it gets; `None` for kinds that go on the stream.
pub(crate) fn encode_request(
    s: &Shared,
    nsp: &str,
    request: &Request,
    request_id: Option<&str>,
) -> Option<(Mp, Option<crate::pending::Kind>)> {
    use crate::pending::Kind;
    let rid = || Mp::from(request_id.unwrap_or(""));
    let (t, data, kind) = match request {
        Request::FetchClients { target, .. } => (
            kind::FETCH_SOCKETS,
            map(vec![
                ("opts", wire::mp_opts(target, Default::default(), None)),
                ("requestId", rid()),
            ]),
            Some(Kind::Fetch),
        ),
        Request::ServerMessage { request, payload } => {
            let packet: serde_json::Value = serde_json::from_slice(payload).ok()?;
            let packet = crate::packet::json_to_mp(&packet, &[]).ok()?;
            let mut e = vec![("packet", packet)];
            let kind = match (request, request_id) {
                (Some(_), Some(id)) => {
                    e.push(("requestId", Mp::from(id)));
                    Some(Kind::ServerMessage)
                }
                _ => None,
            };
            (kind::SERVER_SIDE_EMIT, map(e), kind)
        }
        Request::BroadcastWithAck {
            target,
            flags,
            frames,
            timeout,
            ..
        } => {
            let packet = crate::packet::to_node(frames).ok()?;
            (
                kind::BROADCAST,
                map(vec![
                    ("packet", packet),
                    ("requestId", rid()),
                    ("opts", wire::mp_opts(target, *flags, *timeout)),
                ]),
                Some(Kind::Acks),
            )
        }
        _ => return None,
    };
    let msg = map(vec![
        ("uid", Mp::from(s.node.uid.as_str())),
        ("nsp", Mp::from(nsp)),
        ("type", Mp::from(t)),
        ("data", data),
    ]);
    Some((msg, kind))
}
