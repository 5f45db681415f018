//! Reading a request body with a size limit.
//!
//! The limit is checked against `Content-Length` before reading, and again
//! while reading (for chunked bodies), so at most `limit` bytes are ever
//! buffered.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Body;

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The body is larger than the limit.
    #[error("request body over {0} bytes")]
    TooLarge(usize),
    /// The body could not be read.
    #[error("request body could not be read: {0}")]
    Read(String),
}

/// Reads the whole body, failing once it exceeds `limit` bytes.
pub async fn read_limited<B>(body: B, limit: usize) -> Result<Bytes, BodyError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    if let Some(upper) = body.size_hint().upper() {
        if upper > limit as u64 && body.size_hint().lower() > limit as u64 {
            return Err(BodyError::TooLarge(limit));
        }
    }
    let mut body = body;
    let mut first: Option<Bytes> = None;
    let mut rest = BytesMut::new();
    let mut len = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            len += data.len();
            if len > limit {
                return Err(BodyError::TooLarge(limit));
            }
            match first.take() {
                // Single-chunk bodies (the common case) are not copied.
                None if rest.is_empty() => first = Some(data),
                None => rest.extend_from_slice(&data),
                Some(f) => {
                    rest.extend_from_slice(&f);
                    rest.extend_from_slice(&data);
                }
            }
        }
    }
    Ok(first.unwrap_or_else(|| rest.freeze()))
}
