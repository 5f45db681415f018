//! The engine: the session table and the HTTP entry point.
//!
//! [`Engine::handle`] answers every request under the engine's path, as the
//! reference server does: handshakes, polling GETs and POSTs, WebSocket
//! upgrades, and the error responses (HTTP 400 with
//! `{"code":N,"message":"…"}`, 403 for a rejected handshake, 413 for a
//! polling body over `max_payload`). The engine is a hyper 1 / tower
//! service ([`Engine::service`]), a layer that lets other paths fall through
//! to the host ([`Engine::layer`]), or a standalone server ([`Engine::serve`]).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use dashmap::DashMap;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Body as HttpBody;
use roomcast_core::{ClientId, CloseReason};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tracing::Instrument;

use crate::socket::{Handler, Handshake, Socket};
use crate::{packet, EngineConfig, RemoteAddr, RequestInfo, TransportKind};

/// The response body of every engine response.
pub type Body = Full<Bytes>;

/// The protocol's error codes, sent as `{"code":N,"message":"…"}`.
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

pub(crate) fn error(code: ErrorCode) -> Response<Body> {
    error_with(code, code.message())
}

pub(crate) fn error_with(code: ErrorCode, message: &str) -> Response<Body> {
    let body = serde_json::json!({ "code": code as u8, "message": message }).to_string();
    let status = if code == ErrorCode::Forbidden {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::BAD_REQUEST
    };
    respond(status, "application/json", Bytes::from(body))
}

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

pub(crate) struct Shared {
    pub(crate) config: EngineConfig,
    pub(crate) sessions: DashMap<ClientId, Arc<Socket>>,
    /// Polling sessions closed by the server, out of `sessions`, until one
    /// more GET fetches their close packet (see `Socket::close`).
    pub(crate) closing: DashMap<ClientId, Arc<Socket>>,
    pub(crate) handler: Arc<dyn Handler>,
    /// WebSocket connections still carrying frames (one whose session has
    /// closed may still be flushing); [`Engine::shutdown`] waits for them.
    pub(crate) live_transports: AtomicUsize,
    /// Set once [`Engine::shutdown`] starts: no new sessions.
    stopping: AtomicBool,
    /// Wakes the accept loops of [`Engine::serve`] on shutdown.
    stop: Notify,
}

/// An Engine.IO v4 server. Cheap to clone (a handle).
///
/// ```no_run
/// use std::sync::Arc;
/// use roomcast_core::{CloseReason, Frame, Message};
/// use roomcast_engineio::{Engine, EngineConfig, Handler, Socket};
///
/// struct Echo;
/// impl Handler for Echo {
///     fn on_open(&self, _: &Arc<Socket>) {}
///     fn on_message(&self, socket: &Arc<Socket>, message: Frame) -> Result<(), CloseReason> {
///         let frame = match message {
///             Frame::Text(t) => roomcast_engineio::message_text(t.as_str()),
///             binary => binary,
///         };
///         let _ = socket.send(&Message::from(frame));
///         Ok(())
///     }
///     fn on_close(&self, _: &Arc<Socket>, _: CloseReason) {}
/// }
///
/// # async fn run() -> std::io::Result<()> {
/// let engine = Engine::new(EngineConfig::default(), Echo);
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// engine.serve(listener).await
/// # }
/// ```
#[derive(Clone)]
pub struct Engine {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("path", &self.shared.config.path)
            .field("sessions", &self.shared.sessions.len())
            .finish()
    }
}

struct Query {
    transport: Option<String>,
    sid: Option<String>,
    eio: Option<String>,
}

fn parse_query(q: Option<&str>) -> Query {
    let mut out = Query {
        transport: None,
        sid: None,
        eio: None,
    };
    for (k, v) in form_urlencoded::parse(q.unwrap_or("").as_bytes()) {
        match &*k {
            "transport" => out.transport = Some(v.into_owned()),
            "sid" => out.sid = Some(v.into_owned()),
            "EIO" => out.eio = Some(v.into_owned()),
            _ => {}
        }
    }
    out
}

impl Engine {
    /// An engine with these options, handing sessions to `handler`.
    pub fn new(config: EngineConfig, handler: impl Handler) -> Self {
        Self::with_handler(config, Arc::new(handler))
    }

    /// [`Engine::new`] with a shared handler.
    pub fn with_handler(config: EngineConfig, handler: Arc<dyn Handler>) -> Self {
        Engine {
            shared: Arc::new(Shared {
                config,
                sessions: DashMap::new(),
                closing: DashMap::new(),
                handler,
                live_transports: AtomicUsize::new(0),
                stopping: AtomicBool::new(false),
                stop: Notify::new(),
            }),
        }
    }

    /// The options.
    pub fn config(&self) -> &EngineConfig {
        &self.shared.config
    }

    /// Number of open sessions.
    pub fn session_count(&self) -> usize {
        self.shared.sessions.len()
    }

    /// An open session by id.
    pub fn socket(&self, id: ClientId) -> Option<Arc<Socket>> {
        self.shared.sessions.get(&id).map(|s| s.value().clone())
    }

    /// Closes every session (e.g. `CloseReason::ServerShutdown`).
    pub fn close_all(&self, reason: CloseReason) {
        let all: Vec<Arc<Socket>> = self
            .shared
            .sessions
            .iter()
            .map(|s| s.value().clone())
            .collect();
        for socket in all {
            socket.close(reason);
        }
    }

    /// Shuts down gracefully: stops accepting sessions (a handshake gets
    /// 503), closes every session (each gets what was queued, then a close
    /// packet), and waits for them to go — polling sessions fetched their
    /// close packet, WebSockets flushed — at most `grace`; what remains is
    /// dropped. Then [`Engine::serve`] stops accepting connections and
    /// returns — not before, since a polling client may need a new
    /// connection for the GET that fetches its last packets.
    pub async fn shutdown(&self, grace: Duration) {
        self.shared.stopping.store(true, Ordering::Release);
        self.close_all(CloseReason::ServerShutdown);
        let deadline = tokio::time::Instant::now() + grace;
        let pending = || {
            self.session_count() > 0
                || !self.shared.closing.is_empty()
                || self.shared.live_transports.load(Ordering::Acquire) > 0
        };
        while pending() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.shared.sessions.clear();
        self.shared.closing.clear();
        self.shared.stop.notify_waiters();
    }

    /// Whether [`Engine::shutdown`] has started.
    pub fn is_closing(&self) -> bool {
        self.shared.stopping.load(Ordering::Acquire)
    }

    async fn stopped(shared: Arc<Shared>) {
        let stop = shared.stop.notified();
        tokio::pin!(stop);
        stop.as_mut().enable();
        if shared.stopping.load(Ordering::Acquire) {
            return;
        }
        stop.await;
    }

    /// Creates and registers a session; the caller sends the open packet.
    pub(crate) fn open(&self, id: ClientId, handshake: Arc<Handshake>) -> Arc<Socket> {
        let config = &self.shared.config;
        let heartbeat = crate::socket::Heartbeat {
            interval: config.ping_interval,
            timeout: config.ping_timeout,
        };
        let socket = Socket::new(
            id,
            handshake,
            Arc::downgrade(&self.shared),
            config.outbox,
            heartbeat,
        );
        self.shared.sessions.insert(id, socket.clone());
        // A WebSocket session's connection task drives its heartbeat
        // (`Endpoint::deadline`); a polling session has no task of its own.
        if socket.transport() == TransportKind::Polling {
            let span = tracing::debug_span!("engine_session", sid = %id);
            tokio::spawn(socket.clone().heartbeat().instrument(span));
        }
        tracing::debug!(sid = %id, transport = socket.transport().as_str(), "engine session opened");
        socket
    }

    pub(crate) fn open_packet(
        &self,
        id: ClientId,
        transport: TransportKind,
    ) -> roomcast_core::Text {
        let c = &self.shared.config;
        let upgrades: &[&str] = if transport == TransportKind::Polling
            && c.allow_upgrades
            && c.offers(TransportKind::WebSocket)
        {
            &["websocket"]
        } else {
            &[]
        };
        packet::open(
            id.as_str(),
            upgrades,
            c.ping_interval.as_millis(),
            c.ping_timeout.as_millis(),
            c.max_payload,
        )
    }

    pub(crate) fn handler(&self) -> &Arc<dyn Handler> {
        &self.shared.handler
    }

    /// Answers one request under the engine's path.
    pub async fn handle<B>(&self, req: Request<B>) -> Response<Body>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Display,
    {
        let origin = req.headers().get(header::ORIGIN).cloned();
        let preflight_headers = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned();
        let mut res = if req.method() == Method::OPTIONS && self.shared.config.cors.is_some() {
            let mut res = respond(StatusCode::NO_CONTENT, "text/plain", Bytes::new());
            let h = res.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET,HEAD,PUT,PATCH,POST,DELETE"),
            );
            if let Some(v) = preflight_headers {
                h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v);
            }
            res
        } else {
            self.dispatch(req).await
        };
        if let (Some(cors), Some(origin)) = (&self.shared.config.cors, origin) {
            if origin.to_str().map(|o| cors.allows(o)).unwrap_or(false) {
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
        }
        res
    }

    async fn dispatch<B>(&self, req: Request<B>) -> Response<Body>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Display,
    {
        let config = &self.shared.config;
        let q = parse_query(req.uri().query());
        let transport = match q.transport.as_deref().and_then(TransportKind::parse) {
            Some(t) if config.offers(t) => t,
            _ => return error(ErrorCode::UnknownTransport),
        };
        if let Some(sid) = q.sid {
            let id = sid.parse::<ClientId>().ok();
            let socket = match id.and_then(|id| self.socket(id)) {
                Some(socket) => Some(socket),
                // A closed polling session's last GET (see `Socket::close`).
                None if transport == TransportKind::Polling && req.method() == Method::GET => {
                    id.and_then(|id| self.shared.closing.get(&id).map(|s| s.value().clone()))
                }
                None => None,
            };
            let Some(socket) = socket else {
                return error(ErrorCode::UnknownSid);
            };
            return match transport {
                #[cfg(feature = "ws")]
                TransportKind::WebSocket => crate::websocket::upgrade(self, socket, req),
                #[cfg(feature = "polling")]
                TransportKind::Polling => crate::polling::request(self, socket, req).await,
                #[allow(unreachable_patterns)]
                _ => error(ErrorCode::UnknownTransport),
            };
        }
        if req.method() != Method::GET {
            return error(ErrorCode::BadHandshakeMethod);
        }
        if self.is_closing() || self.session_count() >= config.max_sessions {
            return respond(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain",
                Bytes::from_static(b"Service Unavailable"),
            );
        }
        if q.eio.as_deref() != Some("4") {
            return error(ErrorCode::UnsupportedProtocolVersion);
        }
        let remote_addr = req.extensions().get::<RemoteAddr>().map(|r| r.0);
        let info = RequestInfo {
            method: req.method(),
            uri: req.uri(),
            headers: req.headers(),
            remote_addr,
        };
        if let Some(allow) = &config.allow_request {
            if let Err(message) = allow(&info) {
                return error_with(ErrorCode::Forbidden, &message);
            }
        }
        let id = ClientId::random();
        let extra = config
            .handshake_headers
            .as_ref()
            .map(|h| h(&info, id))
            .unwrap_or_default();
        let handshake = Handshake::new(
            detached_uri(req.uri()),
            req.headers(),
            remote_addr,
            transport,
        );
        let mut res = match transport {
            #[cfg(feature = "ws")]
            TransportKind::WebSocket => crate::websocket::handshake(self, id, handshake, req),
            #[cfg(feature = "polling")]
            TransportKind::Polling => crate::polling::handshake(self, id, handshake),
            #[allow(unreachable_patterns)]
            _ => error(ErrorCode::UnknownTransport),
        };
        extend_headers(res.headers_mut(), extra);
        res
    }

    /// This engine as a tower / hyper service answering every request it
    /// gets (mount it at its path, e.g. axum's `route_service`).
    pub fn service(&self) -> crate::EngineService {
        crate::EngineService {
            engine: self.clone(),
        }
    }

    /// A tower layer: requests under the engine's path go to the engine,
    /// every other request falls through to the wrapped service.
    pub fn layer(&self) -> crate::EngineLayer {
        crate::EngineLayer {
            engine: self.clone(),
        }
    }

    /// Serves HTTP/1.1 on `listener` until [`Engine::shutdown`] (or the
    /// listener fails): the engine at its path, 404 elsewhere.
    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        let stop = Self::stopped(self.shared.clone());
        crate::service::serve(listener, stop, move |req| {
            let engine = self.clone();
            async move {
                if engine.config().matches_path(req.uri().path()) {
                    engine.handle(req).await
                } else {
                    respond(
                        StatusCode::NOT_FOUND,
                        "text/plain",
                        Bytes::from_static(b"Not Found"),
                    )
                }
            }
        })
        .await
    }
}

/// A copy of the URI that does not share hyper's read buffer.
fn detached_uri(uri: &http::Uri) -> http::Uri {
    uri.to_string().parse().unwrap_or_else(|_| uri.clone())
}

fn extend_headers(target: &mut HeaderMap, extra: HeaderMap) {
    for (name, value) in extra.iter() {
        target.append(name.clone(), value.clone());
    }
}
