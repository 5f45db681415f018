//! The server side of the Socket.IO Admin UI (`@socket.io/admin-ui`,
//! Node's `instrument()`), behind the crate feature `admin-ui`.
//!
//! [`instrument`] adds the admin namespace (`/admin` by default) to a
//! server. The official UI connects to it like any client and gets:
//!
//! - on connect: `session` (after a login with credentials), `config` (the
//!   operations it may offer) and, in development mode, `all_sockets`
//!   (every socket of every namespace across the cluster);
//! - every `stats_interval` (2 s) `server_stats`: server id, hostname, pid,
//!   uptime, Engine.IO sessions, polling sessions, sockets per namespace;
//! - in development mode, as they happen: `socket_connected`,
//!   `socket_updated` (transport upgrade, data change — both seen at the
//!   next stats tick), `socket_disconnected`, `room_joined`, `room_left`,
//!   `event_received`, `event_sent`.
//!
//! The UI's operations (`join`, `leave`, `_disconnect`, `emit`, each for a
//! namespace and an optional room — a socket's id is its own room) go
//! through the namespace's broadcast operators, so they reach the sockets
//! on every node of the cluster. `readonly` refuses them all (they are not
//! even listened to).
//!
//! Authentication is Node's: a username and a bcrypt hash of the
//! password, checked by a middleware of the admin namespace; a good login
//! is given a session id (`session`), which later connections may present
//! instead of the password (sessions are kept in memory, for the server's
//! life). A bad one is refused with CONNECT_ERROR `invalid credentials`,
//! which the UI shows as such. Without the feature there is no admin
//! namespace at all.
//!
//! [`ui_files`] serves the UI itself from a directory (the npm package's
//! `ui/dist`), so it works with no internet access.
//!
//! ```no_run
//! use roomcast_socketio::admin::{self, AdminOptions};
//! # fn f(io: roomcast_socketio::Server) -> Result<(), admin::AdminError> {
//! // A hash made by `bcrypt` (Node's `bcryptjs` makes the same).
//! let hash = bcrypt::hash("changeit", 10).unwrap();
//! admin::instrument(&io, AdminOptions::basic_auth("admin", hash))?;
//! # Ok(()) }
//! ```

mod auth;
mod clock;
mod events;
mod observer;
mod ops;
mod serialize;
mod stats;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::{Server, Socket};

pub use auth::AdminAuth;

/// Whether the admin namespace reports every socket, room change and event
/// (development, the default, as Node's `NODE_ENV` unset) or only the
/// periodic server stats (production).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AdminMode {
    /// Every socket, room change and event is reported.
    #[default]
    Development,
    /// Only `server_stats`.
    Production,
}

/// Options of [`instrument`]. Authentication has no default, as in Node:
/// choose [`AdminOptions::basic_auth`] or say [`AdminOptions::no_auth`].
///
/// ```
/// use std::time::Duration;
/// use roomcast_socketio::admin::{AdminMode, AdminOptions};
/// let options = AdminOptions {
///     readonly: true,
///     mode: AdminMode::Production,
///     stats_interval: Duration::from_secs(5),
///     ..AdminOptions::no_auth()
/// };
/// assert_eq!(options.namespace, "/admin");
/// ```
#[derive(Clone, Debug)]
pub struct AdminOptions {
    /// The admin namespace (`/admin`).
    pub namespace: String,
    /// Who may connect.
    pub auth: AdminAuth,
    /// Refuse every operation (join, leave, disconnect, emit).
    pub readonly: bool,
    /// The id this server shows in the UI (default: the hostname).
    pub server_id: Option<String>,
    /// Development (everything) or production (stats only).
    pub mode: AdminMode,
    /// How often `server_stats` is sent (2 s).
    pub stats_interval: Duration,
}

impl AdminOptions {
    /// Anyone who can reach the server may connect to the admin namespace.
    pub fn no_auth() -> Self {
        AdminOptions {
            namespace: "/admin".to_string(),
            auth: AdminAuth::None,
            readonly: false,
            server_id: None,
            mode: AdminMode::Development,
            stats_interval: Duration::from_secs(2),
        }
    }

    /// Only `username` with the password whose bcrypt hash is
    /// `password_hash` (`$2a$`, `$2b$` or `$2y$`).
    pub fn basic_auth(username: impl Into<String>, password_hash: impl Into<String>) -> Self {
        AdminOptions {
            auth: AdminAuth::Basic {
                username: username.into(),
                password_hash: password_hash.into(),
            },
            ..Self::no_auth()
        }
    }
}

/// Why [`instrument`] refused its options.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The password hash is not a bcrypt hash.
    #[error("the admin password must be a bcrypt hash: {0}")]
    InvalidHash(#[from] bcrypt::BcryptError),
    /// The admin namespace name does not start with `/`.
    #[error("the admin namespace must start with '/': {0:?}")]
    InvalidNamespace(String),
}

/// The operations the UI may offer (Node's `Feature`).
fn features(options: &AdminOptions) -> Vec<&'static str> {
    let mut features = if options.readonly {
        Vec::new()
    } else {
        vec![
            "EMIT",
            "JOIN",
            "LEAVE",
            "DISCONNECT",
            "MJOIN",
            "MLEAVE",
            "MDISCONNECT",
        ]
    };
    features.push("AGGREGATED_EVENTS");
    if options.mode == AdminMode::Development {
        features.push("ALL_EVENTS");
    }
    features
}

/// Adds the admin namespace to `io`. Call it once, before clients connect
/// (sockets already connected are in `all_sockets` but their events are
/// not reported). The stats task runs for the server's life.
pub fn instrument(io: &Server, options: AdminOptions) -> Result<(), AdminError> {
    if !options.namespace.starts_with('/') {
        return Err(AdminError::InvalidNamespace(options.namespace));
    }
    options.auth.check()?;
    if options.auth == AdminAuth::None {
        tracing::warn!(namespace = %options.namespace, "admin UI authentication is disabled");
    }
    let admin = io.of(&options.namespace);
    auth::install(&admin, options.auth.clone());
    let features = features(&options);
    let development = options.mode == AdminMode::Development;
    {
        let io = io.downgrade();
        let readonly = options.readonly;
        admin.on_connect(move |socket: Socket| {
            let io = io.clone();
            let features = features.clone();
            async move {
                auth::send_session(&socket);
                if !readonly {
                    ops::listen(&io, &socket);
                }
                socket
                    .emit("config", &json!({ "supportedFeatures": features }))
                    .ok();
                if let Some(io) = io.upgrade().filter(|_| development) {
                    let sockets = serialize::all_sockets(&io).await;
                    socket.emit("all_sockets", &sockets).ok();
                }
            }
        });
    }
    let events = Arc::new(events::EventBuffer::default());
    let observer = observer::AdminObserver::new(admin.clone(), events.clone(), development);
    let observer = Arc::new(observer);
    for ns in io.registry().all() {
        crate::observe::Observer::namespace_created(&*observer, &ns);
    }
    io.registry().observers().add(observer);
    stats::spawn(io, admin, events, &options);
    Ok(())
}

/// A tower service serving the UI's files from `dir` (the npm package's
/// `ui/dist`, holding `index.html`). Mount it under a path ending in `/`
/// (e.g. `/admin/`): the page loads its scripts relative to itself.
///
/// ```no_run
/// // e.g. axum: Router::new().nest_service("/admin", files)
/// let files = roomcast_socketio::admin::ui_files("node_modules/@socket.io/admin-ui/ui/dist");
/// # let _ = files;
/// ```
pub fn ui_files(dir: impl AsRef<Path>) -> tower_http::services::ServeDir {
    tower_http::services::ServeDir::new(dir.as_ref()).append_index_html_on_directories(true)
}
