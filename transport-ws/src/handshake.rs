//! The HTTP/1.1 WebSocket handshake inside a hyper 1 service.
//!
//! [`accept`] checks an upgrade request and returns the `101 Switching
//! Protocols` response to send back, plus a future that resolves to the
//! upgraded stream once hyper has sent that response.

use http::{header, HeaderValue, Request, Response, StatusCode};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use crate::deflate::negotiate::negotiate;
use crate::{Negotiated, PerMessageDeflate};

/// Why a request is not a valid WebSocket upgrade.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// The method is not GET.
    #[error("websocket upgrade must use GET")]
    Method,
    /// `Connection: upgrade` or `Upgrade: websocket` is missing.
    #[error("not a websocket upgrade request")]
    NotUpgrade,
    /// `Sec-WebSocket-Version` is not 13.
    #[error("unsupported websocket version")]
    Version,
    /// `Sec-WebSocket-Key` is missing.
    #[error("missing Sec-WebSocket-Key")]
    Key,
    /// The server cannot upgrade this connection (no hyper upgrade handle).
    #[error("connection cannot be upgraded")]
    NoUpgrade,
}

fn has_token(value: Option<&HeaderValue>, token: &str) -> bool {
    value
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        .unwrap_or(false)
}

/// Whether the request asks for a WebSocket upgrade at all.
pub fn is_upgrade<B>(req: &Request<B>) -> bool {
    has_token(req.headers().get(header::UPGRADE), "websocket")
}

/// The upgraded stream, once the `101` response has gone out.
pub type Upgrade = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<TokioIo<Upgraded>, hyper::Error>> + Send>,
>;

/// Checks an upgrade request; returns the `101` response and the upgrade.
///
/// The response must be returned from the service for the upgrade to
/// complete.
pub fn accept<B>(req: &mut Request<B>) -> Result<(Response<()>, Upgrade), HandshakeError> {
    accept_with(req, None).map(|(response, upgrade, _)| (response, upgrade))
}

/// As [`accept`], and negotiates `permessage-deflate` when `deflate` is
/// given and the client offers it: the answer carries the agreed
/// parameters, to be handed to
/// [`WsConnection::with_deflate`](crate::WsConnection::with_deflate).
///
/// ```
/// use roomcast_transport_ws::{handshake, PerMessageDeflate};
/// let mut req = http::Request::get("/")
///     .header("connection", "Upgrade")
///     .header("upgrade", "websocket")
///     .header("sec-websocket-version", "13")
///     .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
///     .header("sec-websocket-extensions", "permessage-deflate; client_max_window_bits")
///     .body(())
///     .unwrap();
/// // Without hyper's upgrade handle the request cannot be upgraded.
/// let refused = handshake::accept_with(&mut req, Some(&PerMessageDeflate::default()));
/// assert!(matches!(refused, Err(handshake::HandshakeError::NoUpgrade)));
/// ```
#[allow(clippy::type_complexity)]
pub fn accept_with<B>(
    req: &mut Request<B>,
    deflate: Option<&PerMessageDeflate>,
) -> Result<(Response<()>, Upgrade, Option<Negotiated>), HandshakeError> {
    let (response, agreed) = answer(req, deflate)?;
    let on_upgrade = req
        .extensions_mut()
        .remove::<OnUpgrade>()
        .ok_or(HandshakeError::NoUpgrade)?;
    let upgrade: Upgrade = Box::pin(async move { on_upgrade.await.map(TokioIo::new) });
    Ok((response, upgrade, agreed))
}

/// The checks and the `101` answer of [`accept_with`], for a server that
/// writes the answer and takes the connection over itself (no hyper
/// upgrade handle needed): the stream then goes to [`WsConnection::new`],
/// with the serialized answer as [`WsConnection::with_preface`].
///
/// [`WsConnection::new`]: crate::WsConnection::new
/// [`WsConnection::with_preface`]: crate::WsConnection::with_preface
pub fn answer<B>(
    req: &Request<B>,
    deflate: Option<&PerMessageDeflate>,
) -> Result<(Response<()>, Option<Negotiated>), HandshakeError> {
    if req.method() != http::Method::GET {
        return Err(HandshakeError::Method);
    }
    let headers = req.headers();
    if !has_token(headers.get(header::CONNECTION), "upgrade") || !is_upgrade(req) {
        return Err(HandshakeError::NotUpgrade);
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .map(|v| v.as_bytes())
        != Some(b"13")
    {
        return Err(HandshakeError::Version);
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .ok_or(HandshakeError::Key)?;
    let accept_key = derive_accept_key(key.as_bytes());
    let agreed = deflate.and_then(|config| {
        let offers = headers
            .get_all(header::SEC_WEBSOCKET_EXTENSIONS)
            .iter()
            .filter_map(|v| v.to_str().ok());
        negotiate(offers, config)
    });
    let mut response = Response::new(());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = response.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(v) = HeaderValue::from_str(&accept_key) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    if let Some(v) = agreed.and_then(|a| HeaderValue::from_str(&a.header()).ok()) {
        h.insert(header::SEC_WEBSOCKET_EXTENSIONS, v);
    }
    Ok((response, agreed))
}
