//! roomcast inside an ordinary axum app: REST routes and Socket.IO share
//! one listener and one app state, and the REST handlers broadcast to
//! Socket.IO rooms.
//!
//! Run `cargo run -p roomcast-examples --bin embed-axum` (127.0.0.1:3000;
//! `PORT` and `HOST` change it), then:
//!
//! ```text
//! curl localhost:3000/health
//! curl localhost:3000/rooms/lobby/count
//! curl -X POST localhost:3000/rooms/lobby/messages \
//!      -H 'content-type: application/json' -d '{"text":"hi"}'
//! ```
//!
//! Socket.IO clients connect to `http://localhost:3000` and emit
//! `join` with a room name (acknowledged with the room's size); messages
//! posted to that room reach them as `message` events with
//! `{"room": …, "text": …}`.
//!
//! Mounting: this app uses [`Server::layer`], which hands every request
//! under `/socket.io/` to roomcast and the rest to the router. The chapter
//! example shows the other way, `route_service("/socket.io/", io.service())`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use roomcast_socketio::engineio::RemoteAddr;
use roomcast_socketio::{AckSender, Server, Socket};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// What the REST handlers share: the Socket.IO server and a counter.
#[derive(Clone)]
pub struct AppState {
    /// The Socket.IO server (a cheap handle).
    pub io: Server,
    /// Messages posted through `POST /rooms/{room}/messages`.
    pub posted: Arc<AtomicU64>,
}

/// The body of `POST /rooms/{room}/messages`.
#[derive(Debug, Deserialize, Serialize)]
pub struct NewMessage {
    /// The text to send.
    pub text: String,
}

/// Registers the Socket.IO handlers: `join(room) -> room size`.
pub fn set_up_socket(io: &Server) {
    io.on_connect(|socket: Socket| async move {
        tracing::info!(id = %socket.id(), address = ?socket.handshake().address(), "connected");
        socket.on(
            "join",
            |socket: Socket, room: String, ack: AckSender| async move {
                socket.join([room.as_str()]);
                let size = socket.ns().to([room.as_str()]).sockets().len();
                ack.send(&size).ok();
            },
        );
    });
}

/// The app: REST routes with their state, and `io` mounted at its path.
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` for
/// Socket.IO handshakes to carry the client's address.
pub fn app(io: Server) -> Router {
    let state = AppState {
        io: io.clone(),
        posted: Arc::default(),
    };
    Router::new()
        .route("/health", get(health))
        .route("/rooms/{room}/count", get(room_count))
        .route("/rooms/{room}/messages", post(post_message))
        .with_state(state)
        .layer(io.layer())
        // Outermost: runs before roomcast sees the request.
        .layer(middleware::from_fn(remote_addr))
}

/// `GET /health`: liveness, with a few numbers.
async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "sockets": state.io.sockets().len(),
        "posted": state.posted.load(Ordering::Relaxed),
    }))
}

/// `GET /rooms/{room}/count`: how many sockets are in the room.
async fn room_count(State(state): State<AppState>, Path(room): Path<String>) -> impl IntoResponse {
    let sockets = state.io.to([room.as_str()]).sockets().len();
    Json(json!({ "room": room, "sockets": sockets }))
}

/// `POST /rooms/{room}/messages` with `{"text": …}`: emits `message` to the
/// room; 202 with how many sockets were targeted.
async fn post_message(
    State(state): State<AppState>,
    Path(room): Path<String>,
    Json(body): Json<NewMessage>,
) -> Response {
    let to_room = state.io.to([room.as_str()]);
    let targeted = to_room.sockets().len();
    if let Err(e) = to_room.emit("message", &json!({ "room": room, "text": body.text })) {
        return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
    }
    state.posted.fetch_add(1, Ordering::Relaxed);
    let body = json!({ "room": room, "targeted": targeted });
    (StatusCode::ACCEPTED, Json(body)).into_response()
}

/// Copies axum's `ConnectInfo` (when served with it) into the extension
/// roomcast reads the client's address from.
async fn remote_addr(mut req: Request, next: Next) -> Response {
    if let Some(ConnectInfo(addr)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        req.extensions_mut().insert(RemoteAddr(addr));
    }
    next.run(req).await
}
