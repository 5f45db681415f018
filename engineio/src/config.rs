//! Engine options, with the reference server's defaults.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, Method, Uri};
use roomcast_core::OutboxConfig;

use crate::cors::Cors;

/// A transport a session can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// HTTP long-polling.
    Polling,
    /// WebSocket.
    WebSocket,
}

impl TransportKind {
    /// The name used in the `transport` query parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Polling => "polling",
            TransportKind::WebSocket => "websocket",
        }
    }

    /// Parses the `transport` query parameter.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "polling" => Some(TransportKind::Polling),
            "websocket" => Some(TransportKind::WebSocket),
            _ => None,
        }
    }

    /// Whether this build includes the transport (cargo features `polling`, `ws`).
    pub fn is_compiled(self) -> bool {
        match self {
            TransportKind::Polling => cfg!(feature = "polling"),
            TransportKind::WebSocket => cfg!(feature = "ws"),
        }
    }
}

/// What a request looks like to [`EngineConfig::allow_request`] and to
/// handshake hooks.
#[derive(Debug)]
pub struct RequestInfo<'a> {
    /// The method.
    pub method: &'a Method,
    /// The URI, with its query.
    pub uri: &'a Uri,
    /// The headers.
    pub headers: &'a HeaderMap,
    /// The peer's address, when the host server provides it (see [`RemoteAddr`]).
    pub remote_addr: Option<SocketAddr>,
}

impl RequestInfo<'_> {
    /// The value of a query parameter (percent-decoded).
    pub fn query(&self, key: &str) -> Option<String> {
        let q = self.uri.query()?;
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    }
}

/// The peer's socket address, as a request extension.
///
/// The standalone server inserts it; a host server (axum, hyper) that wants
/// handlers to see remote addresses inserts it too (e.g. from axum's
/// `ConnectInfo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteAddr(pub SocketAddr);

/// Decides whether a handshake may proceed; `Err(message)` rejects it with
/// HTTP 403 and `{"code":4,"message":message}`. It may be asynchronous (a
/// database look-up): the request is only borrowed while the hook is
/// called, so take what the future needs before it starts. Build one with
/// [`allow_request`] or [`allow_request_async`].
pub type AllowRequest = Arc<dyn Fn(&RequestInfo<'_>) -> AllowFuture + Send + Sync>;

/// The verdict of an [`AllowRequest`] hook.
pub type AllowFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// A synchronous [`AllowRequest`] hook.
///
/// ```
/// use roomcast_engineio::{allow_request, EngineConfig};
/// let config = EngineConfig {
///     allow_request: Some(allow_request(|req| match req.query("token").as_deref() {
///         Some("secret") => Ok(()),
///         _ => Err("bad token".to_string()),
///     })),
///     ..EngineConfig::default()
/// };
/// ```
pub fn allow_request(
    hook: impl Fn(&RequestInfo<'_>) -> Result<(), String> + Send + Sync + 'static,
) -> AllowRequest {
    Arc::new(move |req| Box::pin(std::future::ready(hook(req))))
}

/// An asynchronous [`AllowRequest`] hook (Node's `allowRequest` calling
/// back later): the closure reads the request, the future it returns
/// decides.
///
/// ```
/// use roomcast_engineio::{allow_request_async, EngineConfig};
/// let config = EngineConfig {
///     allow_request: Some(allow_request_async(|req| {
///         let token = req.query("token");
///         async move {
///             // e.g. a database look-up
///             if token.as_deref() == Some("secret") { Ok(()) } else { Err("bad token".into()) }
///         }
///     })),
///     ..EngineConfig::default()
/// };
/// ```
pub fn allow_request_async<F, Fut>(hook: F) -> AllowRequest
where
    F: Fn(&RequestInfo<'_>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    Arc::new(move |req| Box::pin(hook(req)))
}

/// Engine options. The defaults are the reference server's.
///
/// ```
/// use std::time::Duration;
/// use roomcast_engineio::EngineConfig;
/// let config = EngineConfig { ping_interval: Duration::from_millis(300), ..EngineConfig::default() };
/// assert_eq!(config.max_payload, 1_000_000);
/// assert_eq!(config.path, "/engine.io/");
/// ```
#[derive(Clone)]
pub struct EngineConfig {
    /// Where the engine is mounted; the trailing slash is optional in requests.
    pub path: String,
    /// How often the server pings (default 25 s).
    pub ping_interval: Duration,
    /// How long the client has to answer a ping (default 20 s).
    pub ping_timeout: Duration,
    /// How long an upgrade to WebSocket may take (default 10 s).
    pub upgrade_timeout: Duration,
    /// The largest message or polling body accepted, in bytes (default 1 MB).
    pub max_payload: usize,
    /// The transports offered, in order (default polling, websocket).
    pub transports: Vec<TransportKind>,
    /// Whether polling sessions may upgrade to WebSocket (default true).
    pub allow_upgrades: bool,
    /// Cross-origin requests (default off).
    pub cors: Option<Cors>,
    /// A hook that accepts or rejects handshakes (default: accept all).
    pub allow_request: Option<AllowRequest>,
    /// Called for every refused request (Node's `connection_error`; see
    /// [`ConnectionError`](crate::ConnectionError)).
    pub on_connection_error: Option<crate::ConnectionErrorHook>,
    /// Adds headers to handshake answers, e.g. a cookie (Node's
    /// `initial_headers`; default none).
    pub initial_headers: Option<crate::HeadersHook>,
    /// Adds headers to every answer of a session, the handshake's included
    /// (Node's `headers`; default none).
    pub headers: Option<crate::HeadersHook>,
    /// Each session's outbound queue.
    pub outbox: OutboxConfig,
    /// The most sessions at once; a handshake beyond gets 503 (default 100 000).
    pub max_sessions: usize,
    /// Whether Engine.IO v3 clients (Socket.IO v2) may connect (default
    /// false: their handshake gets code 5, "Unsupported protocol version").
    /// Node's `allowEIO3`; see [`Protocol`](crate::Protocol).
    pub allow_eio3: bool,
    /// Files served under the path beside the engine (default none), e.g.
    /// the Socket.IO client builds.
    pub static_files: Option<crate::StaticFiles>,
    /// WebSocket compression (`permessage-deflate`, RFC 7692), negotiated
    /// with clients that offer it; off by default, as Node's
    /// `perMessageDeflate: false`.
    #[cfg(feature = "ws")]
    pub per_message_deflate: Option<roomcast_transport_ws::PerMessageDeflate>,
    /// gzip/deflate of long-polling answers per `Accept-Encoding`; on by
    /// default (1024-byte threshold), as Node's `httpCompression`. `None`
    /// turns it off.
    #[cfg(feature = "polling")]
    pub http_compression: Option<roomcast_transport_polling::compress::HttpCompression>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            path: "/engine.io/".to_string(),
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            upgrade_timeout: Duration::from_millis(10_000),
            max_payload: 1_000_000,
            transports: vec![TransportKind::Polling, TransportKind::WebSocket],
            allow_upgrades: true,
            cors: None,
            allow_request: None,
            on_connection_error: None,
            initial_headers: None,
            headers: None,
            outbox: OutboxConfig::default(),
            max_sessions: 100_000,
            allow_eio3: false,
            static_files: None,
            #[cfg(feature = "ws")]
            per_message_deflate: None,
            #[cfg(feature = "polling")]
            http_compression: Some(Default::default()),
        }
    }
}

impl std::fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineConfig")
            .field("path", &self.path)
            .field("ping_interval", &self.ping_interval)
            .field("ping_timeout", &self.ping_timeout)
            .field("upgrade_timeout", &self.upgrade_timeout)
            .field("max_payload", &self.max_payload)
            .field("transports", &self.transports)
            .field("allow_upgrades", &self.allow_upgrades)
            .field("cors", &self.cors)
            .field("allow_request", &self.allow_request.is_some())
            .field("on_connection_error", &self.on_connection_error.is_some())
            .field("initial_headers", &self.initial_headers.is_some())
            .field("headers", &self.headers.is_some())
            .field("outbox", &self.outbox)
            .field("max_sessions", &self.max_sessions)
            .field("allow_eio3", &self.allow_eio3)
            .field("static_files", &self.static_files.is_some())
            .finish_non_exhaustive()
    }
}

impl EngineConfig {
    /// Whether a transport is both offered and compiled in.
    pub fn offers(&self, kind: TransportKind) -> bool {
        kind.is_compiled() && self.transports.contains(&kind)
    }

    /// Whether a request path is the engine's (with or without trailing slash).
    pub fn matches_path(&self, path: &str) -> bool {
        path.trim_end_matches('/') == self.path.trim_end_matches('/')
    }
}
