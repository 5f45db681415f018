//! HTTP compression of long-polling answers (`EngineConfig::http_compression`).
//!
//! As the reference server: a GET's payload is compressed unless every
//! packet in it was sent with `compress(false)` (the heartbeat and noop
//! packets count as compressible, as in Node), when it reaches the
//! threshold and the request accepts gzip or deflate. `Content-Encoding`
//! names the encoding; `Vary: Accept-Encoding` is set on every answer
//! whose encoding depended on that header. Other answers (handshake, POST
//! `ok`, errors) are small and go as they are.

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Response};
use http_body_util::{BodyExt, Full};
use roomcast_core::Frame;

use crate::config::EngineConfig;
use crate::response::Body;

/// Marks an answer whose packets were all sent with `compress(false)`.
#[derive(Clone, Copy)]
struct Uncompressed;

/// Marks `res` as not to be compressed when none of `frames` may be.
pub(crate) fn mark_uncompressed(mut res: Response<Body>, frames: &[Frame]) -> Response<Body> {
    if !frames.is_empty() && frames.iter().all(|f| !f.compress()) {
        res.extensions_mut().insert(Uncompressed);
    }
    res
}

/// Compresses a polling answer per the request's `Accept-Encoding`.
pub(crate) async fn compress_answer(
    res: Response<Body>,
    request: &HeaderMap,
    config: &EngineConfig,
) -> Response<Body> {
    let Some(compression) = config.http_compression else {
        return res;
    };
    if res.extensions().get::<Uncompressed>().is_some() || !res.status().is_success() {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    // A `Full` body is one chunk, ready at once.
    let data: Bytes = match body.collect().await {
        Ok(c) => c.to_bytes(),
        Err(never) => match never {},
    };
    if data.len() >= compression.threshold {
        parts
            .headers
            .insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    let accept = request
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok());
    let body = match compression.compress(&data, accept) {
        Some((encoding, compressed)) => {
            parts.headers.insert(
                header::CONTENT_ENCODING,
                HeaderValue::from_static(encoding.as_str()),
            );
            Bytes::from(compressed)
        }
        None => data,
    };
    Response::from_parts(parts, Full::new(body))
}
