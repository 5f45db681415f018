//! Sessions over WebSocket, and the upgrade from long-polling.
//!
//! - A handshake over WebSocket opens a session whose first frame is the
//!   open packet (with no upgrades).
//! - An upgrade (`transport=websocket&sid=…`) connects a second transport to
//!   a polling session: the client probes (`2probe` → `3probe`); held GETs
//!   are then answered at once so the client pauses polling; on `5` the
//!   session moves to the WebSocket, which drains the same outbox. Only one
//!   WebSocket may attach to a session: another one (while the first
//!   probes, or after the upgrade, or for a session opened on WebSocket)
//!   completes its handshake and is closed at once, as from the reference
//!   server, and the session goes on. A probe that does not finish within
//!   `upgrade_timeout` is dropped and the session goes on polling. The
//!   session's phase changes through its transitions
//!   ([`Socket`](crate::Socket)`::begin_upgrade`, `probe_answered`,
//!   `finish_upgrade`, `abandon_upgrade`).
//! - Where the connection goes after its `101` is a [`Takeover`]: a task
//!   spawned on hyper's upgrade runs it, or, for a request the standalone
//!   server read itself (`accept.rs`, which passes a slot for it), that
//!   server's task, which writes the `101` in the same write as the first
//!   frames.
//! - Once its session has closed, a WebSocket has `ping_timeout` to flush
//!   what was queued before the close; then it is dropped, so a client that
//!   stopped reading holds no task, socket or buffer.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::future::Either;
use http::{Request, Response};
use roomcast_core::{ClientId, Frame};
use roomcast_transport_ws::handshake::HandshakeError;
use roomcast_transport_ws::{
    handshake as ws_handshake, Negotiated, PerMessageDeflate, WsConfig, WsConnection,
};
use tracing::Instrument;

use crate::config::TransportKind;
use crate::events::ErrorContext;
use crate::handshake::Handshake;
use crate::packet::{self, PROBE};
use crate::protocol::Protocol;
use crate::registry::Registry;
use crate::response::Body;
use crate::socket::Socket;

fn ws_config(registry: &Registry, protocol: Protocol) -> WsConfig {
    let c = &registry.config;
    WsConfig {
        max_message_size: c.max_payload,
        close_grace: c.ping_timeout,
        binary_prefix: protocol.binary_prefix(),
    }
}

/// What a connection becomes once its `101` is written: the work of the
/// task that owns the upgraded stream.
#[derive(Clone)]
pub(crate) enum Takeover {
    /// A session opened over WebSocket.
    Open {
        registry: Arc<Registry>,
        id: ClientId,
        handshake: Arc<Handshake>,
        agreed: Option<Negotiated>,
    },
    /// The probe and upgrade of a polling session.
    Upgrade {
        registry: Arc<Registry>,
        socket: Arc<Socket>,
        agreed: Option<Negotiated>,
    },
    /// A second WebSocket for a session: closed at once.
    Refuse,
}

/// The future of a rare takeover (an upgrade's probe, a refusal), boxed so
/// that the common one (a session opened on WebSocket) sizes the task.
type BoxedRun = Pin<Box<dyn Future<Output = ()> + Send>>;

impl Takeover {
    /// Runs the connection on `io`, writing `preface` (the `101`, when the
    /// server did not) before anything else.
    ///
    /// A plain `fn` returning the session's future, not an `async fn`: the
    /// future lives as long as the connection, and an `async fn` would keep
    /// its arguments (the takeover, the stream, the preface) beside the
    /// session's state for all that time.
    pub(crate) fn run<S>(self, io: S, preface: Vec<u8>) -> impl Future<Output = ()> + Send
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        match self {
            Takeover::Open {
                registry,
                id,
                handshake,
                agreed,
            } => {
                // At info level, so that what the transport logs names the session.
                let span =
                    tracing::info_span!("engine_session", sid = %id, transport = "websocket");
                Either::Left(open(registry, id, handshake, agreed, io, preface, span))
            }
            Takeover::Upgrade {
                registry,
                socket,
                agreed,
            } => {
                let span = tracing::info_span!("engine_upgrade", sid = %socket.id());
                let conn = WsConnection::new(io, ws_config(&registry, socket.protocol()))
                    .with_deflate(agreed)
                    .with_preface(preface);
                // Boxed (the probe makes it the largest): a task is as large
                // as its largest state, and most connections open here.
                let upgrade: BoxedRun =
                    Box::pin(upgrade_on(registry, socket, conn).instrument(span));
                Either::Right(upgrade)
            }
            Takeover::Refuse => {
                let config = WsConfig {
                    max_message_size: 0,
                    close_grace: std::time::Duration::from_secs(1),
                    ..WsConfig::default()
                };
                let closing = WsConnection::new(io, config)
                    .with_preface(preface)
                    .close(None);
                let refuse: BoxedRun = Box::pin(async move {
                    let _ = tokio::time::timeout(config.close_grace, closing).await;
                });
                Either::Right(refuse)
            }
        }
    }

    /// The connection never came (hyper's upgrade failed, or the answer was
    /// not a `101` after all).
    pub(crate) fn abandon(self) {
        if let Takeover::Upgrade { socket, .. } = self {
            tracing::debug!("upgrade abandoned; the session goes on polling");
            socket.abandon_upgrade();
        }
    }
}

/// A session over WebSocket: the open packet is the first frame, in the
/// same write as the preface. The session is opened here, inside `span`;
/// the future returned serves it.
///
/// A plain `fn`, not an `async fn`: the future lives as long as the
/// connection, and an `async fn` keeps its arguments (the stream, the
/// preface, the handshake, the agreed deflate parameters: 120 bytes) for
/// all that time, which made each connection's task a 128-byte step
/// larger.
fn open<S>(
    registry: Arc<Registry>,
    id: ClientId,
    handshake: Arc<Handshake>,
    agreed: Option<Negotiated>,
    io: S,
    preface: Vec<u8>,
    span: tracing::Span,
) -> impl Future<Output = ()> + Send
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send,
{
    let entered = span.enter();
    let mut conn = WsConnection::new(io, ws_config(&registry, handshake.protocol))
        .with_deflate(agreed)
        .with_preface(preface);
    let socket = registry.open(id, handshake);
    let open = packet::open_packet(&registry.config, id, TransportKind::WebSocket);
    conn.queue(&Frame::Text(open));
    registry.start(&socket);
    drop(entered);
    async move {
        // Awaited here, not through a helper: each async layer would keep
        // its own copy of the connection in the task.
        let _active = registry.sessions.transport();
        let reason = conn.serve(&*socket).await;
        socket.shutdown(reason);
    }
    .instrument(span)
}

/// The probe, then the session on this WebSocket; or back to polling.
async fn upgrade_on<S>(registry: Arc<Registry>, socket: Arc<Socket>, mut conn: WsConnection<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send,
{
    let timeout = registry.config.upgrade_timeout;
    let probed = tokio::select! {
        r = tokio::time::timeout(timeout, probe(&mut conn, &socket)) => r.ok().flatten(),
        _ = socket.closed() => None,
    };
    if probed.is_some() && socket.finish_upgrade() {
        tracing::debug!("session upgraded to websocket");
        let _active = registry.sessions.transport();
        let reason = conn.serve(&*socket).await;
        socket.shutdown(reason);
    } else {
        tracing::debug!("upgrade abandoned; the session goes on polling");
        socket.abandon_upgrade();
    }
}

/// The `101` for `req`, and where the connection goes after it: into
/// `direct` for the engine's own server (`accept.rs`) to run; else a task
/// takes it over once hyper has upgraded the connection.
fn answer<B>(
    req: &mut Request<B>,
    deflate: Option<&PerMessageDeflate>,
    direct: Option<&mut Option<Takeover>>,
    takeover: impl FnOnce(Option<Negotiated>) -> Takeover,
) -> Result<Response<Body>, HandshakeError> {
    if let Some(slot) = direct {
        let (response, agreed) = ws_handshake::answer(req, deflate)?;
        *slot = Some(takeover(agreed));
        return Ok(response.map(|()| Body::default()));
    }
    let (response, upgrade, agreed) = ws_handshake::accept_with(req, deflate)?;
    let takeover = takeover(agreed);
    tokio::spawn(async move {
        match upgrade.await {
            Ok(io) => takeover.run(io, Vec::new()).await,
            Err(e) => {
                tracing::debug!(error = %e, "websocket upgrade failed");
                takeover.abandon();
            }
        }
    });
    Ok(response.map(|()| Body::default()))
}

/// A handshake over WebSocket: the session opens once the connection is
/// upgraded.
pub(crate) fn handshake<B>(
    registry: &Arc<Registry>,
    id: ClientId,
    handshake: Handshake,
    req: &mut Request<B>,
    direct: Option<&mut Option<Takeover>>,
) -> Result<Response<Body>, ErrorContext> {
    let deflate = registry.config.per_message_deflate;
    answer(req, deflate.as_ref(), direct, |agreed| Takeover::Open {
        registry: registry.clone(),
        id,
        // Behind a pointer: what the task holds stays allocated as long as
        // the connection lives.
        handshake: Arc::new(handshake),
        agreed,
    })
    .map_err(|e| {
        tracing::debug!(error = %e, "bad websocket handshake");
        ErrorContext::TransportHandshakeError
    })
}

/// An upgrade request for a polling session (a valid WebSocket handshake,
/// with upgrades allowed: the engine checked).
pub(crate) fn upgrade<B>(
    registry: &Arc<Registry>,
    socket: Arc<Socket>,
    req: &mut Request<B>,
    direct: Option<&mut Option<Takeover>>,
) -> Result<Response<Body>, ErrorContext> {
    if !socket.begin_upgrade() {
        return refuse_after_handshake(&socket, req, direct);
    }
    let deflate = registry.config.per_message_deflate;
    let upgrading = socket.clone();
    answer(req, deflate.as_ref(), direct, |agreed| Takeover::Upgrade {
        registry: registry.clone(),
        socket,
        agreed,
    })
    .map_err(|e| {
        tracing::debug!(error = %e, "bad websocket handshake");
        upgrading.abandon_upgrade();
        ErrorContext::TransportHandshakeError
    })
}

/// A WebSocket for a session that is on WebSocket already or upgrading:
/// as from the reference server, the handshake completes and the new
/// connection is closed at once (close frame, no code); the session and
/// its WebSocket go on.
fn refuse_after_handshake<B>(
    socket: &Socket,
    req: &mut Request<B>,
    direct: Option<&mut Option<Takeover>>,
) -> Result<Response<Body>, ErrorContext> {
    tracing::debug!(sid = %socket.id(), phase = ?socket.phase(), "second websocket for a session; closing it");
    answer(req, None, direct, |_| Takeover::Refuse).map_err(|e| {
        tracing::debug!(error = %e, "bad websocket handshake");
        ErrorContext::TransportHandshakeError
    })
}

/// `2probe` → `3probe`, then pause polling, then wait for `5`.
async fn probe<S>(conn: &mut WsConnection<S>, socket: &Socket) -> Option<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send,
{
    match conn.recv().await.ok()?? {
        Frame::Text(t) if t.as_str() == PROBE => {}
        _ => return None,
    }
    conn.send(Frame::Text(packet::PROBE_ANSWER)).await.ok()?;
    if !socket.probe_answered() {
        return None;
    }
    match conn.recv().await.ok()?? {
        Frame::Text(t) if t.as_str() == "5" => Some(()),
        _ => None,
    }
}
