//! The message types client and server exchange: the chapter's
//! `src/shared/config.js`.
//!
//! The page has the same constants in `examples/chapter/public/config.js`;
//! a test below keeps the two copies equal. On the server, `connect` and
//! `disconnect` are [`Namespace::on_connect`](roomcast_socketio::Namespace::on_connect)
//! and [`Socket::on_disconnect`](roomcast_socketio::Socket::on_disconnect)
//! rather than event names; their constants are here for the page's sake.

/// The port the server listens on unless `PORT` says otherwise.
pub const WEB_PORT: u16 = 8000;

/// A socket connected (the client's `connect` event).
pub const IO_CONNECT: &str = "connect";
/// A socket disconnected (the client's `disconnect` event).
pub const IO_DISCONNECT: &str = "disconnect";
/// Client → server: a greeting, logged by the server.
pub const IO_CLIENT_HELLO: &str = "IO_CLIENT_HELLO";
/// Client → server: join the room given as argument.
pub const IO_CLIENT_JOIN_ROOM: &str = "IO_CLIENT_JOIN_ROOM";
/// Server → client: a greeting, logged in the browser console.
pub const IO_SERVER_HELLO: &str = "IO_SERVER_HELLO";

#[cfg(test)]
mod tests {
    use super::*;

    /// `public/config.js` must declare every constant with the same value.
    #[test]
    fn the_page_uses_the_same_message_types() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/chapter/public/config.js");
        let js = std::fs::read_to_string(path).expect("public/config.js");
        for (name, value) in [
            ("IO_CONNECT", IO_CONNECT),
            ("IO_DISCONNECT", IO_DISCONNECT),
            ("IO_CLIENT_HELLO", IO_CLIENT_HELLO),
            ("IO_CLIENT_JOIN_ROOM", IO_CLIENT_JOIN_ROOM),
            ("IO_SERVER_HELLO", IO_SERVER_HELLO),
        ] {
            let line = format!("export const {name} = '{value}'");
            assert!(js.contains(&line), "{path} lacks `{line}`");
        }
    }
}
