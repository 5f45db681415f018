//! Sessions over HTTP long-polling.
//!
//! - The handshake GET is answered with the open packet.
//! - A GET is held until frames are queued, then answered with all of them
//!   in one payload. While an upgrade probe runs, a GET is answered at once
//!   (with what is queued, or a noop) so the client can pause polling; after
//!   the upgrade it gets a noop. A second GET while one is held closes the
//!   session (as the reference server does) and gets 400.
//! - When the client closes the session (a POSTed close packet `1`), a held
//!   GET is answered with what was queued, or else a noop `6`; when the
//!   server closes it, with the close packet `1`. Either way the next GET
//!   gets 400 (after the server's close, once the close packet went out).
//! - A GET or POST that the client abandons (the HTTP connection closes
//!   before the answer) closes the session with a transport error, as the
//!   reference server does.
//! - A POST carries one payload; its packets are delivered in order and it
//!   is answered `ok`. An overlapping POST closes the session; a body over
//!   `max_payload` gets 413; an undecodable payload closes the session with
//!   a parse error and gets 400. A body sent as `application/octet-stream`
//!   (Engine.IO v3 binary payloads; v4 payloads are text) closes a v4
//!   session and gets 400, as from the reference server.
//! - An Engine.IO v3 session ([`Protocol::V3`]) reads and writes the v3
//!   payload format (`payload_v3`): answers are in its binary form when
//!   they hold a binary packet and the handshake did not ask for base64.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use hyper::body::Body as HttpBody;
use roomcast_core::{ClientId, CloseReason, Endpoint, Frame};
use roomcast_transport_polling::{body, payload, payload_v3, wait_for_frames, PollOutcome};

use crate::config::TransportKind;
use crate::handshake::Handshake;
use crate::packet;
use crate::phase::{Phase, PollRequest};
use crate::protocol::Protocol;
use crate::registry::Registry;
use crate::response::{error, respond, Body, ErrorCode};
use crate::socket::Socket;

const PAYLOAD_TYPE: &str = "text/plain; charset=UTF-8";
const BINARY_PAYLOAD_TYPE: &str = "application/octet-stream";

/// A handshake over polling: opens the session and answers the open packet.
pub(crate) fn handshake(registry: &Registry, id: ClientId, handshake: Handshake) -> Response<Body> {
    let socket = registry.open(id, Arc::new(handshake));
    let open = packet::open_packet(&registry.config, id, TransportKind::Polling);
    registry.start(&socket);
    payload_response(&socket, &[Frame::Text(open)])
}

/// A GET or POST for a polling session.
pub(crate) async fn request<B>(
    registry: &Registry,
    socket: Arc<Socket>,
    req: Request<B>,
) -> Response<Body>
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Display,
{
    if socket.transport() != TransportKind::Polling {
        return error(ErrorCode::BadRequest);
    }
    let mut aborted = Aborted {
        socket: &socket,
        armed: true,
    };
    let res = match *req.method() {
        Method::GET => {
            let (res, close_sent) = get(&socket).await;
            socket.polled(close_sent);
            res
        }
        Method::POST if is_binary_payload(req.headers()) && socket.protocol() == Protocol::V4 => {
            tracing::info!(sid = %socket.id(), "closing session: binary polling payload");
            socket.shutdown(CloseReason::TransportError);
            error(ErrorCode::BadRequest)
        }
        Method::POST => {
            let binary = is_binary_payload(req.headers());
            post(
                &socket,
                req.into_body(),
                binary,
                registry.config.max_payload,
            )
            .await
        }
        _ => error(ErrorCode::BadRequest),
    };
    aborted.armed = false;
    res
}

/// Whether a POST says its body is binary (a v3 payload; v4 payloads are
/// text, binary packets in base64).
fn is_binary_payload(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/octet-stream")
}

/// Closes the session when a request is dropped before it was answered:
/// the client went away mid-poll ("poll connection closed prematurely").
struct Aborted<'a> {
    socket: &'a Socket,
    armed: bool,
}

impl Drop for Aborted<'_> {
    fn drop(&mut self) {
        if self.armed && !self.socket.is_closed() {
            tracing::debug!(sid = %self.socket.id(), "polling request aborted by the client");
            self.socket.shutdown(CloseReason::TransportError);
        }
    }
}

/// One answer of frames, in the session's payload format.
fn payload_response(socket: &Socket, frames: &[Frame]) -> Response<Body> {
    match socket.protocol() {
        Protocol::V4 => respond(StatusCode::OK, PAYLOAD_TYPE, payload::encode(frames)),
        Protocol::V3 => {
            let encoded = payload_v3::encode(frames, !socket.handshake().base64);
            let kind = if encoded.binary {
                BINARY_PAYLOAD_TYPE
            } else {
                PAYLOAD_TYPE
            };
            respond(StatusCode::OK, kind, encoded.body)
        }
    }
}

/// Answers a GET; also tells whether the answer carries the close packet.
async fn get(socket: &Socket) -> (Response<Body>, bool) {
    let Some(_claim) = socket.claim_poll(PollRequest::Get) else {
        tracing::info!(sid = %socket.id(), "closing session: overlapping polling GET");
        socket.shutdown(CloseReason::TransportError);
        return (error(ErrorCode::BadRequest), false);
    };
    loop {
        let interrupt = socket.phase_changed();
        tokio::pin!(interrupt);
        interrupt.as_mut().enable();
        match socket.phase() {
            Phase::WebSocket => {
                return (
                    payload_response(socket, &[Frame::Text(packet::NOOP)]),
                    false,
                );
            }
            Phase::Probed => {
                let mut frames = Vec::new();
                socket.outbox().drain(&mut frames);
                if frames.is_empty() {
                    frames.push(Frame::Text(packet::NOOP));
                }
                return (payload_response(socket, &frames), false);
            }
            Phase::Polling | Phase::Upgrading | Phase::Closed(_) => {}
        }
        match wait_for_frames(socket.outbox(), interrupt).await {
            PollOutcome::Frames(mut frames, closed) => {
                match closed {
                    // The client closed the session with a close packet:
                    // a held GET ends with a noop, as from the reference
                    // server (the client knows; a close would be an echo).
                    Some(CloseReason::TransportClose) if frames.is_empty() => {
                        frames.push(Frame::Text(packet::NOOP));
                    }
                    Some(_) if frames.is_empty() => frames.push(Frame::Text(packet::CLOSE)),
                    _ => {}
                }
                if frames.is_empty() {
                    continue;
                }
                // As the reference server does, the close packet goes alone
                // in the last answer: a client handles a close before the
                // messages of the same payload, and would lose them. The
                // outbox is closed, so the next GET gets the close.
                let last_is_close =
                    matches!(frames.last(), Some(Frame::Text(t)) if *t == packet::CLOSE);
                if last_is_close && frames.len() > 1 {
                    frames.pop();
                    return (payload_response(socket, &frames), false);
                }
                return (
                    payload_response(socket, &frames),
                    last_is_close || closed.is_some(),
                );
            }
            PollOutcome::Interrupted => continue,
        }
    }
}

async fn post<B>(socket: &Socket, body: B, binary: bool, max_payload: usize) -> Response<Body>
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Display,
{
    let Some(_claim) = socket.claim_poll(PollRequest::Post) else {
        tracing::info!(sid = %socket.id(), "closing session: overlapping polling POST");
        socket.shutdown(CloseReason::TransportError);
        return error(ErrorCode::BadRequest);
    };
    let data = match body::read_limited(Box::pin(body), max_payload).await {
        Ok(data) => data,
        Err(body::BodyError::TooLarge(_)) => {
            return respond(StatusCode::PAYLOAD_TOO_LARGE, "text/plain", Bytes::new());
        }
        Err(body::BodyError::Read(e)) => {
            tracing::debug!(sid = %socket.id(), error = %e, "polling body read failed");
            socket.shutdown(CloseReason::TransportError);
            return error(ErrorCode::BadRequest);
        }
    };
    let decoded = match socket.protocol() {
        Protocol::V4 => payload::decode(data),
        Protocol::V3 => payload_v3::decode(data, binary),
    };
    let frames = match decoded {
        Ok(frames) => frames,
        Err(e) => {
            tracing::info!(sid = %socket.id(), error = %e, "closing session: invalid polling payload");
            socket.shutdown(CloseReason::ParseError);
            return error(ErrorCode::BadRequest);
        }
    };
    for frame in frames {
        match socket.receive(frame) {
            Ok(()) => {}
            Err(CloseReason::TransportClose) => break,
            Err(_) => return error(ErrorCode::BadRequest),
        }
    }
    respond(StatusCode::OK, "text/html", Bytes::from_static(b"ok"))
}
