//! The engine as a tower service ([`Engine::service`]) and layer
//! ([`Engine::layer`]), and the standalone server ([`Engine::serve`]).
//!
//! The standalone server closes a connection whose request head has not
//! fully arrived [`HEAD_TIMEOUT`] after the server began waiting for it:
//! a new connection that sends nothing, a head trickled in byte by byte,
//! and an idle keep-alive connection between two requests. A request
//! whose head has arrived (a long-polling `GET` waiting for packets, a
//! WebSocket) is not limited by it.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Either;
use hyper::body::{Body as HttpBody, Incoming};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tower_service::Service;

use crate::config::RemoteAddr;
use crate::engine::Engine;
use crate::response::{respond, Body};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// How long the standalone server waits for a request head (hyper's
/// default; Node's `server.headersTimeout` is 60 s and its
/// `keepAliveTimeout` 5 s).
pub(crate) const HEAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

impl Engine {
    /// The answer for a request of one of the configured static files.
    fn static_file<B>(&self, req: &Request<B>) -> Option<Response<Body>> {
        let config = self.config();
        let files = config.static_files.as_ref()?;
        files.answer(&config.path, req.method(), req.uri().path(), req.headers())
    }

    /// This engine as a tower / hyper service answering every request it
    /// gets (mount it at its path, e.g. axum's `route_service`).
    pub fn service(&self) -> EngineService {
        EngineService {
            engine: self.clone(),
        }
    }

    /// A tower layer: requests under the engine's path go to the engine,
    /// every other request falls through to the wrapped service.
    pub fn layer(&self) -> EngineLayer {
        EngineLayer {
            engine: self.clone(),
        }
    }

    /// Serves HTTP/1.1 on `listener` until [`Engine::shutdown`] (or the
    /// listener fails): the engine at its path, 404 elsewhere. A
    /// connection is closed when a request head it owes has not arrived
    /// within 30 s (a new connection, or a keep-alive one between
    /// requests).
    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        let registry = self.registry.clone();
        let stop = async move { registry.wait_stopped().await };
        let engine = self.clone();
        serve(listener, stop, engine, move |req| {
            let engine = self.clone();
            async move {
                if engine.config().matches_path(req.uri().path()) {
                    engine.handle(req).await
                } else if let Some(res) = engine.static_file(&req) {
                    res
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

/// The engine as a service answering every request it is given.
///
/// ```no_run
/// # fn f(engine: roomcast_engineio::Engine) {
/// let app: axum::Router = axum::Router::new()
///     .route_service("/engine.io/", engine.service())
///     .route_service("/engine.io", engine.service());
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct EngineService {
    engine: Engine,
}

impl<B> Service<Request<B>> for EngineService
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Display,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if let Some(res) = self.engine.static_file(&req) {
            return Box::pin(async move { Ok(res) });
        }
        let engine = self.engine.clone();
        Box::pin(async move { Ok(engine.handle(req).await) })
    }
}

/// A layer sending requests under the engine's path to the engine and every
/// other request to the wrapped service.
#[derive(Clone, Debug)]
pub struct EngineLayer {
    engine: Engine,
}

impl<S> tower_layer::Layer<S> for EngineLayer {
    type Service = Mounted<S>;
    fn layer(&self, inner: S) -> Mounted<S> {
        Mounted {
            engine: self.engine.clone(),
            inner,
        }
    }
}

impl EngineLayer {
    /// Wraps a host service.
    pub fn wrap<S>(&self, inner: S) -> Mounted<S> {
        Mounted {
            engine: self.engine.clone(),
            inner,
        }
    }
}

/// A host service with the engine mounted at its path.
#[derive(Clone, Debug)]
pub struct Mounted<S> {
    engine: Engine,
    inner: S,
}

impl<S, B, ResBody> Service<Request<B>> for Mounted<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Display,
{
    type Response = Response<Either<Body, ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if self.engine.config().matches_path(req.uri().path()) {
            let engine = self.engine.clone();
            Box::pin(async move { Ok(engine.handle(req).await.map(Either::Left)) })
        } else if let Some(res) = self.engine.static_file(&req) {
            Box::pin(async move { Ok(res.map(Either::Left)) })
        } else {
            let fut = self.inner.call(req);
            Box::pin(async move { fut.await.map(|r| r.map(Either::Right)) })
        }
    }
}

/// Accepts HTTP/1.1 connections (with upgrades) and answers each request
/// with `handle`, after inserting the peer's [`RemoteAddr`]; a connection
/// opening with a WebSocket handshake for `engine` is served by the
/// engine directly (`accept.rs`).
async fn serve<F, Fut>(
    listener: TcpListener,
    stop: impl Future<Output = ()>,
    engine: Engine,
    handle: F,
) -> std::io::Result<()>
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut stop => return Ok(()),
        };
        let (stream, addr) = match accepted {
            Ok(x) => x,
            Err(e) if is_transient(&e) => {
                tracing::warn!(error = %e, "accept failed; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        let _ = stream.set_nodelay(true);
        let handle = handle.clone();
        #[cfg(feature = "ws")]
        tokio::spawn(crate::accept::serve_connection(
            engine.clone(),
            stream,
            addr,
            move |io| serve_connection(io, addr, handle),
        ));
        #[cfg(not(feature = "ws"))]
        {
            let _ = &engine;
            tokio::spawn(serve_connection(stream, addr, handle));
        }
    }
}

fn is_transient(e: &std::io::Error) -> bool {
    !matches!(
        e.kind(),
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::Unsupported
    )
}

async fn serve_connection<S, F, Fut>(stream: S, addr: SocketAddr, handle: F)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(RemoteAddr(addr));
        let fut = handle(req);
        async move { Ok::<_, Infallible>(fut.await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    if let Err(e) = conn.await {
        tracing::debug!(peer = %addr, error = %e, "http connection ended with an error");
    }
}
