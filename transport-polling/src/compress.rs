//! HTTP compression of long-polling answers, as Node's `httpCompression`.
//!
//! Semantics: an answer body of at least [`HttpCompression::threshold`]
//! bytes is compressed with the encoding the request's `Accept-Encoding`
//! prefers among `gzip` and `deflate` (the highest quality; gzip on a tie;
//! `*` counts for both; `q=0` refuses). A smaller body, or a request that
//! accepts neither, is answered as it is. The caller sets `Content-Encoding`
//! from [`Encoding::as_str`] and `Vary: Accept-Encoding` on every answer
//! that could have been compressed.

use std::io::Write;

use flate2::write::{GzEncoder, ZlibEncoder};
use flate2::Compression;

/// Compression of polling answers (on by default, as Node).
///
/// ```
/// use roomcast_transport_polling::compress::{Encoding, HttpCompression};
/// let c = HttpCompression::default();
/// assert_eq!(c.threshold, 1024);
/// let body = vec![b'a'; 2000];
/// let (encoding, gz) = c.compress(&body, Some("gzip, deflate, br")).unwrap();
/// assert_eq!(encoding, Encoding::Gzip);
/// assert!(gz.len() < 100);
/// assert!(c.compress(&body[..1000], Some("gzip")).is_none());
/// assert!(c.compress(&body, None).is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpCompression {
    /// Bodies smaller than this many bytes are sent as they are (default
    /// 1024, as Node).
    pub threshold: usize,
    /// The zlib level, 0 to 9 (default 6, zlib's default, as Node).
    pub level: u32,
}

impl Default for HttpCompression {
    fn default() -> Self {
        HttpCompression {
            threshold: 1024,
            level: 6,
        }
    }
}

/// A `Content-Encoding` the server produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// `gzip` (RFC 1952).
    Gzip,
    /// `deflate`: the zlib format (RFC 1950), as Node's `createDeflate`.
    Deflate,
}

impl Encoding {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gzip => "gzip",
            Encoding::Deflate => "deflate",
        }
    }

    /// The encoding an `Accept-Encoding` value prefers, if it accepts one.
    pub fn choose(accept: &str) -> Option<Encoding> {
        let (mut gzip, mut deflate, mut any) = (None, None, None);
        for item in accept.split(',') {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let q = parts
                .find_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
                .map(|q| q.trim().parse::<f32>().unwrap_or(0.0))
                .unwrap_or(1.0);
            let slot = if name.eq_ignore_ascii_case("gzip") {
                &mut gzip
            } else if name.eq_ignore_ascii_case("deflate") {
                &mut deflate
            } else if name == "*" {
                &mut any
            } else {
                continue;
            };
            *slot = Some(q);
        }
        let gzip = gzip.or(any).unwrap_or(0.0);
        let deflate = deflate.or(any).unwrap_or(0.0);
        if gzip <= 0.0 && deflate <= 0.0 {
            None
        } else if gzip >= deflate {
            Some(Encoding::Gzip)
        } else {
            Some(Encoding::Deflate)
        }
    }
}

impl HttpCompression {
    /// `body` compressed for a request with this `Accept-Encoding`, or
    /// `None` when it is to be sent as it is.
    pub fn compress(&self, body: &[u8], accept: Option<&str>) -> Option<(Encoding, Vec<u8>)> {
        if body.len() < self.threshold {
            return None;
        }
        let encoding = Encoding::choose(accept?)?;
        let level = Compression::new(self.level.min(9));
        let out = Vec::with_capacity(body.len() / 2 + 64);
        let compressed = match encoding {
            Encoding::Gzip => {
                let mut e = GzEncoder::new(out, level);
                e.write_all(body).and_then(|()| e.finish())
            }
            Encoding::Deflate => {
                let mut e = ZlibEncoder::new(out, level);
                e.write_all(body).and_then(|()| e.finish())
            }
        };
        // Writing to a Vec does not fail; if it did, send it as it is.
        compressed.ok().map(|c| (encoding, c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chooses_as_node_accepts_does() {
        for (accept, expected) in [
            ("gzip, deflate, br", Some(Encoding::Gzip)),
            ("deflate", Some(Encoding::Deflate)),
            ("deflate, gzip;q=0.5", Some(Encoding::Deflate)),
            ("gzip;q=0, deflate;q=0.1", Some(Encoding::Deflate)),
            ("*", Some(Encoding::Gzip)),
            ("br, identity", None),
            ("gzip;q=0", None),
            ("", None),
        ] {
            assert_eq!(Encoding::choose(accept), expected, "{accept}");
        }
    }

    #[test]
    fn both_encodings_decode() {
        use std::io::Read;
        let body: Vec<u8> = b"4hello\x1e".repeat(300);
        let c = HttpCompression::default();
        let (_, gz) = c.compress(&body, Some("gzip")).unwrap();
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);
        let (_, z) = c.compress(&body, Some("deflate")).unwrap();
        out.clear();
        flate2::read::ZlibDecoder::new(&z[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);
    }
}
