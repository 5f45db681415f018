//! Rewriting packets the JSON parser encoded, without decoding them.
//!
//! Two edits of an already-encoded `EVENT` without ack id, both keeping
//! the attachment frames shared:
//! - [`append_arg`]: the last argument added (connection state recovery
//!   appends the packet's offset to every stored event);
//! - [`with_ack_id`]: an ack id written in (a broadcast with acks that
//!   another node forwarded gets an id from this node's counter).
//!
//! And [`adopt`]: what a node with the MessagePack parser forwarded,
//! written again as JSON (once per node, for a cluster whose nodes use
//! different client parsers).

use bytes::{BufMut, BytesMut};
use roomcast_core::{Frame, Message, Text};

/// `message` with `arg` appended to its JSON argument array, or `None`
/// when its first frame is not text ending in `]`. Attachments are shared.
pub(crate) fn append_arg(message: &Message, arg: &str) -> Option<Message> {
    let frames = message.frames();
    let Some(Frame::Text(text)) = frames.first() else {
        return None;
    };
    let head = text.as_str().strip_suffix(']')?;
    let mut buf = BytesMut::with_capacity(head.len() + arg.len() + 4);
    buf.put_slice(head.as_bytes());
    buf.put_slice(b",");
    // Offsets are made of URL-safe characters, digits, `_` and `-`:
    // nothing to escape.
    buf.put_slice(b"\"");
    buf.put_slice(arg.as_bytes());
    buf.put_slice(b"\"]");
    let text = roomcast_core::Text::from_utf8(buf.freeze()).ok()?;
    let mut out = Vec::with_capacity(frames.len());
    out.push(Frame::Text(text));
    out.extend_from_slice(&frames[1..]);
    Some(Message::many(out))
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

/// `frames` as the JSON parser writes them: unchanged unless they are one
/// binary frame (a MessagePack packet), which is decoded and encoded again.
pub(crate) fn adopt(limits: &super::DecoderLimits, frames: Vec<Frame>) -> Option<Message> {
    if !matches!(frames.as_slice(), [Frame::Binary(_)]) {
        return Some(Message::many(frames));
    }
    let packet = super::decode_frames(&super::MsgPackParser::with_limits(*limits), &frames)?;
    Some(super::encode_value(packet.borrowed()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_the_offset_and_keeps_attachments() {
        let m = Message::many(vec![
            Frame::text("451-[\"e\",{\"_placeholder\":true,\"num\":0}]"),
            Frame::binary(vec![1u8, 2]),
        ]);
        let out = append_arg(&m, "ab-3").unwrap();
        let Frame::Text(t) = &out.frames()[0] else {
            panic!()
        };
        assert_eq!(
            t.as_str(),
            "451-[\"e\",{\"_placeholder\":true,\"num\":0},\"ab-3\"]"
        );
        assert_eq!(out.frames()[1], m.frames()[1]);
        assert!(append_arg(&Message::from(Frame::binary(vec![1u8])), "x").is_none());
    }

    fn first(frames: Option<Vec<Frame>>) -> Option<String> {
        match frames?.into_iter().next()? {
            Frame::Text(t) => Some(t.as_str().to_string()),
            Frame::Binary(_) => None,
        }
    }

    #[test]
    fn adopts_msgpack_frames() {
        let msgpack: &dyn crate::parser::Parser = &crate::parser::MsgPackParser::new();
        let m = msgpack
            .encode_event("/x", "e", &(1, bytes::Bytes::from_static(&[5])), None)
            .unwrap();
        let json = adopt(&Default::default(), m.frames().to_vec()).unwrap();
        assert_eq!(
            json.frames(),
            &[
                Frame::text("451-/x,[\"e\",1,{\"_placeholder\":true,\"num\":0}]"),
                Frame::binary(vec![5u8])
            ]
        );
        let text = vec![Frame::text("42[\"a\"]")];
        assert_eq!(
            adopt(&Default::default(), text.clone()).unwrap().frames(),
            &text[..]
        );
        assert!(adopt(&Default::default(), vec![Frame::binary(vec![0xc1u8])]).is_none());
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
