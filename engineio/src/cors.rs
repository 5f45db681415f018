//! Cross-origin resource sharing, off unless [`EngineConfig::cors`](crate::EngineConfig::cors) is set.
//!
//! With it set, an `OPTIONS` preflight is answered `204` with the allowed
//! methods and the requested headers echoed, and every answer to a request
//! from an allowed origin carries `Access-Control-Allow-Origin` with that
//! origin, `Vary: Origin` and, if enabled, `Access-Control-Allow-Credentials`.
//! A request from another origin gets its answer without those headers.

use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Response, StatusCode};

use crate::response::{respond, Body};

/// Which origins may make cross-origin requests.
#[derive(Clone)]
pub enum AllowOrigin {
    /// Any origin (the request's origin is echoed back).
    Any,
    /// Exactly these origins, e.g. `https://example.com`.
    List(Vec<String>),
    /// Origins for which the predicate is true.
    Predicate(Arc<dyn Fn(&str) -> bool + Send + Sync>),
}

impl std::fmt::Debug for AllowOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AllowOrigin::Any => f.write_str("Any"),
            AllowOrigin::List(l) => f.debug_tuple("List").field(l).finish(),
            AllowOrigin::Predicate(_) => f.write_str("Predicate(..)"),
        }
    }
}

/// Cross-origin resource sharing. Off unless set.
///
/// ```
/// use roomcast_engineio::{AllowOrigin, Cors};
/// let cors = Cors { origins: AllowOrigin::List(vec!["https://example.com".into()]), credentials: true };
/// assert!(cors.allows("https://example.com"));
/// assert!(!cors.allows("https://evil.example"));
/// ```
#[derive(Clone, Debug)]
pub struct Cors {
    /// The allowed origins.
    pub origins: AllowOrigin,
    /// Whether to send `Access-Control-Allow-Credentials: true`.
    pub credentials: bool,
}

impl Cors {
    /// Any origin, without credentials.
    pub fn any() -> Self {
        Cors {
            origins: AllowOrigin::Any,
            credentials: false,
        }
    }

    /// Whether `origin` may make requests.
    pub fn allows(&self, origin: &str) -> bool {
        match &self.origins {
            AllowOrigin::Any => true,
            AllowOrigin::List(list) => list.iter().any(|o| o == origin),
            AllowOrigin::Predicate(p) => p(origin),
        }
    }
}

/// The answer to a preflight (`OPTIONS`) request with these headers.
pub(crate) fn preflight(request: &HeaderMap) -> Response<Body> {
    let mut res = respond(StatusCode::NO_CONTENT, "text/plain", Bytes::new());
    let h = res.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET,HEAD,PUT,PATCH,POST,DELETE"),
    );
    if let Some(v) = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v.clone());
    }
    res
}

/// Adds the CORS headers to `res` when `origin` is allowed.
pub(crate) fn allow_origin(cors: &Cors, origin: Option<HeaderValue>, res: &mut Response<Body>) {
    let Some(origin) = origin else { return };
    if !origin.to_str().map(|o| cors.allows(o)).unwrap_or(false) {
        return;
    }
    let h = res.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if cors.credentials {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
}
