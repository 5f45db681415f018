//! The WebSocket wire format (RFC 6455 §5), server side: frame headers
//! read from clients (always masked) and written to them (never masked).
//!
//! Only what a server needs: one extension bit (RSV1, `permessage-deflate`:
//! reported to the caller, refused on control and continuation frames;
//! RSV2 and RSV3 are errors), no outbound fragmentation. Parsing never panics and never trusts a length
//! before checking it against the caller's limit.

use crate::WsError;

pub(crate) const OP_CONTINUATION: u8 = 0x0;
pub(crate) const OP_TEXT: u8 = 0x1;
pub(crate) const OP_BINARY: u8 = 0x2;
pub(crate) const OP_CLOSE: u8 = 0x8;
pub(crate) const OP_PING: u8 = 0x9;
pub(crate) const OP_PONG: u8 = 0xA;

/// A parsed inbound frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) fin: bool,
    pub(crate) opcode: u8,
    /// RSV1: the message is compressed (first data frame only).
    pub(crate) rsv1: bool,
    pub(crate) mask: [u8; 4],
    /// Payload length (checked against the limit given to [`parse`]).
    pub(crate) len: usize,
    /// Bytes the header itself takes.
    pub(crate) size: usize,
}

/// Parses the client frame header at the start of `buf`. `Ok(None)` when
/// more bytes are needed. A payload over `max_len` is [`WsError::TooBig`].
pub(crate) fn parse(buf: &[u8], max_len: usize) -> Result<Option<Header>, WsError> {
    let (b0, b1) = match buf {
        [b0, b1, ..] => (*b0, *b1),
        _ => return Ok(None),
    };
    if b0 & 0x30 != 0 {
        return Err(WsError::Protocol("reserved bits set"));
    }
    let rsv1 = b0 & 0x40 != 0;
    if b1 & 0x80 == 0 {
        return Err(WsError::Protocol("unmasked client frame"));
    }
    let fin = b0 & 0x80 != 0;
    let opcode = b0 & 0x0F;
    let (len, mut size) = match b1 & 0x7F {
        126 => match buf.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
            Some(b) => (u64::from_be_bytes(b), 10),
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    match opcode {
        OP_TEXT | OP_BINARY => {}
        OP_CONTINUATION if !rsv1 => {}
        OP_CONTINUATION => return Err(WsError::Protocol("RSV1 on a continuation frame")),
        OP_CLOSE | OP_PING | OP_PONG if rsv1 => {
            return Err(WsError::Protocol("RSV1 on a control frame"));
        }
        OP_CLOSE | OP_PING | OP_PONG => {
            if !fin || len > 125 {
                return Err(WsError::Protocol("fragmented or long control frame"));
            }
        }
        _ => return Err(WsError::Protocol("unknown opcode")),
    }
    if len > max_len as u64 {
        return Err(WsError::TooBig);
    }
    let mask = match buf
        .get(size..size + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
    {
        Some(m) => m,
        None => return Ok(None),
    };
    size += 4;
    Ok(Some(Header {
        fin,
        opcode,
        rsv1,
        mask,
        // Fits: at most `max_len`, a usize.
        len: len as usize,
        size,
    }))
}

/// Unmasks a payload in place.
pub(crate) fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let mut chunks = payload.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
}

/// Appends a server frame header (FIN set, unmasked) for a payload of `len`.
pub(crate) fn put_header(out: &mut Vec<u8>, opcode: u8, len: usize) {
    put_header_rsv(out, opcode, false, len);
}

/// Appends a server frame header with RSV1 (a compressed message) when
/// `rsv1`.
pub(crate) fn put_header_rsv(out: &mut Vec<u8>, opcode: u8, rsv1: bool, len: usize) {
    out.push(0x80 | if rsv1 { 0x40 } else { 0 } | opcode);
    if len < 126 {
        out.push(len as u8);
    } else if len <= usize::from(u16::MAX) {
        out.push(126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

/// Appends a whole server frame.
pub(crate) fn put_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
    put_header(out, opcode, payload.len());
    out.extend_from_slice(payload);
}

/// Appends a close frame with `code` (and no reason).
pub(crate) fn put_close(out: &mut Vec<u8>, code: u16) {
    put_frame(out, OP_CLOSE, &code.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [1, 2, 3, 4];
        let mut out = Vec::new();
        put_header(&mut out, opcode, payload.len());
        if !fin {
            out[0] &= 0x7F;
        }
        out[1] |= 0x80;
        out.extend_from_slice(&mask);
        let mut body = payload.to_vec();
        unmask(&mut body, mask);
        out.extend_from_slice(&body);
        out
    }

    #[test]
    fn parses_every_length_form() {
        for len in [0usize, 1, 125, 126, 127, 65535, 65536, 70000] {
            let payload = vec![7u8; len];
            let frame = client_frame(true, OP_BINARY, &payload);
            let h = parse(&frame, 1 << 20).unwrap().unwrap();
            assert_eq!((h.len, h.size + h.len), (len, frame.len()));
            let mut body = frame[h.size..].to_vec();
            unmask(&mut body, h.mask);
            assert_eq!(body, payload);
            // Every strict prefix of the header asks for more bytes.
            for cut in 0..h.size {
                assert_eq!(parse(&frame[..cut], 1 << 20).unwrap(), None);
            }
        }
    }

    #[test]
    fn rejects_what_a_server_must_refuse() {
        let mut unmasked = Vec::new();
        put_frame(&mut unmasked, OP_TEXT, b"hi");
        assert!(matches!(parse(&unmasked, 100), Err(WsError::Protocol(_))));
        let mut rsv = client_frame(true, OP_TEXT, b"hi");
        rsv[0] |= 0x20;
        assert!(matches!(parse(&rsv, 100), Err(WsError::Protocol(_))));
        let mut rsv1 = client_frame(true, OP_TEXT, b"hi");
        rsv1[0] |= 0x40;
        assert!(parse(&rsv1, 100).unwrap().unwrap().rsv1);
        for op in [OP_PING, OP_CONTINUATION] {
            let mut f = client_frame(true, op, b"hi");
            f[0] |= 0x40;
            assert!(matches!(parse(&f, 100), Err(WsError::Protocol(_))));
        }
        let long_ping = client_frame(true, OP_PING, &[0; 126]);
        assert!(matches!(parse(&long_ping, 1000), Err(WsError::Protocol(_))));
        let split_ping = client_frame(false, OP_PING, b"x");
        assert!(matches!(
            parse(&split_ping, 1000),
            Err(WsError::Protocol(_))
        ));
        let unknown = client_frame(true, 0x3, b"x");
        assert!(matches!(parse(&unknown, 1000), Err(WsError::Protocol(_))));
        let big = client_frame(true, OP_TEXT, &[b'a'; 101]);
        assert!(matches!(parse(&big, 100), Err(WsError::TooBig)));
        // A 64-bit length beyond any limit is refused before any allocation.
        let mut huge = vec![0x82, 0xFF];
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        huge.extend_from_slice(&[0; 4]);
        assert!(matches!(parse(&huge, 1 << 20), Err(WsError::TooBig)));
    }

    #[test]
    fn unmask_matches_the_bytewise_definition() {
        let mask = [0xA1, 0x05, 0x7F, 0x33];
        for len in 0..40 {
            let data: Vec<u8> = (0..len as u8).collect();
            let mut fast = data.clone();
            unmask(&mut fast, mask);
            let slow: Vec<u8> = data
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ mask[i % 4])
                .collect();
            assert_eq!(fast, slow);
        }
    }
}
