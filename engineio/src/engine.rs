//! The engine: the HTTP entry point over the session table.
//!
//! [`Engine::handle`] answers every request under the engine's path, as the
//! reference server does: handshakes, polling GETs and POSTs, WebSocket
//! upgrades, and the error responses (HTTP 400 with
//! `{"code":N,"message":"…"}`, 403 for a rejected handshake, 413 for a
//! polling body over `max_payload`, 503 for a handshake during shutdown or
//! beyond `max_sessions`). CORS is applied around every answer
//! (`cors.rs`). The engine is a hyper 1 / tower service, a layer, or a
//! standalone server (`service.rs`).

use std::borrow::Cow;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::Either;
use futures_util::FutureExt;
use http::{header, HeaderMap, Method, Request, Response, StatusCode};
use hyper::body::Body as HttpBody;
use roomcast_core::{ClientId, CloseReason};

use crate::config::{EngineConfig, RemoteAddr, RequestInfo, TransportKind};
use crate::cors;
use crate::events::{ConnectionError, ErrorContext};
use crate::handler::Handler;
use crate::handshake::Handshake;
use crate::protocol::Protocol;
use crate::query::Query;
use crate::registry::Registry;
use crate::response::{error, error_with, respond, Body, ErrorCode};
use crate::socket::Socket;
#[cfg(feature = "ws")]
pub(crate) use crate::websocket::Takeover;

/// Without WebSocket support no answer hands a connection over.
#[cfg(not(feature = "ws"))]
pub(crate) enum Takeover {}

/// An Engine.IO v4 server. Cheap to clone (a handle).
///
/// ```no_run
/// use std::sync::Arc;
/// use roomcast_core::{CloseReason, Frame, Message};
/// use roomcast_engineio::{Engine, EngineConfig, Handler, Socket};
///
/// struct Echo;
/// impl Handler for Echo {
///     type Session = ();
///     fn on_open(&self, _: &Arc<Socket>) {}
///     fn on_message(&self, socket: &Arc<Socket>, _: &(), message: Frame) -> Result<(), CloseReason> {
///         let frame = match message {
///             Frame::Text(t) => roomcast_engineio::message_text(t.as_str()),
///             binary => binary,
///         };
///         let _ = socket.send(&Message::from(frame));
///         Ok(())
///     }
///     fn on_close(&self, _: &Arc<Socket>, _: &(), _: CloseReason) {}
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
    pub(crate) registry: Arc<Registry>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("path", &self.registry.config.path)
            .field("sessions", &self.registry.sessions.len())
            .finish()
    }
}

impl Engine {
    /// An engine with these options, handing sessions to `handler`.
    pub fn new(config: EngineConfig, handler: impl Handler) -> Self {
        Self::with_handler(config, Arc::new(handler))
    }

    /// [`Engine::new`] with a shared handler.
    pub fn with_handler<H: Handler>(config: EngineConfig, handler: Arc<H>) -> Self {
        Engine {
            registry: Arc::new(Registry::new(config, Box::new(handler))),
        }
    }

    /// The options.
    pub fn config(&self) -> &EngineConfig {
        &self.registry.config
    }

    /// Number of open sessions.
    pub fn session_count(&self) -> usize {
        self.registry.sessions.len()
    }

    /// An open session by id.
    pub fn socket(&self, id: ClientId) -> Option<Arc<Socket>> {
        self.registry.sessions.get(id)
    }

    /// Closes every session (e.g. `CloseReason::ServerShutdown`).
    pub fn close_all(&self, reason: CloseReason) {
        for socket in self.registry.sessions.all() {
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
        self.registry.start_stopping();
        self.close_all(CloseReason::ServerShutdown);
        let deadline = tokio::time::Instant::now() + grace;
        self.registry.sessions.wait_idle(deadline).await;
        self.registry.sessions.clear();
        self.registry.stopped();
    }

    /// Whether [`Engine::shutdown`] has started.
    pub fn is_closing(&self) -> bool {
        self.registry.is_stopping()
    }

    /// Answers one request under the engine's path.
    ///
    /// The peer's address is the request's [`RemoteAddr`] extension, when
    /// the host server inserted one.
    ///
    /// A plain `fn` returning the answer's future, as is
    /// `handle_from`: an `async fn` keeps its arguments for as long as its
    /// future lives, and each layer of them made every request's future
    /// about 500 bytes larger.
    pub fn handle<B>(&self, req: Request<B>) -> impl Future<Output = Response<Body>> + Send + '_
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Display,
    {
        let remote_addr = req.extensions().get::<RemoteAddr>().map(|r| r.0);
        self.handle_from(req, remote_addr, None)
    }

    /// [`Engine::handle`] with the peer's address given. `direct` is the
    /// slot of a request the engine's own server read (`accept.rs`): a
    /// WebSocket answer's [`Takeover`] is put there, for that server to run
    /// after writing the `101`, instead of going to a task on hyper's
    /// upgrade. (Passed beside the request, not in its extensions: each
    /// extension is an allocation, and the extensions' map one more.)
    pub(crate) fn handle_from<'a, B>(
        &'a self,
        req: Request<B>,
        remote_addr: Option<SocketAddr>,
        direct: Option<&'a mut Option<Takeover>>,
    ) -> impl Future<Output = Response<Body>> + Send + 'a
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Display,
    {
        let Some(cors) = &self.registry.config.cors else {
            return Either::Left(self.dispatch(req, remote_addr, direct));
        };
        let origin = req.headers().get(header::ORIGIN).cloned();
        let answer = if req.method() == Method::OPTIONS {
            Either::Left(std::future::ready(cors::preflight(req.headers())))
        } else {
            Either::Right(self.dispatch(req, remote_addr, direct))
        };
        Either::Right(answer.map(move |mut res| {
            cors::allow_origin(cors, origin, &mut res);
            res
        }))
    }

    async fn dispatch<B>(
        &self,
        req: Request<B>,
        remote_addr: Option<SocketAddr>,
        direct: Option<&mut Option<Takeover>>,
    ) -> Response<Body>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Display,
    {
        #[cfg(feature = "ws")]
        let mut req = req;
        #[cfg(not(feature = "ws"))]
        let _ = direct;
        let registry = &self.registry;
        let config = &registry.config;
        // A clone shares the URI's bytes: the query borrows them while the
        // request is lent out mutably below.
        let uri = req.uri().clone();
        let q = Query::parse(uri.query());
        let transport = match q.transport.as_deref().and_then(TransportKind::parse) {
            Some(t) if config.offers(t) => t,
            _ => {
                let transport = q.transport.map(Cow::into_owned);
                return self.refuse(
                    &req,
                    remote_addr,
                    ErrorContext::UnknownTransport { transport },
                );
            }
        };
        let protocol = Protocol::from_query(q.eio.as_deref());
        if let Some(sid) = q.sid {
            let id = sid.parse::<ClientId>().ok();
            let socket = match id.and_then(|id| registry.sessions.get(id)) {
                Some(socket) => Some(socket),
                // A closed polling session's last GET (see `Socket::close`).
                None if transport == TransportKind::Polling && req.method() == Method::GET => {
                    id.and_then(|id| registry.sessions.get_closing(id))
                }
                None => None,
            };
            let Some(socket) = socket else {
                let sid = sid.into_owned();
                return self.refuse(&req, remote_addr, ErrorContext::UnknownSid { sid });
            };
            if let Some(context) = session_mismatch(config, &socket, transport, protocol, &req) {
                return self.refuse(&req, remote_addr, context);
            }
            let extra = self.extra_headers(&req, remote_addr, socket.id(), false);
            let res = match transport {
                #[cfg(feature = "ws")]
                TransportKind::WebSocket => {
                    match crate::websocket::upgrade(registry, socket, &mut req, direct) {
                        Ok(res) => res,
                        Err(context) => return self.refuse(&req, remote_addr, context),
                    }
                }
                #[cfg(feature = "polling")]
                TransportKind::Polling => crate::polling::request(registry, socket, req).await,
                #[allow(unreachable_patterns)]
                _ => error(ErrorCode::UnknownTransport),
            };
            return with_headers(res, extra);
        }
        if req.method() != Method::GET {
            let method = req.method().clone();
            return self.refuse(
                &req,
                remote_addr,
                ErrorContext::BadHandshakeMethod { method },
            );
        }
        if registry.is_stopping() || registry.sessions.len() >= config.max_sessions {
            return respond(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain",
                Bytes::from_static(b"Service Unavailable"),
            );
        }
        if protocol == Protocol::V3 && !config.allow_eio3 {
            let context = ErrorContext::UnsupportedProtocolVersion { protocol };
            return self.refuse(&req, remote_addr, context);
        }
        // The hook borrows the request only while it is called: the
        // future it returns owns what it needs.
        let verdict = config
            .allow_request
            .as_ref()
            .map(|allow| allow(&info(&req, remote_addr)));
        if let Some(verdict) = verdict {
            if let Err(message) = verdict.await {
                return self.refuse(&req, remote_addr, ErrorContext::Forbidden { message });
            }
        }
        let id = ClientId::random();
        let extra = self.extra_headers(&req, remote_addr, id, true);
        let mut handshake = Handshake::new(
            detached_uri(req.uri()),
            req.headers(),
            remote_addr,
            transport,
        );
        handshake.protocol = protocol;
        handshake.base64 = q.b64;
        let res = match transport {
            #[cfg(feature = "ws")]
            TransportKind::WebSocket => {
                match crate::websocket::handshake(registry, id, handshake, &mut req, direct) {
                    Ok(res) => res,
                    Err(context) => return self.refuse(&req, remote_addr, context),
                }
            }
            #[cfg(feature = "polling")]
            TransportKind::Polling => crate::polling::handshake(registry, id, handshake),
            #[allow(unreachable_patterns)]
            _ => error(ErrorCode::UnknownTransport),
        };
        with_headers(res, extra)
    }

    /// The error answer for a refused request, after telling
    /// `on_connection_error`.
    fn refuse<B>(
        &self,
        req: &Request<B>,
        remote_addr: Option<SocketAddr>,
        context: ErrorContext,
    ) -> Response<Body> {
        let code = context.code();
        let res = match &context {
            ErrorContext::Forbidden { message } => error_with(code, message),
            _ => error(code),
        };
        tracing::debug!(code = code as u8, ?context, "request refused");
        if let Some(hook) = &self.registry.config.on_connection_error {
            hook(&ConnectionError {
                req: info(req, remote_addr),
                code,
                message: code.message(),
                context,
            });
        }
        res
    }

    /// What the `initial_headers` (on a handshake) and `headers` hooks add
    /// to a session's answer; `None` (and no map) without hooks.
    fn extra_headers<B>(
        &self,
        req: &Request<B>,
        remote_addr: Option<SocketAddr>,
        id: ClientId,
        handshake: bool,
    ) -> Option<HeaderMap> {
        let config = &self.registry.config;
        let initial = config.initial_headers.as_ref().filter(|_| handshake);
        if initial.is_none() && config.headers.is_none() {
            return None;
        }
        let info = info(req, remote_addr);
        let mut headers = HeaderMap::new();
        for hook in initial.into_iter().chain(config.headers.as_ref()) {
            hook(&mut headers, &info, id);
        }
        Some(headers)
    }
}

/// Why a request for an existing session is refused, if it is.
fn session_mismatch<B>(
    config: &EngineConfig,
    socket: &Socket,
    transport: TransportKind,
    protocol: Protocol,
    req: &Request<B>,
) -> Option<ErrorContext> {
    let previous = socket.transport();
    if transport == TransportKind::Polling && previous != TransportKind::Polling {
        return Some(ErrorContext::TransportMismatch {
            transport,
            previous,
        });
    }
    // Every request of a session names its handshake's revision.
    if protocol != socket.protocol() {
        return Some(ErrorContext::ProtocolMismatch {
            protocol,
            previous: socket.protocol(),
        });
    }
    match transport {
        TransportKind::Polling if !matches!(*req.method(), Method::GET | Method::POST) => {
            Some(ErrorContext::BadMethod {
                method: req.method().clone(),
            })
        }
        #[cfg(feature = "ws")]
        TransportKind::WebSocket
            if !config.allow_upgrades || !roomcast_transport_ws::handshake::is_upgrade(req) =>
        {
            Some(ErrorContext::TransportHandshakeError)
        }
        _ => {
            let _ = config;
            None
        }
    }
}

fn info<B>(req: &Request<B>, remote_addr: Option<SocketAddr>) -> RequestInfo<'_> {
    RequestInfo {
        method: req.method(),
        uri: req.uri(),
        headers: req.headers(),
        remote_addr,
    }
}

/// A session's answer with the hooks' headers, when it is not an error.
fn with_headers(mut res: Response<Body>, extra: Option<HeaderMap>) -> Response<Body> {
    let ok = res.status().is_success() || res.status() == StatusCode::SWITCHING_PROTOCOLS;
    if let Some(extra) = extra.filter(|_| ok) {
        extend_headers(res.headers_mut(), extra);
    }
    res
}

/// A copy of the URI that does not share hyper's read buffer: for the
/// usual origin form (`/path?query`), its path and query copied once.
fn detached_uri(uri: &http::Uri) -> http::Uri {
    match (uri.scheme(), uri.path_and_query()) {
        (None, Some(pq)) => {
            let copy = Bytes::copy_from_slice(pq.as_str().as_bytes());
            match http::uri::PathAndQuery::from_maybe_shared(copy) {
                Ok(pq) => pq.into(),
                Err(_) => uri.clone(),
            }
        }
        _ => uri.to_string().parse().unwrap_or_else(|_| uri.clone()),
    }
}

/// Adds the hooks' headers; a name they set replaces the engine's values
/// of that name (as a Node listener overwrites the headers object).
fn extend_headers(target: &mut HeaderMap, extra: HeaderMap) {
    for name in extra.keys() {
        target.remove(name);
    }
    for (name, value) in extra.iter() {
        target.append(name.clone(), value.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Quiet;
    impl Handler for Quiet {
        type Session = ();
        fn on_open(&self, _: &Arc<Socket>) {}
        fn on_message(
            &self,
            _: &Arc<Socket>,
            _: &(),
            _: roomcast_core::Frame,
        ) -> Result<(), CloseReason> {
            Ok(())
        }
        fn on_close(&self, _: &Arc<Socket>, _: &(), _: CloseReason) {}
    }

    /// `handle` and `handle_from` add no state of their own to the answer's
    /// future: a held polling `GET` keeps that future for as long as it
    /// waits. (As `async fn`s, their arguments made it 1 KB larger.)
    #[test]
    fn a_request_future_is_the_dispatch_future() {
        let engine = Engine::new(EngineConfig::default(), Quiet);
        let req = || Request::new(http_body_util::Empty::<Bytes>::new());
        let dispatch = std::mem::size_of_val(&engine.dispatch(req(), None, None));
        let handle = std::mem::size_of_val(&engine.handle(req()));
        assert!(
            handle <= dispatch + 128,
            "{handle} bytes for a {dispatch}-byte dispatch"
        );
    }

    #[test]
    fn a_detached_uri_is_the_same_uri() {
        for uri in [
            "/socket.io/?EIO=4&transport=websocket&t=a%2Fb",
            "/engine.io/",
            "http://example.com:3000/socket.io/?EIO=4",
        ] {
            let uri: http::Uri = uri.parse().unwrap();
            let copy = detached_uri(&uri);
            assert_eq!(copy, uri);
            assert_eq!(copy.query(), uri.query());
        }
    }
}
