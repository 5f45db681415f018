//! Access control for a roomcast server (`--bin access`):
//!
//! - [`allow_origins`]: an [`EngineConfig::allow_request`] hook that refuses
//!   handshakes from browsers on other sites. A request whose `Origin` is not
//!   on the allow-list gets HTTP 403 and `{"code":4,"message":"origin not
//!   allowed"}` before any session exists. A request without `Origin` (not a
//!   browser: a Node, mobile or Rust client, which could send any `Origin`
//!   anyway) passes only when `allow_missing` is set.
//! - [`require_token`]: a namespace middleware that checks the `token` of the
//!   CONNECT packet's auth payload (`io(url, { auth: { token } })`) against
//!   the valid tokens, in constant time; a missing or wrong token is refused
//!   with CONNECT_ERROR `unauthorized`, data `{"reason":"bad token"}`.
//! - CORS stays off (the engine's default) unless [`AccessConfig::cors`] is
//!   set, and then only for the allowed origins.
//!
//! [`server`] puts them together; the binary reads [`AccessConfig::from_env`].
//!
//! [`EngineConfig::allow_request`]: roomcast_socketio::engineio::EngineConfig::allow_request

use std::future::Ready;
use std::sync::Arc;

use roomcast_socketio::engineio::{AllowOrigin, AllowRequest, Cors, RequestInfo};
use roomcast_socketio::{AckSender, ConnectError, Server, Socket};
use serde_json::{json, Value};

/// What the access example enforces.
#[derive(Clone, Debug, Default)]
pub struct AccessConfig {
    /// Tokens accepted in the auth payload.
    pub tokens: Vec<String>,
    /// Origins (`scheme://host[:port]`) whose pages may connect.
    pub origins: Vec<String>,
    /// Whether requests without an `Origin` header (non-browser clients) pass.
    pub allow_missing_origin: bool,
    /// Whether to answer CORS (for the allowed origins only).
    pub cors: bool,
}

impl AccessConfig {
    /// From the environment: `ACCESS_TOKENS` and `ALLOWED_ORIGINS`
    /// (comma-separated), `ALLOW_NO_ORIGIN=1`, `CORS=1`.
    pub fn from_env() -> Self {
        let list = |name: &str| -> Vec<String> {
            std::env::var(name)
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        let flag = |name: &str| matches!(std::env::var(name).as_deref(), Ok("1") | Ok("true"));
        AccessConfig {
            tokens: list("ACCESS_TOKENS"),
            origins: list("ALLOWED_ORIGINS"),
            allow_missing_origin: flag("ALLOW_NO_ORIGIN"),
            cors: flag("CORS"),
        }
    }
}

/// Compares without an early exit, so the time taken says nothing about
/// how much of a secret matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The refusal sent for a missing or wrong token.
pub fn unauthorized() -> ConnectError {
    ConnectError::new("unauthorized").with_data(json!({ "reason": "bad token" }))
}

/// Checks the `token` of an auth payload against `tokens`.
///
/// ```
/// use roomcast_examples::access::check_token;
/// let tokens = vec!["s3cret".to_string()];
/// assert!(check_token(&tokens, &serde_json::json!({ "token": "s3cret" })).is_ok());
/// let err = check_token(&tokens, &serde_json::json!({ "token": "guess" })).unwrap_err();
/// assert_eq!(err.message, "unauthorized");
/// ```
pub fn check_token(tokens: &[String], auth: &Value) -> Result<(), ConnectError> {
    let Some(given) = auth.get("token").and_then(Value::as_str) else {
        return Err(unauthorized());
    };
    // Every token is compared, whichever matches.
    let matched = tokens.iter().fold(false, |found, t| {
        constant_time_eq(t.as_bytes(), given.as_bytes()) | found
    });
    if matched {
        Ok(())
    } else {
        Err(unauthorized())
    }
}

/// A namespace middleware accepting only sockets whose auth payload carries
/// one of `tokens` (`namespace.use_middleware(require_token(tokens))`).
pub fn require_token(
    tokens: Vec<String>,
) -> impl Fn(Socket) -> Ready<Result<(), ConnectError>> + Send + Sync + 'static {
    let tokens = Arc::new(tokens);
    move |socket: Socket| {
        let result = check_token(&tokens, &socket.handshake().auth);
        if result.is_err() {
            tracing::info!(address = ?socket.handshake().address(), "connection refused: bad token");
        }
        std::future::ready(result)
    }
}

/// The origin check of one request; see [`allow_origins`].
pub fn check_origin(
    origins: &[String],
    allow_missing: bool,
    req: &RequestInfo<'_>,
) -> Result<(), String> {
    match req.headers.get("origin").map(|v| v.to_str()) {
        None if allow_missing => Ok(()),
        None => Err("origin required".to_string()),
        Some(Ok(origin)) if origins.iter().any(|o| o == origin) => Ok(()),
        Some(_) => Err("origin not allowed".to_string()),
    }
}

/// An `allow_request` hook refusing handshakes whose `Origin` is not one of
/// `origins` (HTTP 403, code 4).
pub fn allow_origins(origins: Vec<String>, allow_missing: bool) -> AllowRequest {
    roomcast_socketio::engineio::allow_request(move |req: &RequestInfo<'_>| {
        let result = check_origin(&origins, allow_missing, req);
        if let Err(reason) = &result {
            let origin = req.headers.get("origin").map(|v| v.as_bytes());
            let origin = String::from_utf8_lossy(origin.unwrap_or(b"-"));
            // Debug-formatted: a hostile header cannot forge log lines.
            tracing::info!(origin = ?origin, %reason, "handshake refused");
        }
        result
    })
}

/// A server enforcing `config` on `/`: the origin check on every handshake,
/// the token on every socket; CORS only when asked. A connected socket can
/// `whoami` (acked with its id) and `say` (broadcast to the others).
pub fn server(config: &AccessConfig) -> Server {
    let origins = config.origins.clone();
    let (allow_missing, cors) = (config.allow_missing_origin, config.cors);
    let io = Server::builder()
        .engine(move |e| {
            e.allow_request = Some(allow_origins(origins.clone(), allow_missing));
            e.cors = cors.then(|| Cors {
                origins: AllowOrigin::List(origins),
                credentials: false,
            });
        })
        .build();
    io.use_middleware(require_token(config.tokens.clone()));
    io.on_connect(|socket: Socket| async move {
        tracing::info!(socket = %socket.id(), "authorized socket connected");
        socket.on("whoami", |s: Socket, (): (), ack: AckSender| async move {
            ack.send(&s.id().as_str()).ok();
        });
        socket.on("say", |s: Socket, text: String| async move {
            s.broadcast().emit("said", &text).ok();
        });
    });
    io
}
