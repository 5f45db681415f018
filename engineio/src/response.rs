//! HTTP responses the engine sends: payloads and plain answers
//! ([`respond`]), and the protocol's errors ([`ErrorCode`], [`error`]):
//! HTTP 400 with `{"code":N,"message":"…"}`, or 403 for a handshake
//! rejected by `allow_request`.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::Full;

/// The response body of every engine response.
pub type Body = Full<Bytes>;

/// The protocol's error codes, sent as `{"code":N,"message":"…"}`.
///
/// ```
/// use roomcast_engineio::ErrorCode;
/// assert_eq!(ErrorCode::UnknownSid.message(), "Session ID unknown");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// 0: the transport is not offered.
    UnknownTransport = 0,
    /// 1: no session has this sid.
    UnknownSid = 1,
    /// 2: a handshake that is not a GET.
    BadHandshakeMethod = 2,
    /// 3: anything else malformed.
    BadRequest = 3,
    /// 4: rejected by `allow_request` (HTTP 403).
    Forbidden = 4,
    /// 5: `EIO` is not 4.
    UnsupportedProtocolVersion = 5,
}

impl ErrorCode {
    /// The reference server's message for the code.
    pub fn message(self) -> &'static str {
        match self {
            ErrorCode::UnknownTransport => "Transport unknown",
            ErrorCode::UnknownSid => "Session ID unknown",
            ErrorCode::BadHandshakeMethod => "Bad handshake method",
            ErrorCode::BadRequest => "Bad request",
            ErrorCode::Forbidden => "Forbidden",
            ErrorCode::UnsupportedProtocolVersion => "Unsupported protocol version",
        }
    }
}

/// The error response for `code`, with the reference server's message.
pub(crate) fn error(code: ErrorCode) -> Response<Body> {
    error_with(code, code.message())
}

/// The error response for `code`, with `message`.
pub(crate) fn error_with(code: ErrorCode, message: &str) -> Response<Body> {
    if let Some(counter) = roomcast_core::metrics::Counter::handshake_error(code as u8) {
        roomcast_core::metrics::add(counter, 1);
    }
    let body = serde_json::json!({ "code": code as u8, "message": message }).to_string();
    let status = if code == ErrorCode::Forbidden {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::BAD_REQUEST
    };
    respond(status, "application/json", Bytes::from(body))
}

/// A response with this status, content type and body.
pub(crate) fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: Bytes,
) -> Response<Body> {
    let mut res = Response::new(Full::new(body));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}
