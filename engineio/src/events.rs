//! Engine events a user can subscribe to, as Node's `io.engine.on(…)`:
//! [`ConnectionError`] for every refused request (`connection_error`),
//! [`HeadersHook`] for extra response headers (`initial_headers`,
//! `headers`), and a session's transport upgrade
//! ([`Socket::on_upgrade`](crate::Socket::on_upgrade), Node's
//! `socket.conn.on("upgrade")`).
//!
//! Semantics:
//! - `connection_error` is called once per refused request, before the
//!   error response is sent, with the request, the protocol's code and
//!   message, and what was wrong ([`ErrorContext`]). It is called for the
//!   refusals Node reports (unknown transport or sid, a handshake that is
//!   not a GET, a bad request, `allow_request`'s verdict, an unsupported
//!   protocol revision), not for a session's transport errors (an
//!   overlapping GET, a bad payload: those close the session) nor for 413
//!   or 503.
//! - `initial_headers` adds headers to a handshake's answer (polling 200 or
//!   WebSocket 101); `headers` to every answer of a session (handshake,
//!   polling GETs and POSTs, the upgrade's 101), after `initial_headers`.
//!   Neither is called for a refused request, and what they add is left
//!   off a session's error answers (e.g. an overlapping GET's 400).
//! - Upgrade listeners are called on the upgrade task by the session's
//!   transitions (`Socket::probe_answered`, `finish_upgrade`): `upgrading` when
//!   the WebSocket answered the probe and `upgrade` once the session moved
//!   to it, each at most once per session, in registration order. A
//!   listener added after its event (or after the session closed) is
//!   dropped without a call; the listeners still waiting are dropped when
//!   the session closes.
//!
//! ```no_run
//! # fn f(conn: &roomcast_engineio::Socket) {
//! conn.on_upgrade(|transport| println!("now on {}", transport.as_str()));
//! # }
//! ```

use std::sync::Arc;

use http::{HeaderMap, Method};
use parking_lot::Mutex;
use roomcast_core::ClientId;

use crate::config::{RequestInfo, TransportKind};
use crate::protocol::Protocol;
use crate::response::ErrorCode;

/// A refused request, as Node's `connection_error` event
/// (`err.req`, `err.code`, `err.message`, `err.context`).
#[derive(Debug)]
pub struct ConnectionError<'a> {
    /// The request.
    pub req: RequestInfo<'a>,
    /// The protocol's code, sent in the answer.
    pub code: ErrorCode,
    /// The reference server's message for the code (Node's `err.message`;
    /// a custom `allow_request` message is in the [`ErrorContext`]).
    pub message: &'static str,
    /// What was wrong.
    pub context: ErrorContext,
}

/// What was wrong with a refused request (Node's `err.context`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorContext {
    /// Code 0: the `transport` query parameter (absent, unknown or not
    /// offered).
    UnknownTransport {
        /// What the client asked for.
        transport: Option<String>,
    },
    /// Code 1: no session has this sid.
    UnknownSid {
        /// The sid the client sent.
        sid: String,
    },
    /// Code 2: a handshake that is not a GET.
    BadHandshakeMethod {
        /// The method used.
        method: Method,
    },
    /// Code 3: a session's request on another transport than its own
    /// (Node's `TRANSPORT_MISMATCH`).
    TransportMismatch {
        /// The transport of the request.
        transport: TransportKind,
        /// The session's transport.
        previous: TransportKind,
    },
    /// Code 3: a session's request naming another `EIO` than its
    /// handshake (Node's `PROTOCOL_MISMATCH`).
    ProtocolMismatch {
        /// The revision of the request.
        protocol: Protocol,
        /// The session's revision.
        previous: Protocol,
    },
    /// Code 3: a WebSocket request that is not a valid WebSocket handshake,
    /// or an upgrade while upgrades are off (Node's
    /// `TRANSPORT_HANDSHAKE_ERROR`).
    TransportHandshakeError,
    /// Code 3: a polling session's request with a method other than GET
    /// and POST.
    BadMethod {
        /// The method used.
        method: Method,
    },
    /// Code 4: `allow_request` refused the handshake.
    Forbidden {
        /// Its message (sent in the answer).
        message: String,
    },
    /// Code 5: an `EIO` revision the engine does not accept.
    UnsupportedProtocolVersion {
        /// The revision asked for.
        protocol: Protocol,
    },
}

impl ErrorContext {
    /// Node's `context.name`, where Node sets one.
    ///
    /// ```
    /// use roomcast_engineio::ErrorContext;
    /// assert_eq!(ErrorContext::TransportHandshakeError.name(), Some("TRANSPORT_HANDSHAKE_ERROR"));
    /// ```
    pub fn name(&self) -> Option<&'static str> {
        match self {
            ErrorContext::TransportMismatch { .. } => Some("TRANSPORT_MISMATCH"),
            ErrorContext::ProtocolMismatch { .. } => Some("PROTOCOL_MISMATCH"),
            ErrorContext::TransportHandshakeError => Some("TRANSPORT_HANDSHAKE_ERROR"),
            _ => None,
        }
    }

    /// The code the request is refused with.
    pub fn code(&self) -> ErrorCode {
        match self {
            ErrorContext::UnknownTransport { .. } => ErrorCode::UnknownTransport,
            ErrorContext::UnknownSid { .. } => ErrorCode::UnknownSid,
            ErrorContext::BadHandshakeMethod { .. } => ErrorCode::BadHandshakeMethod,
            ErrorContext::TransportMismatch { .. }
            | ErrorContext::ProtocolMismatch { .. }
            | ErrorContext::TransportHandshakeError
            | ErrorContext::BadMethod { .. } => ErrorCode::BadRequest,
            ErrorContext::Forbidden { .. } => ErrorCode::Forbidden,
            ErrorContext::UnsupportedProtocolVersion { .. } => {
                ErrorCode::UnsupportedProtocolVersion
            }
        }
    }
}

/// Node's `io.engine.on("connection_error", …)`: called for every refused
/// request (see the [module docs](self)).
///
/// ```
/// use std::sync::Arc;
/// use roomcast_engineio::EngineConfig;
/// let config = EngineConfig {
///     on_connection_error: Some(Arc::new(|err| {
///         eprintln!("{} {}: {} {} {:?}", err.req.method, err.req.uri, err.code as u8, err.message, err.context);
///     })),
///     ..EngineConfig::default()
/// };
/// ```
pub type ConnectionErrorHook = Arc<dyn Fn(&ConnectionError<'_>) + Send + Sync>;

/// Node's `initial_headers` / `headers` listeners: adds headers to a
/// session's answer, given the request and the session id (for a cookie).
///
/// ```
/// use std::sync::Arc;
/// use roomcast_engineio::EngineConfig;
/// let config = EngineConfig {
///     initial_headers: Some(Arc::new(|headers, _req, sid| {
///         let cookie = format!("io={sid}; Path=/; HttpOnly");
///         headers.insert("set-cookie", cookie.parse().unwrap());
///     })),
///     ..EngineConfig::default()
/// };
/// ```
pub type HeadersHook = Arc<dyn Fn(&mut HeaderMap, &RequestInfo<'_>, ClientId) + Send + Sync>;

/// What a [`HeadersHook`] is made of: any `Fn(&mut HeaderMap,
/// &RequestInfo, ClientId)` that can be shared between threads. Builders
/// take `impl HeadersFn` so a closure needs no `Arc` and no annotations.
pub trait HeadersFn:
    Fn(&mut HeaderMap, &RequestInfo<'_>, ClientId) + Send + Sync + 'static
{
}

impl<F> HeadersFn for F where
    F: Fn(&mut HeaderMap, &RequestInfo<'_>, ClientId) + Send + Sync + 'static
{
}

/// A session's upgrade listener: given the transport moved to.
pub(crate) type UpgradeListener = Box<dyn FnOnce(TransportKind) + Send>;

/// Which upgrade step a listener waits for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpgradeStep {
    /// The WebSocket answered the probe (Node's `upgrading`).
    Upgrading = 0,
    /// The session moved to the WebSocket (Node's `upgrade`).
    Upgrade = 1,
}

/// A session's upgrade listeners (empty, and without allocation, until a
/// listener is added), and the steps that happened already.
#[derive(Default)]
pub(crate) struct UpgradeListeners(Mutex<Listeners>);

#[derive(Default)]
struct Listeners {
    waiting: Vec<(UpgradeStep, UpgradeListener)>,
    /// `[upgrading, upgrade]` happened (or the session closed): a listener
    /// added then is dropped at once.
    fired: [bool; 2],
}

impl UpgradeListeners {
    pub(crate) fn add(&self, step: UpgradeStep, listener: UpgradeListener) {
        let mut this = self.0.lock();
        if this.fired[step as usize] {
            drop(this);
            drop(listener);
            return;
        }
        this.waiting.push((step, listener));
    }

    /// After a transition (`done`): calls (and removes) the listeners of
    /// `step`, outside the lock. The upgrade is always to WebSocket.
    pub(crate) fn fire_if(&self, done: bool, step: UpgradeStep) {
        if !done {
            return;
        }
        let due: Vec<_> = {
            let mut this = self.0.lock();
            this.fired[step as usize] = true;
            if this.waiting.is_empty() {
                return;
            }
            let (due, rest) = std::mem::take(&mut this.waiting)
                .into_iter()
                .partition(|(s, _)| *s == step);
            this.waiting = rest;
            due
        };
        for (_, listener) in due {
            listener(TransportKind::WebSocket);
        }
    }

    /// Drops every listener, and any added later (the session closed).
    pub(crate) fn clear(&self) {
        let dropped = {
            let mut this = self.0.lock();
            this.fired = [true; 2];
            std::mem::take(&mut this.waiting)
        };
        drop(dropped);
    }
}
