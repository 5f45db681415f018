//! `ADMIN=1`: the chapter's server watched and operated from the Socket.IO
//! Admin UI (the admin namespace `/admin`, the UI's files at `/admin/`),
//! and scraped by Prometheus (`/metrics`).
//!
//! - `ADMIN_USER` / `ADMIN_PASSWORD`: the UI's login (the password is
//!   hashed with bcrypt at start). With both unset there is no login, and
//!   the server says so; with only one set it refuses to start.
//! - `ADMIN_UI_DIR`: the UI's files (the npm package's `ui/dist`); by
//!   default `node_modules/@socket.io/admin-ui/ui/dist` under the chapter
//!   directory or under `tests/js` of the source tree.

use std::path::{Path, PathBuf};

use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::Router;
use roomcast_socketio::admin::{self, AdminOptions};
use roomcast_socketio::{metrics, Server};

/// Why the admin part could not start.
#[derive(Debug, thiserror::Error)]
pub enum AdminSetupError {
    /// Only one of `ADMIN_USER` and `ADMIN_PASSWORD` is set.
    #[error("set both ADMIN_USER and ADMIN_PASSWORD, or neither (no login)")]
    HalfLogin,
    /// Hashing the password or instrumenting failed.
    #[error(transparent)]
    Admin(#[from] admin::AdminError),
    /// Hashing the password failed.
    #[error("hashing ADMIN_PASSWORD: {0}")]
    Hash(#[from] bcrypt::BcryptError),
}

/// Whether `ADMIN=1`.
pub fn enabled() -> bool {
    std::env::var("ADMIN").is_ok_and(|v| v == "1")
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Where the UI's files are, if anywhere.
pub fn ui_dir(chapter_dir: &Path) -> Option<PathBuf> {
    let package = "node_modules/@socket.io/admin-ui/ui/dist";
    var("ADMIN_UI_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain([
            chapter_dir.join(package),
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/js")).join(package),
        ])
        .find(|dir| dir.join("index.html").is_file())
}

/// Instruments `io`, adds `/metrics` and the UI's files to `app`; prints
/// what an operator needs to know.
pub fn mount(io: &Server, app: Router, chapter_dir: &Path) -> Result<Router, AdminSetupError> {
    let options = match (var("ADMIN_USER"), var("ADMIN_PASSWORD")) {
        (Some(user), Some(password)) => {
            println!("Admin UI: login as {user:?}.");
            AdminOptions::basic_auth(user, bcrypt::hash(password, bcrypt::DEFAULT_COST)?)
        }
        (None, None) => {
            println!(
                "Admin UI: no login (ADMIN_USER / ADMIN_PASSWORD unset): \
                 anyone who reaches this server can operate it."
            );
            AdminOptions::no_auth()
        }
        _ => return Err(AdminSetupError::HalfLogin),
    };
    admin::instrument(io, options)?;
    let scraped = io.clone();
    let app = app.route(
        "/metrics",
        get(move || {
            let io = scraped.clone();
            async move {
                (
                    [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
                    metrics::render(&io),
                )
                    .into_response()
            }
        }),
    );
    println!("Metrics at /metrics.");
    let Some(dir) = ui_dir(chapter_dir) else {
        println!("Admin UI: files not found (set ADMIN_UI_DIR to @socket.io/admin-ui's ui/dist).");
        return Ok(app);
    };
    println!("Admin UI at /admin/ (files from {}).", dir.display());
    Ok(app
        .route("/admin", get(|| async { Redirect::permanent("/admin/") }))
        .nest_service("/admin/", admin::ui_files(dir)))
}
