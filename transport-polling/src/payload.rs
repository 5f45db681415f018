//! The long-polling body format (Engine.IO v4 payloads).
//!
//! A payload is one or more packets separated by the record separator
//! `\x1e`. A text frame is written as is; a binary frame as `b` followed by
//! its base64 encoding. Decoding rejects an empty payload, an empty packet,
//! invalid base64 and invalid UTF-8, and never allocates more than a small
//! multiple of the input.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::{BufMut, Bytes, BytesMut};
use roomcast_core::{Frame, Text};

/// The packet separator.
pub const SEPARATOR: u8 = 0x1e;

/// Why a payload could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The body is empty or contains an empty packet.
    #[error("empty packet in payload")]
    Empty,
    /// A `b` packet is not valid base64.
    #[error("invalid base64 in a binary packet")]
    Base64,
    /// A text packet is not valid UTF-8.
    #[error("invalid UTF-8 in a text packet")]
    Utf8,
    /// A packet's length (Engine.IO v3 payloads) is malformed or does not
    /// match the body.
    #[error("invalid packet length in payload")]
    Length,
}

/// Encodes frames into one payload.
///
/// ```
/// use roomcast_core::Frame;
/// use roomcast_transport_polling::payload::encode;
/// let body = encode(&[Frame::text("4hello"), Frame::binary(vec![1, 2, 3])]);
/// assert_eq!(&body[..], b"4hello\x1ebAQID");
/// ```
pub fn encode(frames: &[Frame]) -> Bytes {
    if let [Frame::Text(t)] = frames {
        return t.as_bytes().clone();
    }
    let size: usize = frames
        .iter()
        .map(|f| match f {
            Frame::Text(t) => t.len() + 1,
            Frame::Binary(b) => b.len().div_ceil(3) * 4 + 2,
        })
        .sum();
    let mut out = BytesMut::with_capacity(size);
    for (i, frame) in frames.iter().enumerate() {
        if i > 0 {
            out.put_u8(SEPARATOR);
        }
        match frame {
            Frame::Text(t) => out.extend_from_slice(t.as_bytes()),
            Frame::Binary(b) => {
                out.put_u8(b'b');
                let start = out.len();
                out.resize(start + b.len().div_ceil(3) * 4, 0);
                let written = STANDARD
                    .encode_slice(b, &mut out[start..])
                    .unwrap_or_default();
                out.truncate(start + written);
            }
        }
    }
    out.freeze()
}

/// Decodes a payload into frames, sharing the body's buffer for text.
///
/// ```
/// use roomcast_core::Frame;
/// use roomcast_transport_polling::payload::decode;
/// let frames = decode(bytes::Bytes::from_static(b"4hi\x1ebAQID")).unwrap();
/// assert_eq!(frames, vec![Frame::text("4hi"), Frame::binary(vec![1, 2, 3])]);
/// ```
pub fn decode(body: Bytes) -> Result<Vec<Frame>, PayloadError> {
    if body.is_empty() {
        return Err(PayloadError::Empty);
    }
    let mut frames = Vec::new();
    let mut start = 0;
    loop {
        let end = body[start..]
            .iter()
            .position(|&b| b == SEPARATOR)
            .map(|p| start + p)
            .unwrap_or(body.len());
        let packet = body.slice(start..end);
        frames.push(decode_packet(packet)?);
        if end == body.len() {
            return Ok(frames);
        }
        start = end + 1;
    }
}

fn decode_packet(packet: Bytes) -> Result<Frame, PayloadError> {
    match packet.first() {
        None => Err(PayloadError::Empty),
        Some(b'b') => STANDARD
            .decode(&packet[1..])
            .map(|v| Frame::Binary(Bytes::from(v)))
            .map_err(|_| PayloadError::Base64),
        Some(_) => Text::from_utf8(packet)
            .map(Frame::Text)
            .map_err(|_| PayloadError::Utf8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_bad_payloads() {
        assert_eq!(decode(Bytes::new()), Err(PayloadError::Empty));
        assert_eq!(
            decode(Bytes::from_static(b"4a\x1e")),
            Err(PayloadError::Empty)
        );
        assert_eq!(
            decode(Bytes::from_static(b"b!!")),
            Err(PayloadError::Base64)
        );
        assert_eq!(
            decode(Bytes::from_static(b"4\xff")),
            Err(PayloadError::Utf8)
        );
    }

    fn frame() -> impl Strategy<Value = Frame> {
        prop_oneof![
            "[0-6][^\u{1e}]{0,20}".prop_map(Frame::text),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Frame::binary),
        ]
    }

    proptest! {
        #[test]
        fn round_trips(frames in proptest::collection::vec(frame(), 1..8)) {
            prop_assert_eq!(decode(encode(&frames)).unwrap(), frames);
        }

        #[test]
        fn never_panics(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(Bytes::from(body));
        }
    }
}
