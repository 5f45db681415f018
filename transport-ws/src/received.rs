//! The bytes of a received message, copied out of the connection's read
//! buffer.
//!
//! The layers above keep slices of a message rather than copies (the
//! Engine.IO layer drops its `4`, the Socket.IO layer keeps an event's
//! arguments). Bytes made from a `Vec` allocate a shared header the first
//! time they are sliced, so such a message cost two allocations. A short
//! message (up to [`SHORT_MAX`] bytes, nearly all of them) is therefore
//! copied into one allocation that holds its bytes and their reference
//! count together (`Bytes::from_owner`), in one of three sizes; a longer
//! one into a `Vec` of its length, where the header is small beside it.

use bytes::Bytes;

/// The longest message copied inline.
pub(crate) const SHORT_MAX: usize = 240;

/// A short message's bytes, the first `len` of `buf`.
struct Short<const N: usize> {
    len: usize,
    buf: [u8; N],
}

impl<const N: usize> AsRef<[u8]> for Short<N> {
    fn as_ref(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

/// A copy of `payload`, in one allocation when it is short.
pub(crate) fn copy(payload: &[u8]) -> Bytes {
    match payload.len() {
        0..=48 => short::<48>(payload),
        49..=112 => short::<112>(payload),
        113..=SHORT_MAX => short::<SHORT_MAX>(payload),
        _ => Bytes::copy_from_slice(payload),
    }
}

fn short<const N: usize>(payload: &[u8]) -> Bytes {
    let mut buf = [0; N];
    match buf.get_mut(..payload.len()) {
        Some(head) => head.copy_from_slice(payload),
        // `copy` picks an `N` that fits.
        None => return Bytes::copy_from_slice(payload),
    }
    Bytes::from_owner(Short {
        len: payload.len(),
        buf,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_length_is_copied_whole_and_slices_share_it() {
        for len in [0, 1, 48, 49, 112, 113, SHORT_MAX, SHORT_MAX + 1, 4096] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let bytes = copy(&payload);
            assert_eq!(&bytes[..], &payload[..], "length {len}");
            if len > 1 {
                let tail = bytes.slice(1..);
                assert_eq!(&tail[..], &payload[1..]);
                assert_eq!(tail.as_ptr(), bytes[1..].as_ptr(), "a slice, not a copy");
            }
        }
    }
}
