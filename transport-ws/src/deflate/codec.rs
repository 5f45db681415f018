//! Compressing and inflating message payloads (RFC 7692 §7.2): one
//! connection's [`Deflate`] state, the per-thread codecs for the
//! no-context-takeover case and the per-thread cache that lets a broadcast
//! be compressed once. See the [module docs](super).
//!
//! The cache: with `server_no_context_takeover` the compressed form of a
//! payload depends only on its bytes and the window and level, so the first
//! recipient on a thread stores it beside a clone of the shared payload, and
//! the next recipients of the same [`Bytes`] (same buffer, same length —
//! the clone keeps the buffer alive, so it cannot be another payload's)
//! take it. It holds a few recent payloads of moderate size; frames that
//! are not compressed never touch it.

use std::cell::RefCell;
use std::collections::VecDeque;

use bytes::Bytes;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::Negotiated;
use crate::WsError;

/// The four bytes a sync flush ends with, removed on the wire (§7.2.1).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
/// Inflated output grows by at most this much at a time.
const INFLATE_STEP: usize = 64 * 1024;
/// Cache entries per thread, and the largest payload cached.
const CACHE_ENTRIES: usize = 8;
const CACHE_MAX_PAYLOAD: usize = 256 * 1024;

struct CacheEntry {
    payload: Bytes,
    window: u8,
    level: u32,
    deflated: Bytes,
}

thread_local! {
    /// Compressors for connections without server context takeover, by
    /// (window, level): reset before every message.
    static SHARED_COMPRESS: RefCell<Vec<(u8, u32, Compress)>> = const { RefCell::new(Vec::new()) };
    /// Decompressors for clients without context takeover, by window.
    static SHARED_DECOMPRESS: RefCell<Vec<(u8, Decompress)>> = const { RefCell::new(Vec::new()) };
    /// Recently compressed shared payloads (no context takeover).
    static CACHE: RefCell<VecDeque<CacheEntry>> = const { RefCell::new(VecDeque::new()) };
}

/// One connection's compression state: what was agreed, and the zlib
/// streams it keeps (allocated with the first message that needs one, and
/// only with context takeover).
pub(crate) struct Deflate {
    agreed: Negotiated,
    compress: Option<Compress>,
    decompress: Option<Decompress>,
}

impl Deflate {
    pub(crate) fn new(agreed: Negotiated) -> Self {
        Deflate {
            agreed,
            compress: None,
            decompress: None,
        }
    }

    /// The compressed form of `payload` when it is to be compressed (at
    /// least the threshold, not marked `compress(false)`).
    pub(crate) fn deflate(&mut self, payload: &Bytes, allowed: bool) -> Option<Bytes> {
        if !allowed || payload.len() < self.agreed.threshold {
            return None;
        }
        let (window, level) = (self.agreed.server_window, self.agreed.level);
        if !self.agreed.server_no_context_takeover {
            let c = self
                .compress
                .get_or_insert_with(|| new_compress(window, level));
            return deflate_message(c, payload).map(Bytes::from);
        }
        let cacheable = payload.len() <= CACHE_MAX_PAYLOAD;
        if cacheable {
            let hit = CACHE.with_borrow(|cache| {
                cache
                    .iter()
                    .find(|e| {
                        e.payload.as_ptr() == payload.as_ptr()
                            && e.payload.len() == payload.len()
                            && (e.window, e.level) == (window, level)
                    })
                    .map(|e| e.deflated.clone())
            });
            if hit.is_some() {
                return hit;
            }
        }
        let deflated = SHARED_COMPRESS.with_borrow_mut(|shared| {
            let i = match shared
                .iter()
                .position(|(w, l, _)| (*w, *l) == (window, level))
            {
                Some(i) => i,
                None => {
                    shared.push((window, level, new_compress(window, level)));
                    shared.len() - 1
                }
            };
            let c = &mut shared[i].2;
            c.reset();
            deflate_message(c, payload)
        })?;
        let deflated = Bytes::from(deflated);
        if cacheable {
            CACHE.with_borrow_mut(|cache| {
                if cache.len() == CACHE_ENTRIES {
                    cache.pop_back();
                }
                cache.push_front(CacheEntry {
                    payload: payload.clone(),
                    window,
                    level,
                    deflated: deflated.clone(),
                });
            });
        }
        Some(deflated)
    }

    /// Inflates one message's payload, at most `max` bytes of output.
    pub(crate) fn inflate(&mut self, payload: &[u8], max: usize) -> Result<Vec<u8>, WsError> {
        let window = self.agreed.client_window;
        if self.agreed.client_no_context_takeover {
            return SHARED_DECOMPRESS.with_borrow_mut(|shared| {
                let i = match shared.iter().position(|(w, _)| *w == window) {
                    Some(i) => i,
                    None => {
                        shared.push((window, Decompress::new_with_window_bits(false, window)));
                        shared.len() - 1
                    }
                };
                let d = &mut shared[i].1;
                let out = inflate_message(d, payload, max);
                d.reset(false);
                out.map(|(out, _)| out)
            });
        }
        let d = self
            .decompress
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, window));
        let result = inflate_message(d, payload, max);
        match result {
            Ok((out, ended)) => {
                if ended {
                    // The peer ended the deflate stream: the next message
                    // starts a new one.
                    d.reset(false);
                }
                Ok(out)
            }
            Err(e) => Err(e),
        }
    }
}

fn new_compress(window: u8, level: u32) -> Compress {
    Compress::new_with_window_bits(Compression::new(level), false, window)
}

/// Compresses one message with a sync flush and drops the flush's tail.
fn deflate_message(c: &mut Compress, input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() / 2 + 64);
    let start = c.total_in();
    loop {
        if out.capacity() - out.len() < 64 {
            out.reserve(out.len().max(256));
        }
        let used = (c.total_in() - start) as usize;
        c.compress_vec(&input[used..], &mut out, FlushCompress::Sync)
            .ok()?;
        let used = (c.total_in() - start) as usize;
        // The flush is complete once all input is in and zlib left room.
        if used == input.len() && out.len() < out.capacity() {
            break;
        }
    }
    if out.ends_with(&TAIL) {
        out.truncate(out.len() - TAIL.len());
    }
    Some(out)
}

/// Inflates one message (its payload, then the removed tail), growing the
/// output in bounded steps: past `max` bytes it stops with
/// [`WsError::TooBig`], having allocated at most `max + 1`. Returns the
/// output and whether the peer ended the deflate stream.
fn inflate_message(
    d: &mut Decompress,
    payload: &[u8],
    max: usize,
) -> Result<(Vec<u8>, bool), WsError> {
    let mut out = Vec::with_capacity(
        payload
            .len()
            .saturating_mul(2)
            .clamp(64, INFLATE_STEP)
            .min(max + 1),
    );
    for part in [payload, &TAIL[..]] {
        let start = d.total_in();
        loop {
            if out.len() == out.capacity() {
                if out.len() > max {
                    return Err(WsError::TooBig);
                }
                let room = out.len().clamp(1024, INFLATE_STEP).min(max + 1 - out.len());
                out.reserve_exact(room);
            }
            let used = (d.total_in() - start) as usize;
            let before = (d.total_in(), d.total_out());
            let status = d
                .decompress_vec(&part[used..], &mut out, FlushDecompress::Sync)
                .map_err(|_| WsError::Protocol("invalid compressed data"))?;
            if out.len() > max {
                return Err(WsError::TooBig);
            }
            if status == Status::StreamEnd {
                return Ok((out, true));
            }
            let used = (d.total_in() - start) as usize;
            if used == part.len() && out.len() < out.capacity() {
                break;
            }
            if (d.total_in(), d.total_out()) == before && out.len() < out.capacity() {
                // No progress with input left and room to write.
                return Err(WsError::Protocol("invalid compressed data"));
            }
        }
    }
    Ok((out, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deflate::negotiate::negotiate;
    use crate::PerMessageDeflate;

    fn agreed(offer: &str, config: PerMessageDeflate) -> Negotiated {
        negotiate([offer].into_iter(), &config).unwrap()
    }

    #[test]
    fn round_trips_with_and_without_context_takeover() {
        for offer in [
            "permessage-deflate",
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            "permessage-deflate; server_max_window_bits=9; client_max_window_bits=9",
        ] {
            let n = agreed(
                offer,
                PerMessageDeflate {
                    threshold: 0,
                    ..Default::default()
                },
            );
            // The server compresses; a peer with the mirrored settings inflates.
            let mut server = Deflate::new(n);
            let mut peer = Deflate::new(Negotiated {
                client_window: n.server_window,
                client_no_context_takeover: n.server_no_context_takeover,
                ..n
            });
            for i in 0..3 {
                let msg = Bytes::from(format!("42[\"news\",\"{}\"]", "abc".repeat(500 + i)));
                let z = server.deflate(&msg, true).unwrap();
                assert!(z.len() < msg.len() / 4, "{offer}");
                assert_eq!(peer.inflate(&z, 1 << 20).unwrap(), msg.to_vec(), "{offer}");
            }
        }
    }

    #[test]
    fn threshold_and_the_compress_flag_decide() {
        let mut d = Deflate::new(agreed("permessage-deflate", PerMessageDeflate::default()));
        assert!(d.deflate(&Bytes::from(vec![b'a'; 1023]), true).is_none());
        assert!(d.deflate(&Bytes::from(vec![b'a'; 1024]), false).is_none());
        assert!(d.deflate(&Bytes::from(vec![b'a'; 1024]), true).is_some());
        // Nothing allocated before a message needs it.
        let idle = Deflate::new(agreed("permessage-deflate", PerMessageDeflate::default()));
        assert!(idle.compress.is_none() && idle.decompress.is_none());
    }

    #[test]
    fn a_shared_payload_is_compressed_once_per_thread() {
        let n = agreed(
            "permessage-deflate; server_no_context_takeover",
            PerMessageDeflate::default(),
        );
        let payload = Bytes::from(vec![b'x'; 4096]);
        let a = Deflate::new(n).deflate(&payload, true).unwrap();
        let b = Deflate::new(n).deflate(&payload.clone(), true).unwrap();
        assert_eq!(
            a.as_ptr(),
            b.as_ptr(),
            "the second recipient reuses the bytes"
        );
        // The same bytes in another buffer are compressed again (and equal).
        let other = Bytes::from(vec![b'x'; 4096]);
        let c = Deflate::new(n).deflate(&other, true).unwrap();
        assert_ne!(a.as_ptr(), c.as_ptr());
        assert_eq!(a, c);
    }

    #[test]
    fn a_bomb_stops_at_the_limit() {
        let n = agreed(
            "permessage-deflate",
            PerMessageDeflate {
                threshold: 0,
                ..Default::default()
            },
        );
        let bomb = Deflate::new(n)
            .deflate(&Bytes::from(vec![0u8; 10 << 20]), true)
            .unwrap();
        assert!(bomb.len() < 20_000);
        let mut peer = Deflate::new(n);
        assert!(matches!(
            peer.inflate(&bomb, 1_000_000),
            Err(WsError::TooBig)
        ));
        assert!(matches!(
            Deflate::new(n).inflate(b"\xff\xff\xff garbage", 1000),
            Err(WsError::Protocol(_))
        ));
    }
}
