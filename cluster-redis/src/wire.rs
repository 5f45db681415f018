//! The messages of Node's redis adapter (8.x), both ways.
//!
//! - Broadcasts (`<key>#<nsp>#`, `<key>#<nsp>#<room>#`): MessagePack
//!   `[uid, packet, {rooms, except, flags}]`.
//! - Requests (`<key>-request#<nsp>#`): JSON objects `{uid, type,
//!   requestId?, …}`, except `BROADCAST` (type 7, with acks), which is
//!   MessagePack because its packet may hold binary.
//! - Responses (`<key>-response#<nsp>#` and `…#<uid>#`): JSON objects
//!   `{requestId, …}`, except `BROADCAST_ACK` (type 9), MessagePack.
//!
//! A message whose first byte is `{` is JSON, anything else MessagePack
//! (the rule Node applies). Decoding never panics; anything malformed or
//! too deep is an error the caller logs and skips.

use std::time::Duration;

use bytes::Bytes;
use rmpv::Value as Mp;
use roomcast_core::{Flags, Room, Target};
use serde_json::Value as Json;

use crate::packet::{field, json_to_mp};

/// The request types of the protocol.
pub(crate) mod kind {
    pub const SOCKETS: u64 = 0;
    pub const ALL_ROOMS: u64 = 1;
    pub const REMOTE_JOIN: u64 = 2;
    pub const REMOTE_LEAVE: u64 = 3;
    pub const REMOTE_DISCONNECT: u64 = 4;
    pub const REMOTE_FETCH: u64 = 5;
    pub const SERVER_SIDE_EMIT: u64 = 6;
    pub const BROADCAST: u64 = 7;
    pub const BROADCAST_CLIENT_COUNT: u64 = 8;
    pub const BROADCAST_ACK: u64 = 9;
}

/// Deepest nesting accepted in a message.
const MAX_DEPTH: usize = 128;

/// Why a message was skipped.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// Not valid JSON.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Not valid MessagePack (or nested too deep).
    #[error("invalid MessagePack: {0}")]
    MessagePack(String),
    /// Valid, but not the shape the protocol has.
    #[error("unexpected message shape: {0}")]
    Shape(&'static str),
    /// The packet inside could not be converted.
    #[error(transparent)]
    Packet(#[from] crate::packet::PacketError),
}

/// Decodes a request or response: JSON when it starts with `{`.
pub fn decode(bytes: &[u8]) -> Result<Mp, WireError> {
    if bytes.first() == Some(&b'{') {
        let json: Json = serde_json::from_slice(bytes)?;
        Ok(json_to_mp(&json, &[])?)
    } else {
        decode_msgpack(bytes)
    }
}

/// Decodes MessagePack (one value, the whole input).
pub fn decode_msgpack(bytes: &[u8]) -> Result<Mp, WireError> {
    let mut rd = bytes;
    let value = rmpv::decode::read_value_with_max_depth(&mut rd, MAX_DEPTH)
        .map_err(|e| WireError::MessagePack(e.to_string()))?;
    if !rd.is_empty() {
        return Err(WireError::MessagePack("trailing bytes".into()));
    }
    Ok(value)
}

/// Encodes a MessagePack value.
pub fn encode_msgpack(value: &Mp) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut out, value);
    out
}

pub fn str_of<'a>(v: &'a Mp, name: &str) -> Option<&'a str> {
    field(v, name).and_then(Mp::as_str)
}

pub fn u64_of(v: &Mp, name: &str) -> Option<u64> {
    field(v, name).and_then(Mp::as_u64)
}

/// A request id: Node's are strings; a number is accepted as its text.
pub fn request_id_of(v: &Mp) -> Option<String> {
    match field(v, "requestId")? {
        Mp::String(s) => s.as_str().map(str::to_string),
        Mp::Integer(i) => Some(i.to_string()),
        _ => None,
    }
}

/// A list of room names (numbers are accepted as their text, as Node
/// compares them).
pub fn rooms_of(v: Option<&Mp>) -> Vec<Room> {
    match v {
        Some(Mp::Array(items)) => items
            .iter()
            .filter_map(|r| match r {
                Mp::String(s) => s.as_str().map(Room::from),
                Mp::Integer(i) => Some(Room::from(i.to_string())),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The target of `{rooms, except}` options.
pub fn target_of(opts: Option<&Mp>) -> Target {
    let Some(opts) = opts else {
        return Target::all();
    };
    Target {
        rooms: rooms_of(field(opts, "rooms")),
        except: rooms_of(field(opts, "except")),
    }
}

/// The flags of broadcast options.
pub fn flags_of(opts: &Mp) -> Flags {
    let flags = field(opts, "flags");
    let on = |name| flags.and_then(|f| field(f, name)).and_then(Mp::as_bool) == Some(true);
    Flags {
        volatile: on("volatile"),
        local: false,
    }
}

fn mp_rooms(rooms: &[Room]) -> Mp {
    Mp::Array(rooms.iter().map(|r| Mp::from(r.as_str())).collect())
}

fn json_rooms(rooms: &[Room]) -> Json {
    Json::Array(rooms.iter().map(|r| Json::from(r.as_str())).collect())
}

/// `{rooms, except}` as JSON.
pub fn json_opts(target: &Target) -> Json {
    serde_json::json!({ "rooms": json_rooms(&target.rooms), "except": json_rooms(&target.except) })
}

/// How long a broadcast with acks waits, from its flags (`timeout`, ms).
pub fn timeout_of(opts: &Mp) -> Option<Duration> {
    let ms = field(opts, "flags").and_then(|f| field(f, "timeout"))?;
    ms.as_u64()
        .or_else(|| ms.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
        .map(Duration::from_millis)
}

/// `{rooms, except, flags}` as MessagePack; `timeout` is a broadcast with
/// acks' (Node writes it in the flags, in milliseconds).
pub fn mp_opts(target: &Target, flags: Flags, timeout: Option<Duration>) -> Mp {
    let mut f = Vec::new();
    if flags.volatile {
        f.push((Mp::from("volatile"), Mp::Boolean(true)));
    }
    if let Some(t) = timeout {
        let ms = u64::try_from(t.as_millis()).unwrap_or(u64::MAX);
        f.push((Mp::from("timeout"), Mp::from(ms)));
    }
    Mp::Map(vec![
        (Mp::from("rooms"), mp_rooms(&target.rooms)),
        (Mp::from("except"), mp_rooms(&target.except)),
        (Mp::from("flags"), Mp::Map(f)),
    ])
}

/// A broadcast message: `[uid, packet, opts]`.
pub fn broadcast(uid: &str, packet: Mp, target: &Target, flags: Flags) -> Vec<u8> {
    encode_msgpack(&Mp::Array(vec![
        Mp::from(uid),
        packet,
        mp_opts(target, flags, None),
    ]))
}

/// A broadcast with acks (a BROADCAST request): `{uid, requestId, type,
/// packet, opts}`.
pub fn broadcast_with_ack(
    uid: &str,
    request_id: &str,
    packet: Mp,
    target: &Target,
    flags: Flags,
    timeout: Option<Duration>,
) -> Vec<u8> {
    encode_msgpack(&Mp::Map(vec![
        (Mp::from("uid"), Mp::from(uid)),
        (Mp::from("requestId"), Mp::from(request_id)),
        (Mp::from("type"), Mp::from(kind::BROADCAST)),
        (Mp::from("packet"), packet),
        (Mp::from("opts"), mp_opts(target, flags, timeout)),
    ]))
}

/// A decoded broadcast message.
pub struct Broadcast {
    pub uid: String,
    pub packet: Mp,
    pub target: Target,
    pub flags: Flags,
}

/// Decodes a broadcast message.
pub fn decode_broadcast(bytes: &[u8]) -> Result<Broadcast, WireError> {
    let Mp::Array(mut parts) = decode_msgpack(bytes)? else {
        return Err(WireError::Shape("broadcast is not an array"));
    };
    if parts.len() < 3 {
        return Err(WireError::Shape("broadcast has fewer than 3 parts"));
    }
    let opts = parts.swap_remove(2);
    let packet = parts.swap_remove(1);
    let uid = match &parts[0] {
        Mp::String(s) => s.as_str().unwrap_or_default().to_string(),
        _ => String::new(),
    };
    Ok(Broadcast {
        uid,
        target: target_of(Some(&opts)),
        flags: flags_of(&opts),
        packet,
    })
}

/// JSON text of a JSON value.
pub fn json_bytes(value: &Json) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// The JSON form of the value of a field that came from JSON or
/// MessagePack (binary becomes Node's JSON for a Buffer).
pub fn to_json(v: &Mp) -> Json {
    let mut attachments: Vec<Bytes> = Vec::new();
    let json = crate::packet::mp_to_json(v, &mut attachments);
    if attachments.is_empty() {
        return json;
    }
    fill_buffers(json, &attachments)
}

fn fill_buffers(v: Json, attachments: &[Bytes]) -> Json {
    match v {
        Json::Object(map) if map.get("_placeholder") == Some(&Json::Bool(true)) => {
            let bytes = map
                .get("num")
                .and_then(Json::as_u64)
                .and_then(|n| attachments.get(n as usize))
                .map(|b| b.iter().map(|x| Json::from(*x)).collect())
                .unwrap_or_default();
            serde_json::json!({ "type": "Buffer", "data": Json::Array(bytes) })
        }
        Json::Object(map) => Json::Object(
            map.into_iter()
                .map(|(k, v)| (k, fill_buffers(v, attachments)))
                .collect(),
        ),
        Json::Array(items) => Json::Array(
            items
                .into_iter()
                .map(|v| fill_buffers(v, attachments))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_or_msgpack_by_first_byte() {
        let j = decode(br#"{"uid":"abc","type":6,"data":["x"]}"#).unwrap();
        assert_eq!(str_of(&j, "uid"), Some("abc"));
        assert_eq!(u64_of(&j, "type"), Some(6));
        let m = decode(&encode_msgpack(&Mp::Map(vec![(
            Mp::from("type"),
            Mp::from(7),
        )])))
        .unwrap();
        assert_eq!(u64_of(&m, "type"), Some(7));
    }

    #[test]
    fn hostile_input_is_an_error() {
        assert!(decode(b"{").is_err());
        assert!(
            decode(&[0xa5, b'a']).is_err(),
            "string shorter than its length"
        );
        assert!(
            decode(&[0xdd, 0xff, 0xff, 0xff, 0xff]).is_err(),
            "array longer than input"
        );
        assert!(decode(&[0x91; 10_000]).is_err(), "too deep");
        assert!(decode(&[0x01, 0x02]).is_err(), "trailing bytes");
        assert!(decode_broadcast(&encode_msgpack(&Mp::from(1))).is_err());
        assert!(decode_broadcast(&encode_msgpack(&Mp::Array(vec![Mp::Nil]))).is_err());
    }

    #[test]
    fn broadcast_round_trips() {
        let target = Target::to(["a"]).except(["b"]);
        let flags = Flags {
            volatile: true,
            local: false,
        };
        let bytes = broadcast("uid1", Mp::from("p"), &target, flags);
        let b = decode_broadcast(&bytes).unwrap();
        assert_eq!((b.uid.as_str(), b.target, b.flags), ("uid1", target, flags));
        assert_eq!(b.packet, Mp::from("p"));
    }

    #[test]
    fn buffers_become_node_json() {
        let v = Mp::Array(vec![Mp::Binary(vec![1, 2])]);
        assert_eq!(
            to_json(&v),
            serde_json::json!([{"type": "Buffer", "data": [1, 2]}])
        );
    }
}
