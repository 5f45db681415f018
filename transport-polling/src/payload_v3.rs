//! The long-polling body format of Engine.IO v3 (Socket.IO v2 clients).
//!
//! Two forms, as the reference server writes and reads them:
//! - **Text**: every packet as `<length>:<packet>`, the length counted in
//!   UTF-16 code units (JavaScript's `String.length`); a binary packet is
//!   written `b4` followed by its base64 (the `4` being its Engine.IO type).
//!   Content type `text/plain; charset=UTF-8`.
//! - **Binary** (`application/octet-stream`), used when the session did not
//!   ask for base64 (`b64` absent from its handshake) and the payload holds
//!   a binary packet: every packet as a marker byte (`0` text, `1` binary),
//!   its length as one byte per decimal digit, `255`, then the packet — a
//!   text packet's UTF-8 bytes, or a binary packet's type byte and data.
//!
//! Frames on the server side are as elsewhere in roomcast: a text frame is
//! an Engine.IO packet with its type digit (`4hello`), a binary frame is a
//! message's raw data. Decoding returns binary packets *with* their type
//! byte in front (as a v3 WebSocket carries them), so the session decodes
//! both transports alike. Decoding never panics and rejects lengths that do
//! not match the body, unknown markers, invalid base64 and invalid UTF-8.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::{BufMut, Bytes, BytesMut};
use roomcast_core::{Frame, Text};

use crate::payload::PayloadError;

/// The Engine.IO type byte of a message packet, written before binary data.
pub const MESSAGE_TYPE: u8 = 4;

/// An encoded payload and whether it is in the binary form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The body.
    pub body: Bytes,
    /// Whether the body is the binary form (`application/octet-stream`).
    pub binary: bool,
}

/// Encodes frames into one v3 payload: the binary form when `binary_ok` and
/// a frame is binary, else the text form.
///
/// ```
/// use roomcast_core::Frame;
/// use roomcast_transport_polling::payload_v3::encode;
/// let text = encode(&[Frame::text("4hé"), Frame::binary(vec![1, 2])], false);
/// assert_eq!(&text.body[..], "3:4hé6:b4AQI=".as_bytes());
/// let bin = encode(&[Frame::text("4a"), Frame::binary(vec![1, 2])], true);
/// assert!(bin.binary);
/// assert_eq!(&bin.body[..], &[0, 2, 255, b'4', b'a', 1, 3, 255, 4, 1, 2]);
/// ```
pub fn encode(frames: &[Frame], binary_ok: bool) -> Encoded {
    let has_binary = frames.iter().any(|f| matches!(f, Frame::Binary(_)));
    if binary_ok && has_binary {
        return Encoded {
            body: encode_binary(frames),
            binary: true,
        };
    }
    let mut out = BytesMut::new();
    for frame in frames {
        match frame {
            Frame::Text(t) => {
                let units: usize = t.as_str().chars().map(char::len_utf16).sum();
                put_decimal(&mut out, units);
                out.put_u8(b':');
                out.extend_from_slice(t.as_bytes());
            }
            Frame::Binary(b) => {
                let b64 = STANDARD.encode(b);
                put_decimal(&mut out, b64.len() + 2);
                out.extend_from_slice(b":b4");
                out.extend_from_slice(b64.as_bytes());
            }
        }
    }
    Encoded {
        body: out.freeze(),
        binary: false,
    }
}

fn put_decimal(out: &mut BytesMut, n: usize) {
    out.extend_from_slice(n.to_string().as_bytes());
}

fn encode_binary(frames: &[Frame]) -> Bytes {
    let mut out = BytesMut::new();
    for frame in frames {
        let (marker, len) = match frame {
            Frame::Text(t) => (0, t.len()),
            Frame::Binary(b) => (1, b.len() + 1),
        };
        out.put_u8(marker);
        for digit in len.to_string().bytes() {
            out.put_u8(digit - b'0');
        }
        out.put_u8(255);
        match frame {
            Frame::Text(t) => out.extend_from_slice(t.as_bytes()),
            Frame::Binary(b) => {
                out.put_u8(MESSAGE_TYPE);
                out.extend_from_slice(b);
            }
        }
    }
    out.freeze()
}

/// Decodes a v3 payload (`binary`: the body is the binary form). Text
/// packets share the body's buffer; binary packets keep their type byte.
///
/// ```
/// use roomcast_core::Frame;
/// use roomcast_transport_polling::payload_v3::decode;
/// let frames = decode(bytes::Bytes::from("2:4a6:b4AQI="), false).unwrap();
/// assert_eq!(frames, vec![Frame::text("4a"), Frame::binary(vec![4, 1, 2])]);
/// ```
pub fn decode(body: Bytes, binary: bool) -> Result<Vec<Frame>, PayloadError> {
    if body.is_empty() {
        return Err(PayloadError::Empty);
    }
    if binary {
        decode_binary(body)
    } else {
        decode_text(body)
    }
}

fn decode_text(body: Bytes) -> Result<Vec<Frame>, PayloadError> {
    let text = Text::from_utf8(body).map_err(|_| PayloadError::Utf8)?;
    let s = text.as_str();
    let mut frames = Vec::new();
    let mut pos = 0;
    while pos < s.len() {
        let colon = s[pos..]
            .find(':')
            .map(|c| pos + c)
            .ok_or(PayloadError::Length)?;
        let digits = &s[pos..colon];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PayloadError::Length);
        }
        let units: usize = digits.parse().map_err(|_| PayloadError::Length)?;
        // Walk `units` UTF-16 code units from after the colon.
        let start = colon + 1;
        let mut counted = 0;
        let mut end = start;
        for c in s[start..].chars() {
            if counted >= units {
                break;
            }
            counted += c.len_utf16();
            end += c.len_utf8();
        }
        if counted != units {
            return Err(PayloadError::Length);
        }
        if end > start {
            frames.push(decode_text_packet(&text, start, end)?);
        }
        pos = end;
    }
    Ok(frames)
}

fn decode_text_packet(text: &Text, start: usize, end: usize) -> Result<Frame, PayloadError> {
    let packet = &text.as_str()[start..end];
    match packet.strip_prefix('b') {
        Some(b64) => {
            let mut rest = b64.chars();
            let kind = rest
                .next()
                .and_then(|c| c.to_digit(10))
                .ok_or(PayloadError::Base64)?;
            let mut data = vec![kind as u8];
            STANDARD
                .decode_vec(rest.as_str(), &mut data)
                .map_err(|_| PayloadError::Base64)?;
            Ok(Frame::Binary(Bytes::from(data)))
        }
        None => Text::from_utf8(text.as_bytes().slice(start..end))
            .map(Frame::Text)
            .map_err(|_| PayloadError::Utf8),
    }
}

/// The longest length accepted in the binary form, in digits (as the
/// reference parser: 310).
const MAX_DIGITS: usize = 310;

fn decode_binary(body: Bytes) -> Result<Vec<Frame>, PayloadError> {
    let mut frames = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        let marker = body[pos];
        if marker > 1 {
            return Err(PayloadError::Length);
        }
        pos += 1;
        let mut len: usize = 0;
        let mut digits = 0;
        loop {
            let b = *body.get(pos).ok_or(PayloadError::Length)?;
            pos += 1;
            if b == 255 {
                break;
            }
            digits += 1;
            if b > 9 || digits > MAX_DIGITS {
                return Err(PayloadError::Length);
            }
            len = len
                .checked_mul(10)
                .and_then(|l| l.checked_add(usize::from(b)))
                .ok_or(PayloadError::Length)?;
        }
        if digits == 0 {
            return Err(PayloadError::Length);
        }
        let end = pos.checked_add(len).ok_or(PayloadError::Length)?;
        if end > body.len() || len == 0 {
            return Err(PayloadError::Length);
        }
        let packet = body.slice(pos..end);
        frames.push(if marker == 0 {
            Frame::Text(Text::from_utf8(packet).map_err(|_| PayloadError::Utf8)?)
        } else {
            Frame::Binary(packet)
        });
        pos = end;
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lengths_count_utf16_units_as_javascript_does() {
        // "😀" is two UTF-16 code units, four UTF-8 bytes.
        let body = encode(&[Frame::text("4😀")], false).body;
        assert_eq!(&body[..], "3:4😀".as_bytes());
        assert_eq!(decode(body, false).unwrap(), vec![Frame::text("4😀")]);
    }

    #[test]
    fn reads_what_the_reference_client_writes() {
        assert_eq!(
            decode(Bytes::from_static(b"1:21:2"), false).unwrap(),
            vec![Frame::text("2"), Frame::text("2")]
        );
        let bin = [0u8, 2, 255, b'4', b'x', 1, 4, 255, 4, 9, 8, 7];
        assert_eq!(
            decode(Bytes::copy_from_slice(&bin), true).unwrap(),
            vec![Frame::text("4x"), Frame::binary(vec![4, 9, 8, 7])]
        );
    }

    #[test]
    fn rejects_bad_payloads() {
        for body in ["", "x", "2:4", "a:4a", ":4", "1:b", "3:b4!", "2:4a9"] {
            assert!(decode(Bytes::from(body), false).is_err(), "{body:?}");
        }
        for body in [
            &[2u8, 1, 255, 0][..],
            &[0, 255],
            &[0, 5, 255, 1],
            &[1, 10, 255],
        ] {
            assert!(
                decode(Bytes::copy_from_slice(body), true).is_err(),
                "{body:?}"
            );
        }
        let long = [vec![0u8], vec![9; 400], vec![255]].concat();
        assert!(decode(Bytes::from(long), true).is_err());
    }

    fn frame() -> impl Strategy<Value = Frame> {
        prop_oneof![
            "[0-6]\\PC{0,20}".prop_map(Frame::text),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Frame::binary),
        ]
    }

    /// What the encoder writes, as the decoder returns it: binary frames
    /// gain their type byte.
    fn as_decoded(frames: &[Frame]) -> Vec<Frame> {
        frames
            .iter()
            .map(|f| match f {
                Frame::Binary(b) => Frame::binary([&[MESSAGE_TYPE][..], b].concat()),
                text => text.clone(),
            })
            .collect()
    }

    proptest! {
        #[test]
        fn round_trips(frames in proptest::collection::vec(frame(), 1..8), binary_ok: bool) {
            let encoded = encode(&frames, binary_ok);
            prop_assert_eq!(decode(encoded.body, encoded.binary).unwrap(), as_decoded(&frames));
        }

        #[test]
        fn never_panics(body in proptest::collection::vec(any::<u8>(), 0..200), binary: bool) {
            let _ = decode(Bytes::from(body), binary);
        }
    }
}
