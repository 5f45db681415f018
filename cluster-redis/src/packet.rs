//! Socket.IO packets between our encoded frames and Node's packet objects.
//!
//! roomcast hands the cluster an event already encoded for clients: a text
//! frame `42["ev",…]` (or `451-/chat,["ev",{"_placeholder":true,"num":0}]`)
//! followed by its binary attachments. Node's adapter sends the packet
//! *object* instead, `{type, data, nsp, id?}`, MessagePack-encoded, with
//! every binary attachment in place as a MessagePack `bin`. This module
//! converts both ways:
//!
//! - [`to_node`] parses the frame header and JSON and puts the attachments
//!   back where their placeholders are. A binary event becomes type 2
//!   (`EVENT`): Node's encoder picks `BINARY_EVENT` itself from the content.
//!   A frame of the MessagePack parser is already Node's object.
//! - [`to_frames`] does the reverse: `bin` values become placeholders and
//!   attachments, and the header gets type 5 when there are any.
//!
//! MessagePack values with no JSON form follow `JSON.stringify`: `NaN` and
//! infinities become `null`, notepack's `undefined` (fixext type 0) `null`,
//! its dates the ISO string, map keys that are not strings their text.
//! Nothing here panics on input: malformed frames or packets are errors.

use bytes::Bytes;
use rmpv::Value as Mp;
use roomcast_core::{Frame, Text, UtcTime};
use serde_json::Value as Json;

/// Socket.IO packet types Node puts in broadcasts.
pub(crate) const EVENT: u64 = 2;
const BINARY_EVENT: u64 = 5;

/// Why a packet could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum PacketError {
    /// The frames are not an encoded Socket.IO event.
    #[error("not a Socket.IO event frame")]
    NotAnEvent,
    /// A placeholder refers to an attachment that is not there.
    #[error("placeholder for missing attachment {0}")]
    MissingAttachment(u64),
    /// The JSON of the frame is invalid.
    #[error("invalid JSON in frame: {0}")]
    Json(#[from] serde_json::Error),
    /// The packet object lacks a field or has one of the wrong type.
    #[error("malformed packet: {0}")]
    Malformed(&'static str),
}

/// The parts of an encoded event frame.
struct Header<'a> {
    nsp: &'a str,
    id: Option<u64>,
    json: &'a str,
}

fn parse_header(text: &str) -> Result<Header<'_>, PacketError> {
    let rest = text.strip_prefix('4').ok_or(PacketError::NotAnEvent)?;
    let (kind, mut rest) = rest.split_at_checked(1).ok_or(PacketError::NotAnEvent)?;
    match kind {
        "2" => {}
        "5" => {
            let dash = rest.find('-').ok_or(PacketError::NotAnEvent)?;
            rest = &rest[dash + 1..];
        }
        _ => return Err(PacketError::NotAnEvent),
    }
    let mut nsp = "/";
    if rest.starts_with('/') {
        let comma = rest.find(',').ok_or(PacketError::NotAnEvent)?;
        nsp = &rest[..comma];
        rest = &rest[comma + 1..];
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let id = if digits > 0 {
        Some(
            rest[..digits]
                .parse()
                .map_err(|_| PacketError::NotAnEvent)?,
        )
    } else {
        None
    };
    Ok(Header {
        nsp,
        id,
        json: &rest[digits..],
    })
}

/// Node's packet object for an encoded event.
///
/// A node with the MessagePack parser hands over one binary frame that is
/// already such an object (`{type, nsp, id?, data}`, bytes as `bin`): it is
/// passed on as it is.
pub fn to_node(frames: &[Frame]) -> Result<Mp, PacketError> {
    if let [Frame::Binary(packet)] = frames {
        let packet = rmpv::decode::read_value(&mut &packet[..])
            .map_err(|_| PacketError::Malformed("not a MessagePack packet"))?;
        if field(&packet, "type").and_then(Mp::as_u64) != Some(EVENT)
            || field(&packet, "nsp").and_then(Mp::as_str).is_none()
        {
            return Err(PacketError::NotAnEvent);
        }
        return Ok(packet);
    }
    let Some(Frame::Text(text)) = frames.first() else {
        return Err(PacketError::NotAnEvent);
    };
    let header = parse_header(text.as_str())?;
    let data: Json = serde_json::from_str(header.json)?;
    let attachments: Vec<&Bytes> = frames[1..]
        .iter()
        .filter_map(|f| match f {
            Frame::Binary(b) => Some(b),
            Frame::Text(_) => None,
        })
        .collect();
    let data = json_to_mp(&data, &attachments)?;
    let mut fields = vec![
        (Mp::from("type"), Mp::from(EVENT)),
        (Mp::from("data"), data),
        (Mp::from("nsp"), Mp::from(header.nsp)),
    ];
    if let Some(id) = header.id {
        fields.push((Mp::from("id"), Mp::from(id)));
    }
    Ok(Mp::Map(fields))
}

/// A JSON value with placeholders as a MessagePack value with `bin`s.
pub fn json_to_mp(value: &Json, attachments: &[&Bytes]) -> Result<Mp, PacketError> {
    Ok(match value {
        Json::Null => Mp::Nil,
        Json::Bool(b) => Mp::Boolean(*b),
        Json::Number(n) => {
            if let Some(u) = n.as_u64() {
                Mp::from(u)
            } else if let Some(i) = n.as_i64() {
                Mp::from(i)
            } else {
                Mp::F64(n.as_f64().unwrap_or(0.0))
            }
        }
        Json::String(s) => Mp::from(s.as_str()),
        Json::Array(items) => Mp::Array(
            items
                .iter()
                .map(|v| json_to_mp(v, attachments))
                .collect::<Result<_, _>>()?,
        ),
        Json::Object(map) => {
            if map.get("_placeholder") == Some(&Json::Bool(true)) {
                if let Some(num) = map.get("num").and_then(Json::as_u64) {
                    let bytes = usize::try_from(num)
                        .ok()
                        .and_then(|i| attachments.get(i))
                        .ok_or(PacketError::MissingAttachment(num))?;
                    return Ok(Mp::Binary(bytes.to_vec()));
                }
            }
            Mp::Map(
                map.iter()
                    .map(|(k, v)| Ok((Mp::from(k.as_str()), json_to_mp(v, attachments)?)))
                    .collect::<Result<_, PacketError>>()?,
            )
        }
    })
}

/// A MessagePack value as JSON, every `bin` replaced by a placeholder and
/// appended to `attachments`.
pub fn mp_to_json(value: &Mp, attachments: &mut Vec<Bytes>) -> Json {
    match value {
        Mp::Nil => Json::Null,
        Mp::Boolean(b) => Json::Bool(*b),
        Mp::Integer(i) => {
            if let Some(u) = i.as_u64() {
                Json::from(u)
            } else {
                Json::from(i.as_i64().unwrap_or(0))
            }
        }
        Mp::F32(f) => float(f64::from(*f)),
        Mp::F64(f) => float(*f),
        Mp::String(s) => Json::String(match s.as_str() {
            Some(s) => s.to_string(),
            None => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        }),
        Mp::Binary(b) => {
            let num = attachments.len();
            attachments.push(Bytes::copy_from_slice(b));
            serde_json::json!({ "_placeholder": true, "num": num })
        }
        Mp::Array(items) => Json::Array(items.iter().map(|v| mp_to_json(v, attachments)).collect()),
        Mp::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| (key_text(k), mp_to_json(v, attachments)))
                .collect(),
        ),
        Mp::Ext(kind, data) => ext_to_json(*kind, data),
    }
}

fn float(f: f64) -> Json {
    serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)
}

fn key_text(k: &Mp) -> String {
    match k {
        Mp::String(s) => s.as_str().map_or_else(
            || String::from_utf8_lossy(s.as_bytes()).into_owned(),
            str::to_string,
        ),
        other => other.to_string(),
    }
}

/// notepack's extensions: type 0 with one byte is `undefined`; type 0 or
/// -1 with 4, 8 or 12 bytes is a date.
fn ext_to_json(kind: i8, data: &[u8]) -> Json {
    let millis: Option<f64> = match (kind, data.len()) {
        (0 | -1, 4) => Some(f64::from(u32::from_be_bytes(data.try_into().unwrap_or([0; 4]))) * 1e3),
        (0, 8) => Some(f64::from_be_bytes(data.try_into().unwrap_or([0; 8]))),
        (-1, 8) => {
            let v = u64::from_be_bytes(data.try_into().unwrap_or([0; 8]));
            Some((v & 0x3_ffff_ffff) as f64 * 1e3 + (v >> 34) as f64 / 1e6)
        }
        _ => None,
    };
    match millis {
        Some(ms) if ms.is_finite() => {
            Json::String(UtcTime::from_unix_millis(ms as i64).to_iso_string())
        }
        _ => Json::Null,
    }
}

/// Looks up a field of a MessagePack map by name.
pub fn field<'a>(map: &'a Mp, name: &str) -> Option<&'a Mp> {
    match map {
        Mp::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(name))
            .map(|(_, v)| v),
        _ => None,
    }
}

/// Our frames for Node's packet object, for the namespace `scope`. `None`
/// (with the reason) when the packet is not an event.
pub fn to_frames(packet: &Mp) -> Result<(String, Vec<Frame>), PacketError> {
    let kind = field(packet, "type")
        .and_then(Mp::as_u64)
        .ok_or(PacketError::Malformed("type"))?;
    if kind != EVENT && kind != BINARY_EVENT {
        return Err(PacketError::NotAnEvent);
    }
    let nsp = match field(packet, "nsp") {
        None | Some(Mp::Nil) => "/".to_string(),
        Some(v) => v.as_str().ok_or(PacketError::Malformed("nsp"))?.to_string(),
    };
    let data = field(packet, "data").ok_or(PacketError::Malformed("data"))?;
    if !matches!(data, Mp::Array(items) if matches!(items.first(), Some(Mp::String(_)))) {
        return Err(PacketError::Malformed("data"));
    }
    let id = match field(packet, "id") {
        None | Some(Mp::Nil) => None,
        Some(v) => Some(v.as_u64().ok_or(PacketError::Malformed("id"))?),
    };
    let mut attachments = Vec::new();
    let json = mp_to_json(data, &mut attachments);
    let frames = encode(&nsp, id, &json, attachments)?;
    Ok((nsp, frames))
}

/// An event frame (plus attachments) from its parts.
pub fn encode(
    nsp: &str,
    id: Option<u64>,
    data: &Json,
    attachments: Vec<Bytes>,
) -> Result<Vec<Frame>, PacketError> {
    let mut text = String::from("4");
    if attachments.is_empty() {
        text.push('2');
    } else {
        text.push('5');
        text.push_str(&attachments.len().to_string());
        text.push('-');
    }
    if nsp != "/" {
        text.push_str(nsp);
        text.push(',');
    }
    if let Some(id) = id {
        text.push_str(&id.to_string());
    }
    text.push_str(&serde_json::to_string(data)?);
    let mut frames = Vec::with_capacity(1 + attachments.len());
    frames.push(Frame::Text(Text::from(text)));
    frames.extend(attachments.into_iter().map(Frame::Binary));
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(frames: &[Frame]) -> &str {
        match &frames[0] {
            Frame::Text(t) => t.as_str(),
            Frame::Binary(_) => panic!("binary first"),
        }
    }

    #[test]
    fn events_round_trip() {
        for (frames, nsp) in [
            (
                vec![Frame::text(r#"42["ev",1,"two",{"a":[true,null]}]"#)],
                "/",
            ),
            (vec![Frame::text(r#"42/chat,7["ev"]"#)], "/chat"),
            (
                vec![
                    Frame::text(r#"451-/x,["ev",{"_placeholder":true,"num":0}]"#),
                    Frame::binary(vec![1, 2, 3]),
                ],
                "/x",
            ),
        ] {
            let packet = to_node(&frames).unwrap();
            assert_eq!(field(&packet, "type"), Some(&Mp::from(2)));
            let (back_nsp, back) = to_frames(&packet).unwrap();
            assert_eq!(back_nsp, nsp);
            assert_eq!(back, frames);
        }
    }

    #[test]
    fn binary_goes_in_place() {
        let frames = vec![
            Frame::text(
                r#"452-["ev",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]"#,
            ),
            Frame::binary(vec![0]),
            Frame::binary(vec![1]),
        ];
        let packet = to_node(&frames).unwrap();
        let data = field(&packet, "data").unwrap();
        assert_eq!(
            data,
            &Mp::Array(vec![
                Mp::from("ev"),
                Mp::Binary(vec![1]),
                Mp::Binary(vec![0])
            ])
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(to_node(&[Frame::text("43[1]")]).is_err());
        assert!(to_node(&[Frame::text("42[")]).is_err());
        assert!(to_node(&[Frame::text(r#"451-["e",{"_placeholder":true,"num":3}]"#)]).is_err());
        // A MessagePack parser's frame is Node's object already.
        let packet = Mp::Map(vec![
            (Mp::from("type"), Mp::from(EVENT)),
            (Mp::from("nsp"), Mp::from("/")),
            (
                Mp::from("data"),
                Mp::Array(vec![Mp::from("ev"), Mp::Binary(vec![1, 2])]),
            ),
        ]);
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &packet).unwrap();
        let frame = Frame::Binary(Bytes::from(bytes));
        assert_eq!(to_node(std::slice::from_ref(&frame)).unwrap(), packet);
        assert!(to_node(&[Frame::binary(vec![0xc1u8])]).is_err());
        assert!(to_node(&[Frame::binary(vec![4])]).is_err());
        assert!(to_frames(&Mp::from(3)).is_err());
        let no_event = Mp::Map(vec![
            (Mp::from("type"), Mp::from(2)),
            (Mp::from("data"), Mp::Array(vec![Mp::from(1)])),
        ]);
        assert!(to_frames(&no_event).is_err());
    }

    #[test]
    fn odd_msgpack_values_follow_json_stringify() {
        let mut att = Vec::new();
        assert_eq!(mp_to_json(&Mp::F64(f64::NAN), &mut att), Json::Null);
        assert_eq!(mp_to_json(&Mp::Ext(0, vec![0]), &mut att), Json::Null);
        assert_eq!(
            mp_to_json(&Mp::Ext(0, 0f64.to_be_bytes().to_vec()), &mut att),
            Json::from("1970-01-01T00:00:00.000Z")
        );
        assert_eq!(
            mp_to_json(
                &Mp::Ext(0, 1_700_000_000_123f64.to_be_bytes().to_vec()),
                &mut att
            ),
            Json::from("2023-11-14T22:13:20.123Z")
        );
        let map = Mp::Map(vec![(Mp::from(1), Mp::from("x"))]);
        assert_eq!(mp_to_json(&map, &mut att), serde_json::json!({"1": "x"}));
        assert!(att.is_empty());
    }

    #[test]
    fn namespace_defaults_to_main() {
        let packet = Mp::Map(vec![
            (Mp::from("type"), Mp::from(2)),
            (Mp::from("data"), Mp::Array(vec![Mp::from("e")])),
        ]);
        let (nsp, frames) = to_frames(&packet).unwrap();
        assert_eq!(nsp, "/");
        assert_eq!(text(&frames), r#"42["e"]"#);
    }
}
