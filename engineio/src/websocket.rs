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
//! - Once its session has closed, a WebSocket has `ping_timeout` to flush
//!   what was queued before the close; then it is dropped, so a client that
//!   stopped reading holds no task, socket or buffer.

use std::sync::Arc;

use http::{Request, Response};
use roomcast_core::{ClientId, Frame};
use roomcast_transport_ws::{handshake as ws_handshake, WsConfig, WsConnection};
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

/// A handshake over WebSocket: the session opens once the connection is
/// upgraded.
pub(crate) fn handshake<B>(
    registry: &Arc<Registry>,
    id: ClientId,
    handshake: Handshake,
    req: &mut Request<B>,
) -> Result<Response<Body>, ErrorContext> {
    let deflate = registry.config.per_message_deflate;
    let (response, upgrade, agreed) = match ws_handshake::accept_with(req, deflate.as_ref()) {
        Ok(x) => x,
        Err(e) => {
            tracing::debug!(error = %e, "bad websocket handshake");
            return Err(ErrorContext::TransportHandshakeError);
        }
    };
    let registry = registry.clone();
    // Behind a pointer: what the task captures stays allocated as long as
    // the connection lives.
    let handshake = Arc::new(handshake);
    // At info level, so that what the transport logs names the session.
    let span = tracing::info_span!("engine_session", sid = %id, transport = "websocket");
    tokio::spawn(
        async move {
            let io = match upgrade.await {
                Ok(io) => io,
                Err(e) => {
                    tracing::debug!(error = %e, "websocket upgrade failed");
                    return;
                }
            };
            let conn = WsConnection::new(io, ws_config(&registry, handshake.protocol))
                .with_deflate(agreed);
            let socket = registry.open(id, handshake);
            let open = packet::open_packet(&registry.config, id, TransportKind::WebSocket);
            let _ = socket.outbox().push_control(Frame::Text(open));
            registry.start(&socket);
            // Awaited here, not through a helper: each async layer would
            // keep its own copy of the connection in the task.
            let _active = registry.sessions.transport();
            let reason = conn.serve(&*socket).await;
            socket.shutdown(reason);
        }
        .instrument(span),
    );
    Ok(response.map(|()| Body::default()))
}

/// An upgrade request for a polling session (a valid WebSocket handshake,
/// with upgrades allowed: the engine checked).
pub(crate) fn upgrade<B>(
    registry: &Arc<Registry>,
    socket: Arc<Socket>,
    req: &mut Request<B>,
) -> Result<Response<Body>, ErrorContext> {
    if !socket.begin_upgrade() {
        return refuse_after_handshake(&socket, req);
    }
    let deflate = registry.config.per_message_deflate;
    let (response, upgrade, agreed) = match ws_handshake::accept_with(req, deflate.as_ref()) {
        Ok(x) => x,
        Err(e) => {
            tracing::debug!(error = %e, "bad websocket handshake");
            socket.abandon_upgrade();
            return Err(ErrorContext::TransportHandshakeError);
        }
    };
    let config = ws_config(registry, socket.protocol());
    let timeout = registry.config.upgrade_timeout;
    let registry = registry.clone();
    let span = tracing::info_span!("engine_upgrade", sid = %socket.id());
    tokio::spawn(
        async move {
            let probed = match upgrade.await {
                Ok(io) => {
                    let mut conn = WsConnection::new(io, config).with_deflate(agreed);
                    let result = tokio::select! {
                        r = tokio::time::timeout(timeout, probe(&mut conn, &socket)) => r.ok().flatten(),
                        _ = socket.closed() => None,
                    };
                    result.map(|()| conn)
                }
                Err(e) => {
                    tracing::debug!(error = %e, "websocket upgrade failed");
                    None
                }
            };
            match probed {
                Some(conn) if socket.finish_upgrade() => {
                    tracing::debug!("session upgraded to websocket");
                    let _active = registry.sessions.transport();
                    let reason = conn.serve(&*socket).await;
                    socket.shutdown(reason);
                }
                _ => {
                    tracing::debug!("upgrade abandoned; the session goes on polling");
                    socket.abandon_upgrade();
                }
            }
        }
        .instrument(span),
    );
    Ok(response.map(|()| Body::default()))
}

/// A WebSocket for a session that is on WebSocket already or upgrading:
/// as from the reference server, the handshake completes and the new
/// connection is closed at once (close frame, no code); the session and
/// its WebSocket go on.
fn refuse_after_handshake<B>(
    socket: &Socket,
    req: &mut Request<B>,
) -> Result<Response<Body>, ErrorContext> {
    let (response, upgrade) = match ws_handshake::accept(req) {
        Ok(x) => x,
        Err(e) => {
            tracing::debug!(error = %e, "bad websocket handshake");
            return Err(ErrorContext::TransportHandshakeError);
        }
    };
    tracing::debug!(sid = %socket.id(), phase = ?socket.phase(), "second websocket for a session; closing it");
    tokio::spawn(async move {
        if let Ok(io) = upgrade.await {
            let config = WsConfig {
                max_message_size: 0,
                close_grace: std::time::Duration::from_secs(1),
                ..WsConfig::default()
            };
            let closing = WsConnection::new(io, config).close(None);
            let _ = tokio::time::timeout(config.close_grace, closing).await;
        }
    });
    Ok(response.map(|()| Body::default()))
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
