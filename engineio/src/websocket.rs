//! Sessions over WebSocket, and the upgrade from long-polling.
//!
//! - A handshake over WebSocket opens a session whose first frame is the
//!   open packet (with no upgrades).
//! - An upgrade (`transport=websocket&sid=…`) connects a second transport to
//!   a polling session: the client probes (`2probe` → `3probe`); held GETs
//!   are then answered at once so the client pauses polling; on `5` the
//!   session moves to the WebSocket, which drains the same outbox. Only one
//!   WebSocket may attach to a session; a probe that does not finish within
//!   `upgrade_timeout` is dropped and the session goes on polling.
//! - Once its session has closed, a WebSocket has `ping_timeout` to flush
//!   what was queued before the close; then it is dropped, so a client that
//!   stopped reading holds no task, socket or buffer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use http::{Request, Response};
use roomcast_core::{ClientId, Frame};
use roomcast_transport_ws::{handshake as ws_handshake, WsConfig, WsConnection};
use tracing::Instrument;

use crate::engine::{error, Body, ErrorCode};
use crate::packet::{self, PROBE};
use crate::socket::{Handshake, Socket, Upgrade};
use crate::{Engine, TransportKind};

fn ws_config(engine: &Engine) -> WsConfig {
    let c = engine.config();
    WsConfig {
        max_message_size: c.max_payload,
        close_grace: c.ping_timeout,
    }
}

pub(crate) fn handshake<B>(
    engine: &Engine,
    id: ClientId,
    handshake: Handshake,
    mut req: Request<B>,
) -> Response<Body> {
    let (response, upgrade) = match ws_handshake::accept(&mut req) {
        Ok(x) => x,
        Err(e) => {
            tracing::debug!(error = %e, "bad websocket handshake");
            return error(ErrorCode::BadRequest);
        }
    };
    let engine = engine.clone();
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
            let conn = WsConnection::new(io, ws_config(&engine));
            let socket = engine.open(id, handshake);
            let open = engine.open_packet(id, TransportKind::WebSocket);
            let _ = socket.outbox().push_control(Frame::Text(open));
            engine.handler().on_open(&socket);
            // Awaited here, not through a helper: each async layer would
            // keep its own copy of the connection in the task.
            let _live = Live::new(&engine);
            let reason = conn.serve(&*socket).await;
            socket.shutdown(reason);
        }
        .instrument(span),
    );
    response.map(|()| Body::default())
}

pub(crate) fn upgrade<B>(
    engine: &Engine,
    socket: Arc<Socket>,
    mut req: Request<B>,
) -> Response<Body> {
    if !engine.config().allow_upgrades || !ws_handshake::is_upgrade(&req) {
        return error(ErrorCode::BadRequest);
    }
    {
        let mut state = socket.state.lock();
        if state.transport != TransportKind::Polling || state.upgrade != Upgrade::None {
            return error(ErrorCode::BadRequest);
        }
        state.upgrade = Upgrade::Connecting;
    }
    let (response, upgrade) = match ws_handshake::accept(&mut req) {
        Ok(x) => x,
        Err(e) => {
            tracing::debug!(error = %e, "bad websocket handshake");
            socket.state.lock().upgrade = Upgrade::None;
            return error(ErrorCode::BadRequest);
        }
    };
    let config = ws_config(engine);
    let timeout = engine.config().upgrade_timeout;
    let engine = engine.clone();
    let span = tracing::info_span!("engine_upgrade", sid = %socket.id());
    tokio::spawn(
        async move {
            let probed = match upgrade.await {
                Ok(io) => {
                    let mut conn = WsConnection::new(io, config);
                    let result = tokio::select! {
                        r = tokio::time::timeout(timeout, probe(&mut conn, &socket)) => r.ok().flatten(),
                        _ = socket.closed() => None,
                    };
                    result.map(|()| conn).ok_or(())
                }
                Err(e) => {
                    tracing::debug!(error = %e, "websocket upgrade failed");
                    Err(())
                }
            };
            match probed {
                Ok(conn) => {
                    {
                        let mut state = socket.state.lock();
                        state.transport = TransportKind::WebSocket;
                        state.upgrade = Upgrade::Done;
                    }
                    tracing::debug!("session upgraded to websocket");
                    socket.poll_interrupt.notify_waiters();
                    let _live = Live::new(&engine);
                    let reason = conn.serve(&*socket).await;
                    socket.shutdown(reason);
                }
                Err(()) => {
                    tracing::debug!("upgrade abandoned; the session goes on polling");
                    socket.state.lock().upgrade = Upgrade::None;
                    socket.poll_interrupt.notify_waiters();
                }
            }
        }
        .instrument(span),
    );
    response.map(|()| Body::default())
}

/// Counts a WebSocket in `live_transports` while it lives: [`Engine::shutdown`]
/// waits for the last frames of every connection (each has `ping_timeout`,
/// `WsConfig::close_grace`, to take them; a peer that does not read them in
/// time is dropped, so a stalled client holds no task, socket or buffer past
/// its session).
struct Live<'a>(&'a AtomicUsize);

impl<'a> Live<'a> {
    fn new(engine: &'a Engine) -> Self {
        engine.shared.live_transports.fetch_add(1, Ordering::AcqRel);
        Live(&engine.shared.live_transports)
    }
}

impl Drop for Live<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
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
    socket.state.lock().upgrade = Upgrade::Probing;
    socket.poll_interrupt.notify_waiters();
    match conn.recv().await.ok()?? {
        Frame::Text(t) if t.as_str() == "5" => Some(()),
        _ => None,
    }
}
