//! The stream entries and sessions of Node's `@socket.io/redis-streams-adapter`
//! 0.3.x, to and from our types.
//!
//! - An entry has the fields `uid`, `nsp`, `type` (decimal, socket.io-adapter's
//!   `MessageType`) and `data`: JSON text, or base64 MessagePack when it holds
//!   binary. Only BROADCAST (3, without `requestId`), SOCKETS_JOIN (4),
//!   SOCKETS_LEAVE (5) and DISCONNECT_SOCKETS (6) are ever written to the
//!   stream; the other kinds travel over pub/sub.
//! - A BROADCAST's data is `{packet: {type: 2, data: [event, ...args], nsp},
//!   opts: {rooms, except, flags}}`; room changes `{opts, rooms}`; a
//!   disconnect `{opts, close}`.
//! - A session is base64 MessagePack of `{sid, pid, rooms, data}`.
//!
//! Nothing here panics on input: a field that is missing or malformed makes
//! the entry [`Entry::Skipped`].

use base64::Engine as _;
use rmpv::Value as Mp;
use roomcast_core::cluster::log::{Logged, SavedSession};
use roomcast_core::cluster::NodeId;
use roomcast_core::{Flags, Frame, Room, Target};
use serde_json::Value as Json;

use super::reply::RawEntry;
use crate::packet::{self, field};
use crate::wire;

/// socket.io-adapter's message types used on the stream.
pub(crate) mod kind {
    pub const BROADCAST: u64 = 3;
    pub const SOCKETS_JOIN: u64 = 4;
    pub const SOCKETS_LEAVE: u64 = 5;
    pub const DISCONNECT_SOCKETS: u64 = 6;
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The fields of an entry to XADD: `uid`, `nsp`, `type`, `data`.
pub(crate) type Fields = [(&'static str, Vec<u8>); 4];

fn fields(uid: &str, nsp: &str, kind: u64, data: Vec<u8>) -> Fields {
    [
        ("uid", uid.as_bytes().to_vec()),
        ("nsp", nsp.as_bytes().to_vec()),
        ("type", kind.to_string().into_bytes()),
        ("data", data),
    ]
}

fn has_binary(v: &Mp) -> bool {
    match v {
        Mp::Binary(_) => true,
        Mp::Array(items) => items.iter().any(has_binary),
        Mp::Map(entries) => entries.iter().any(|(_, v)| has_binary(v)),
        _ => false,
    }
}

/// JSON text, or base64 MessagePack when `data` holds binary (Node's rule).
fn data_text(data: &Mp) -> Vec<u8> {
    if has_binary(data) {
        B64.encode(wire::encode_msgpack(data)).into_bytes()
    } else {
        wire::json_bytes(&wire::to_json(data))
    }
}

fn opts(target: &Target, flags: Flags) -> Mp {
    wire::mp_opts(target, flags, None)
}

/// A BROADCAST entry for an encoded event.
pub(crate) fn broadcast(
    uid: &str,
    nsp: &str,
    target: &Target,
    flags: Flags,
    frames: &[Frame],
) -> Result<Fields, packet::PacketError> {
    let packet = packet::to_node(frames)?;
    let data = Mp::Map(vec![
        (Mp::from("packet"), packet),
        (Mp::from("opts"), opts(target, flags)),
    ]);
    Ok(fields(uid, nsp, kind::BROADCAST, data_text(&data)))
}

/// A SOCKETS_JOIN or SOCKETS_LEAVE entry.
pub(crate) fn rooms(uid: &str, nsp: &str, join: bool, target: &Target, rooms: &[Room]) -> Fields {
    let kind = if join {
        kind::SOCKETS_JOIN
    } else {
        kind::SOCKETS_LEAVE
    };
    let data = serde_json::json!({
        "opts": wire::json_opts(target),
        "rooms": rooms.iter().map(Room::as_str).collect::<Vec<_>>(),
    });
    fields(uid, nsp, kind, wire::json_bytes(&data))
}

/// A DISCONNECT_SOCKETS entry.
pub(crate) fn disconnect(uid: &str, nsp: &str, target: &Target, close: bool) -> Fields {
    let data = serde_json::json!({ "opts": wire::json_opts(target), "close": close });
    fields(uid, nsp, kind::DISCONNECT_SOCKETS, wire::json_bytes(&data))
}

/// A stream entry, decoded.
#[derive(Debug)]
pub(crate) enum Entry {
    /// A broadcast of namespace `nsp`, its offset the entry's id.
    Broadcast { nsp: String, logged: Logged },
    Rooms {
        uid: String,
        nsp: String,
        join: bool,
        target: Target,
        rooms: Vec<Room>,
    },
    Disconnect {
        uid: String,
        nsp: String,
        target: Target,
        close: bool,
    },
    /// Another kind, or malformed.
    Skipped,
}

fn decode_data(data: &[u8]) -> Option<Mp> {
    if data.first() == Some(&b'{') {
        let json: Json = serde_json::from_slice(data).ok()?;
        packet::json_to_mp(&json, &[]).ok()
    } else {
        let bytes = B64.decode(data).ok()?;
        wire::decode_msgpack(&bytes).ok()
    }
}

/// Decodes an entry read from the stream.
pub(crate) fn decode(raw: RawEntry) -> Entry {
    decode_inner(raw).unwrap_or(Entry::Skipped)
}

fn decode_inner(raw: RawEntry) -> Option<Entry> {
    let get = |name: &str| {
        raw.pairs
            .iter()
            .find(|(k, _)| k.as_slice() == name.as_bytes())
            .map(|(_, v)| v.as_slice())
    };
    let uid = String::from_utf8(get("uid")?.to_vec()).ok()?;
    let nsp = String::from_utf8(get("nsp")?.to_vec()).ok()?;
    let kind: u64 = std::str::from_utf8(get("type")?).ok()?.parse().ok()?;
    let data = decode_data(get("data")?)?;
    let target = wire::target_of(field(&data, "opts"));
    Some(match kind {
        kind::BROADCAST => {
            if field(&data, "requestId").is_some() {
                return None;
            }
            let (_, frames) = packet::to_frames(field(&data, "packet")?).ok()?;
            let flags = field(&data, "opts").map(wire::flags_of).unwrap_or_default();
            let logged = Logged {
                offset: raw.id,
                from: NodeId::from(uid),
                target,
                flags,
                frames,
            };
            Entry::Broadcast { nsp, logged }
        }
        kind::SOCKETS_JOIN | kind::SOCKETS_LEAVE => Entry::Rooms {
            uid,
            nsp,
            join: kind == kind::SOCKETS_JOIN,
            target,
            rooms: wire::rooms_of(field(&data, "rooms")),
        },
        kind::DISCONNECT_SOCKETS => Entry::Disconnect {
            uid,
            nsp,
            target,
            close: field(&data, "close").and_then(Mp::as_bool) == Some(true),
        },
        _ => return None,
    })
}

/// A session as Node stores it.
pub(crate) fn encode_session(s: &SavedSession) -> String {
    let data: Json = serde_json::from_slice(&s.data).unwrap_or(Json::Null);
    let data = packet::json_to_mp(&data, &[]).unwrap_or(Mp::Nil);
    let value = Mp::Map(vec![
        (Mp::from("sid"), Mp::from(s.sid.as_str())),
        (Mp::from("pid"), Mp::from(s.pid.as_str())),
        (
            Mp::from("rooms"),
            Mp::Array(s.rooms.iter().map(|r| Mp::from(r.as_str())).collect()),
        ),
        (Mp::from("data"), data),
    ]);
    B64.encode(wire::encode_msgpack(&value))
}

/// A stored session; `None` when it is not one.
pub(crate) fn decode_session(text: &[u8]) -> Option<SavedSession> {
    let bytes = B64.decode(text).ok()?;
    let value = wire::decode_msgpack(&bytes).ok()?;
    let sid = wire::str_of(&value, "sid")?.to_string();
    let pid = wire::str_of(&value, "pid")?.to_string();
    let rooms = wire::rooms_of(field(&value, "rooms"));
    let data = field(&value, "data").map_or(Json::Null, wire::to_json);
    Some(SavedSession {
        sid,
        pid,
        rooms,
        data: wire::json_bytes(&data),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: Vec<(Vec<u8>, Vec<u8>)>) -> RawEntry {
        RawEntry {
            id: "1-0".into(),
            pairs,
        }
    }

    fn pairs(f: Fields) -> Vec<(Vec<u8>, Vec<u8>)> {
        f.into_iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v))
            .collect()
    }

    #[test]
    fn broadcasts_round_trip_as_json_and_as_msgpack() {
        let target = Target::to(["r"]).except(["x"]);
        for frames in [
            vec![Frame::text("42[\"e\",1]")],
            vec![
                Frame::text("451-/chat,[\"e\",{\"_placeholder\":true,\"num\":0}]"),
                Frame::binary(vec![1u8, 2]),
            ],
        ] {
            let f = broadcast("u1", "/", &target, Flags::default(), &frames).unwrap();
            let json = f[3].1.first() == Some(&b'{');
            assert_eq!(json, frames.len() == 1);
            match decode(raw(pairs(f))) {
                Entry::Broadcast { logged, .. } => {
                    assert_eq!(logged.from.as_str(), "u1");
                    assert_eq!(logged.offset, "1-0");
                    assert_eq!(logged.target, target);
                    assert_eq!(logged.frames.len(), frames.len());
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn node_entries_decode_and_garbage_is_skipped() {
        let data = br#"{"packet":{"type":2,"data":["hi",{"a":1}],"nsp":"/"},"opts":{"rooms":[],"except":[],"flags":{}}}"#;
        let p = vec![
            (b"uid".to_vec(), b"abc".to_vec()),
            (b"nsp".to_vec(), b"/".to_vec()),
            (b"type".to_vec(), b"3".to_vec()),
            (b"data".to_vec(), data.to_vec()),
        ];
        let Entry::Broadcast { logged, .. } = decode(raw(p.clone())) else {
            panic!()
        };
        assert_eq!(logged.frames, vec![Frame::text("42[\"hi\",{\"a\":1}]")]);
        let mut bad = p.clone();
        bad[3].1 = b"!!not base64".to_vec();
        assert!(matches!(decode(raw(bad)), Entry::Skipped));
        assert!(matches!(decode(raw(p[..2].to_vec())), Entry::Skipped));
    }

    #[test]
    fn sessions_round_trip() {
        let s = SavedSession {
            sid: "abc".into(),
            pid: "p".into(),
            rooms: vec![Room::from("abc"), Room::from("r")],
            data: br#"{"n":1}"#.to_vec(),
        };
        assert_eq!(decode_session(encode_session(&s).as_bytes()), Some(s));
        assert_eq!(decode_session(b"zz"), None);
    }
}
