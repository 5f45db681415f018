//! The "07 - Socket.IO" chapter of *JavaScript Stack from Scratch*, with
//! roomcast in place of the Node.js server: an axum app serving the page
//! (compressed static files, like the chapter's Express app) with the
//! Socket.IO server mounted at `/socket.io/`.
//!
//! - [`config`]: the message types (`src/shared/config.js`).
//! - [`socket`]: the server's reactions (`src/server/socket.js`).
//! - [`app`]: the router (`src/server/index.js`); the binary is
//!   `src/bin/chapter.rs`, the page `examples/chapter/public/`.
//!
//! Like the reference server's `serveClient`, the router serves the
//! browser build of socket.io-client at `/socket.io/socket.io.js`, from
//! `examples/chapter/node_modules` (`npm ci` there installs the version
//! pinned by its lockfile). Without it that path answers 404 and the page
//! loads the client from the public CDN instead.

pub mod admin;
pub mod config;
pub mod socket;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use roomcast_socketio::Server;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

/// The files of socket.io-client's `dist/` served under `/socket.io/`, as
/// the reference server does (`socket.io.js` is the unminified build).
pub const CLIENT_FILES: [&str; 4] = [
    "socket.io.js",
    "socket.io.js.map",
    "socket.io.min.js",
    "socket.io.min.js.map",
];

/// The directory holding `public/` and `node_modules/`: `$CHAPTER_DIR`,
/// else `examples/chapter` of the source tree this binary was built from,
/// else `examples/chapter` or `chapter` under the current directory.
pub fn chapter_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CHAPTER_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let built = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/chapter"));
    [
        built.clone(),
        PathBuf::from("examples/chapter"),
        PathBuf::from("chapter"),
    ]
    .into_iter()
    .find(|dir| dir.join("public/index.html").is_file())
    .unwrap_or(built)
}

/// socket.io-client's browser builds, installed by npm.
#[derive(Clone, Debug)]
pub struct ClientBundle {
    /// `node_modules/socket.io-client/dist`.
    pub dist: PathBuf,
    /// The package's version (from its `package.json`).
    pub version: String,
}

impl ClientBundle {
    /// The bundle installed under `chapter_dir/node_modules`, if any.
    pub fn find(chapter_dir: &Path) -> Option<ClientBundle> {
        let package = chapter_dir.join("node_modules/socket.io-client");
        let dist = package.join("dist");
        if !dist.join("socket.io.js").is_file() {
            return None;
        }
        let manifest = std::fs::read(package.join("package.json")).ok()?;
        let manifest: serde_json::Value = serde_json::from_slice(&manifest).ok()?;
        let version = manifest["version"].as_str()?.to_string();
        Some(ClientBundle { dist, version })
    }
}

/// The chapter's app: the page from `chapter_dir/public`, the client bundle
/// (when installed) and `io` at `/socket.io/`. Static responses are
/// compressed when the browser accepts it; Socket.IO traffic is not.
pub fn app(io: &Server, chapter_dir: &Path, client: Option<ClientBundle>) -> Router {
    let client = Arc::new(client);
    let mut router = Router::new();
    // Exact routes win over the engine's: these paths never reach it.
    for name in CLIENT_FILES {
        let client = client.clone();
        let route = get(move |headers: HeaderMap| serve_client(client, name, headers))
            .layer(CompressionLayer::new());
        router = router.route(&format!("/socket.io/{name}"), route);
    }
    let public = ServiceBuilder::new()
        .layer(CompressionLayer::new())
        .service(ServeDir::new(chapter_dir.join("public")));
    router
        .route_service("/socket.io/", io.service())
        .route_service("/socket.io", io.service())
        .fallback_service(public)
}

/// One client file, with the reference server's headers: a JavaScript (or
/// source map) content type and the package version as `ETag`.
async fn serve_client(
    client: Arc<Option<ClientBundle>>,
    name: &'static str,
    headers: HeaderMap,
) -> Response {
    let Some(client) = client.as_ref() else {
        return (
            StatusCode::NOT_FOUND,
            "socket.io-client is not installed: run `npm ci` in examples/chapter\n",
        )
            .into_response();
    };
    let etag = format!("\"{}\"", client.version);
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let content_type = if name.ends_with(".map") {
        "application/json; charset=utf-8"
    } else {
        "application/javascript; charset=utf-8"
    };
    match tokio::fs::read(client.dist.join(name)).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, content_type.to_string()),
                (header::CACHE_CONTROL, "public, max-age=0".to_string()),
                (header::ETAG, etag),
            ],
            Body::from(bytes),
        )
            .into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}
