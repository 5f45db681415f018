//! Files served under the engine's path beside it (Socket.IO's
//! `serveClient`: `/socket.io/socket.io.js`, …).
//!
//! Semantics: the files are read once, when the set is built, and kept in
//! memory (a few hundred KiB for the client builds); a GET or HEAD for
//! `<path><name>` answers 200 with the file, its content type,
//! `Cache-Control: public, max-age=0` and the set's `ETag`, or 304 when
//! `If-None-Match` names that ETag (strong or weak), as the reference
//! server does. Other paths are not the set's business.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};

use crate::response::{respond, Body};

/// A set of in-memory files served under the engine's path; see
/// [`EngineConfig::static_files`](crate::EngineConfig::static_files).
///
/// ```
/// use roomcast_engineio::StaticFiles;
/// let files = StaticFiles::new("\"4.8.4\"")
///     .with_file("hello.js", "application/javascript; charset=utf-8", "alert(1)");
/// assert!(files.contains("hello.js"));
/// ```
#[derive(Clone, Debug)]
pub struct StaticFiles {
    files: Arc<HashMap<String, (&'static str, Bytes)>>,
    etag: HeaderValue,
}

impl StaticFiles {
    /// An empty set whose files share this `ETag` (a quoted string, e.g.
    /// the package version). An invalid header value becomes `""`.
    pub fn new(etag: &str) -> Self {
        StaticFiles {
            files: Arc::default(),
            etag: HeaderValue::from_str(etag).unwrap_or(HeaderValue::from_static("\"\"")),
        }
    }

    /// Adds a file under `name` (relative to the engine's path).
    pub fn with_file(
        mut self,
        name: &str,
        content_type: &'static str,
        body: impl Into<Bytes>,
    ) -> Self {
        Arc::make_mut(&mut self.files).insert(name.to_string(), (content_type, body.into()));
        self
    }

    /// Whether the set has a file `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.files.contains_key(name)
    }

    /// The answer for a request of `path` (the full request path) under
    /// `base` (the engine's path), if it names a file of the set.
    pub(crate) fn answer(
        &self,
        base: &str,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Option<Response<Body>> {
        if method != Method::GET && method != Method::HEAD {
            return None;
        }
        let base = base.trim_end_matches('/');
        let name = path.strip_prefix(base)?.strip_prefix('/')?;
        let (content_type, body) = self.files.get(name)?;
        let etag = self.etag.as_bytes();
        let matches = headers.get(header::IF_NONE_MATCH).is_some_and(|v| {
            let v = v.as_bytes();
            v == etag || v.strip_prefix(b"W/") == Some(etag)
        });
        let mut res = if matches {
            respond(StatusCode::NOT_MODIFIED, content_type, Bytes::new())
        } else if method == Method::HEAD {
            respond(StatusCode::OK, content_type, Bytes::new())
        } else {
            respond(StatusCode::OK, content_type, body.clone())
        };
        let h = res.headers_mut();
        h.insert(header::ETAG, self.etag.clone());
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=0"),
        );
        Some(res)
    }
}
