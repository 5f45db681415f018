//! Who may connect to the admin namespace: Node's basic authentication
//! (a username and a bcrypt hash), with in-memory sessions.
//!
//! A CONNECT whose auth holds a `sessionId` given earlier is let in; one
//! with the right `username` and a `password` matching the hash is let in
//! and given a new session id (the `session` event, sent first once the
//! socket is connected); anything else is refused with `invalid
//! credentials`. bcrypt runs on the blocking pool, never on the reactor.

use std::collections::HashSet;
use std::sync::Arc;

use parking_lot::Mutex;
use rand::RngCore;

use crate::{ConnectError, Namespace, Socket};

/// Who may connect to the admin namespace.
///
/// ```
/// use roomcast_socketio::admin::AdminAuth;
/// let hash = bcrypt::hash("secret", 4).unwrap();
/// let auth = AdminAuth::Basic { username: "admin".into(), password_hash: hash };
/// assert_ne!(auth, AdminAuth::None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminAuth {
    /// Anyone (Node's `auth: false`).
    None,
    /// One username with a bcrypt hash of its password.
    Basic {
        /// The username.
        username: String,
        /// The bcrypt hash of the password.
        password_hash: String,
    },
}

impl AdminAuth {
    /// The hash must be a bcrypt hash (checked once, at start).
    pub(super) fn check(&self) -> Result<(), bcrypt::BcryptError> {
        match self {
            AdminAuth::None => Ok(()),
            AdminAuth::Basic { password_hash, .. } => {
                password_hash.parse::<bcrypt::HashParts>().map(|_| ())
            }
        }
    }
}

/// A session id handed to a socket that logged in with credentials.
#[derive(Clone)]
struct NewSession(String);

/// Adds the authentication middleware to the admin namespace.
pub(super) fn install(admin: &Namespace, auth: AdminAuth) {
    let AdminAuth::Basic {
        username,
        password_hash,
    } = auth
    else {
        return;
    };
    let sessions: Arc<Mutex<HashSet<String>>> = Arc::default();
    let credentials = Arc::new((username, password_hash));
    admin.use_middleware(move |socket: Socket| {
        let sessions = sessions.clone();
        let credentials = credentials.clone();
        async move {
            let auth = &socket.handshake().auth;
            if let Some(id) = auth.get("sessionId").and_then(|v| v.as_str()) {
                if sessions.lock().contains(id) {
                    return Ok(());
                }
            }
            let user = auth.get("username").and_then(|v| v.as_str());
            let password = auth.get("password").and_then(|v| v.as_str());
            if let (Some(user), Some(password)) = (user, password) {
                if user == credentials.0 && verify(password, &credentials.1).await {
                    let id = session_id();
                    sessions.lock().insert(id.clone());
                    socket.extensions().insert(NewSession(id));
                    return Ok(());
                }
            }
            tracing::info!(socket = %socket.id(), "admin UI login refused");
            Err(ConnectError::new("invalid credentials"))
        }
    });
}

async fn verify(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
        .await
        .unwrap_or(false)
}

/// 16 hex digits, as Node's `randomBytes(8)`.
fn session_id() -> String {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Sends `session` to a socket that just logged in with credentials.
pub(super) fn send_session(socket: &Socket) {
    if let Some(NewSession(id)) = socket.extensions().remove::<NewSession>() {
        socket.emit("session", &id).ok();
    }
}
