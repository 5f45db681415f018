//! WebSocket frames written by hand (RFC 6455 §5.2), for tests and load
//! generators that put exact bytes on the wire.

/// Appends one client frame to `out`: `first` is its first byte as given
/// (FIN, the reserved bits, the opcode), then the payload length in its
/// shortest form with the mask bit set, `mask`, and `payload` masked with
/// it, as every client frame must be.
///
/// ```
/// let mut out = Vec::new();
/// roomcast_testkit::frame::put_client_frame(&mut out, 0x81, [0, 0, 0, 0], b"hi");
/// assert_eq!(out, [0x81, 0x82, 0, 0, 0, 0, b'h', b'i']);
/// ```
pub fn put_client_frame(out: &mut Vec<u8>, first: u8, mask: [u8; 4], payload: &[u8]) {
    out.push(first);
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= 0xFFFF {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i & 3]));
}

#[cfg(test)]
mod tests {
    use super::put_client_frame;

    #[test]
    fn lengths_take_their_shortest_form_and_the_payload_is_masked() {
        let mask = [1, 2, 3, 4];
        for (len, head) in [(125usize, 2usize), (126, 4), (65_535, 4), (65_536, 10)] {
            let payload = vec![7u8; len];
            let mut out = Vec::new();
            put_client_frame(&mut out, 0x82, mask, &payload);
            assert_eq!(out.len(), head + 4 + len);
            assert_eq!(out[0], 0x82);
            assert_eq!(out[1] & 0x80, 0x80);
            let masked = &out[head + 4..];
            assert!(masked.iter().enumerate().all(|(i, b)| b ^ mask[i % 4] == 7));
        }
    }
}
