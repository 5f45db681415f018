//! The builder's Engine.IO options under the names Node users know: the
//! engine's events (`connection_error`, `initial_headers`, `headers`),
//! Socket.IO v2 clients (`allowEIO3`) and compression (`perMessageDeflate`,
//! `httpCompression`). Each sets a field of the engine's configuration;
//! [`ServerBuilder::engine`] reaches the rest.

use std::sync::Arc;

use super::ServerBuilder;

impl ServerBuilder {
    /// Node's `io.engine.on("connection_error", (err) => …)`: called for
    /// every refused Engine.IO request (unknown transport or sid, a
    /// handshake that is not a GET, a bad request, `allow_request`'s
    /// refusal, an unsupported protocol revision) with the code, message,
    /// context and request.
    ///
    /// ```
    /// let io = roomcast_socketio::Server::builder()
    ///     .on_connection_error(|err| {
    ///         eprintln!("{:?} {} {} {:?}", err.req.remote_addr, err.code as u8, err.message, err.context);
    ///     })
    ///     .build();
    /// assert!(io.engine().config().on_connection_error.is_some());
    /// ```
    pub fn on_connection_error(
        mut self,
        hook: impl Fn(&roomcast_engineio::ConnectionError<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.config.engine.on_connection_error = Some(Arc::new(hook));
        self
    }

    /// Node's `io.engine.on("initial_headers", (headers, req) => …)`: adds
    /// headers to each handshake's answer (e.g. a cookie), given the
    /// request and the new session's id.
    ///
    /// ```
    /// let io = roomcast_socketio::Server::builder()
    ///     .initial_headers(|headers, _req, sid| {
    ///         headers.insert("set-cookie", format!("io={sid}; Path=/").parse().unwrap());
    ///     })
    ///     .build();
    /// ```
    pub fn initial_headers(mut self, hook: impl roomcast_engineio::HeadersFn) -> Self {
        self.config.engine.initial_headers = Some(Arc::new(hook));
        self
    }

    /// Node's `io.engine.on("headers", (headers, req) => …)`: adds headers
    /// to every answer of a session (handshake, polling requests, the
    /// WebSocket upgrade's 101), after `initial_headers`.
    pub fn headers(mut self, hook: impl roomcast_engineio::HeadersFn) -> Self {
        self.config.engine.headers = Some(Arc::new(hook));
        self
    }

    /// Accepts Socket.IO v2 clients (Engine.IO v3, Socket.IO protocol v4)
    /// beside current ones (default false: their handshake is refused with
    /// "Unsupported protocol version"), as Node's `allowEIO3`. A v2
    /// client's connection joins `/` as soon as it opens, and its CONNECT
    /// query is the socket's auth; see the README for the differences.
    ///
    /// ```
    /// let io = roomcast_socketio::Server::builder().allow_eio3(true).build();
    /// assert!(io.engine().config().allow_eio3);
    /// ```
    pub fn allow_eio3(mut self, allow: bool) -> Self {
        self.config.engine.allow_eio3 = allow;
        self
    }

    /// Turns WebSocket compression (`permessage-deflate`) on, for clients
    /// that offer it (browsers and `socket.io-client` on Node do); off by
    /// default, as Node's `perMessageDeflate: false`.
    ///
    /// ```
    /// use roomcast_socketio::{engineio::PerMessageDeflate, Server};
    /// let io = Server::builder()
    ///     .per_message_deflate(PerMessageDeflate { threshold: 512, ..PerMessageDeflate::default() })
    ///     .build();
    /// assert!(io.engine().config().per_message_deflate.is_some());
    /// ```
    #[cfg(feature = "ws")]
    pub fn per_message_deflate(mut self, config: roomcast_engineio::PerMessageDeflate) -> Self {
        self.config.engine.per_message_deflate = Some(config);
        self
    }

    /// gzip/deflate of long-polling answers (default: on, 1024-byte
    /// threshold, as Node's `httpCompression`); `None` turns it off.
    #[cfg(feature = "polling")]
    pub fn http_compression(mut self, config: Option<roomcast_engineio::HttpCompression>) -> Self {
        self.config.engine.http_compression = config;
        self
    }
}
