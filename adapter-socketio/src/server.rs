//! The Socket.IO server: namespaces on top of an Engine.IO engine.
//!
//! The server is an Engine.IO [`Handler`]: each engine connection becomes a
//! [`Client`] that decodes packets and routes them to its sockets. Its
//! namespaces are in a [`NamespaceRegistry`]: `/` always exists; others are
//! created with [`Server::of`], or on first connection for names accepted
//! by [`Server::of_matching`].

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use roomcast_core::cluster::{Cluster, LocalOnly};
use roomcast_core::{CloseReason, Frame};
use roomcast_engineio::{Engine, EngineConfig, Handler};
use tokio::net::TcpListener;

use crate::client::Client;
use crate::parser::{JsonParser, Parser};
use crate::registry::NamespaceRegistry;
use crate::state::AppState;
use crate::{Namespace, RecoveryConfig};

mod engine_options;

/// Server options. The defaults are the reference server's.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// How long a connection may stay without joining a namespace (45 s).
    pub connect_timeout: Duration,
    /// The most rooms one socket may be in, its own included (1000); a
    /// join beyond is refused and logged.
    pub max_rooms_per_socket: usize,
    /// The longest event name accepted, in bytes (256); a longer one closes
    /// the connection with "parse error".
    pub max_event_name_len: usize,
    /// The engine's options; its `path` defaults to `/socket.io/` here.
    pub engine: EngineConfig,
    /// Connection state recovery (off): see [`RecoveryConfig`].
    pub recovery: Option<RecoveryConfig>,
    /// Whether a namespace created by a dynamic matcher is removed when its
    /// last socket leaves (false, as Node's `cleanupEmptyChildNamespaces`).
    pub cleanup_empty_child_namespaces: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            connect_timeout: Duration::from_millis(45_000),
            max_rooms_per_socket: 1000,
            max_event_name_len: 256,
            engine: EngineConfig {
                path: "/socket.io/".to_string(),
                ..EngineConfig::default()
            },
            recovery: None,
            cleanup_empty_child_namespaces: false,
        }
    }
}

/// Builds a [`Server`].
///
/// ```
/// use std::time::Duration;
/// let io = roomcast_socketio::Server::builder()
///     .connect_timeout(Duration::from_secs(10))
///     .engine(|e| e.ping_interval = Duration::from_secs(20))
///     .build();
/// assert_eq!(io.engine().config().path, "/socket.io/");
/// ```
pub struct ServerBuilder {
    config: ServerConfig,
    parser: Arc<dyn Parser>,
    cluster: Arc<dyn Cluster>,
    state: AppState,
}

impl ServerBuilder {
    /// Where the server is mounted (default `/socket.io/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.config.engine.path = path.into();
        self
    }

    /// How long a connection may stay without joining a namespace.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// The most rooms one socket may be in (default 1000).
    pub fn max_rooms_per_socket(mut self, max: usize) -> Self {
        self.config.max_rooms_per_socket = max;
        self
    }

    /// The longest event name accepted, in bytes (default 256).
    pub fn max_event_name_len(mut self, max: usize) -> Self {
        self.config.max_event_name_len = max;
        self
    }

    /// Changes the engine's options (heartbeat, limits, CORS, transports…).
    pub fn engine(mut self, change: impl FnOnce(&mut EngineConfig)) -> Self {
        change(&mut self.config.engine);
        self
    }

    /// Turns connection state recovery on: a client whose connection was
    /// lost gets its socket back (id, rooms, data) and every event it
    /// missed, within `config.max_disconnection_duration`.
    pub fn recovery(mut self, config: RecoveryConfig) -> Self {
        self.config.recovery = Some(config);
        self
    }

    /// Removes a namespace created by a dynamic matcher
    /// ([`Server::of_matching`]) when its last socket leaves (Node's
    /// `cleanupEmptyChildNamespaces`); otherwise children stay for the
    /// server's life and grow with every name clients try.
    pub fn cleanup_empty_child_namespaces(mut self) -> Self {
        self.config.cleanup_empty_child_namespaces = true;
        self
    }

    /// Serves the JavaScript client under the server's path, as Node's
    /// `serveClient`: `socket.io.js`, `socket.io.min.js`,
    /// `socket.io.esm.min.js`, the msgpack build and their source maps,
    /// read now from `dist` (npm `socket.io-client`'s `dist/` directory),
    /// with the package version as `ETag` and 304 for a matching
    /// `If-None-Match`. `Err` when `dist` holds none of them.
    ///
    /// ```no_run
    /// let io = roomcast_socketio::Server::builder()
    ///     .serve_client("node_modules/socket.io-client/dist")?
    ///     .build();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn serve_client(mut self, dist: impl AsRef<std::path::Path>) -> std::io::Result<Self> {
        self.config.engine.static_files = Some(crate::client_files::load(dist.as_ref())?);
        Ok(self)
    }

    /// The packet codec (default: JSON, compatible with the reference).
    pub fn parser(mut self, parser: impl Parser) -> Self {
        self.parser = Arc::new(parser);
        self
    }

    /// The cluster that non-local operations are forwarded to.
    pub fn cluster(mut self, cluster: Arc<dyn Cluster>) -> Self {
        self.cluster = cluster;
        self
    }

    /// Adds a value to the application's state, one per type, read from
    /// any socket with [`Socket::state`](crate::Socket::state) (and from
    /// [`Namespace::state`] or [`Server::state`]): handlers need not capture
    /// anything.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use roomcast_socketio::{Server, Socket};
    ///
    /// #[derive(Default)]
    /// struct Visits(AtomicU64);
    ///
    /// let io = Server::builder().state(Visits::default()).build();
    /// io.on_connect(|socket: Socket| async move {
    ///     socket.state::<Visits>().0.fetch_add(1, Ordering::Relaxed);
    /// });
    /// assert_eq!(io.state::<Visits>().0.load(Ordering::Relaxed), 0);
    /// ```
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }

    /// The server.
    pub fn build(self) -> Server {
        let namespaces = NamespaceRegistry::new(
            self.cluster,
            self.config.max_rooms_per_socket,
            self.config.recovery.clone(),
            self.parser.clone(),
            Arc::new(self.state),
            self.config.cleanup_empty_child_namespaces,
        );
        let inner = Arc::new(Inner {
            config: self.config.clone(),
            namespaces: Arc::new(namespaces),
            parser: self.parser,
            engine: OnceLock::new(),
            main: OnceLock::new(),
        });
        let handler = EngineHandler(Arc::downgrade(&inner));
        let engine = Engine::with_handler(self.config.engine, Arc::new(handler));
        let _ = inner.engine.set(engine);
        let server = Server(inner);
        let main = server.of("/");
        let _ = server.0.main.set(main);
        server
    }
}

struct Inner {
    config: ServerConfig,
    namespaces: Arc<NamespaceRegistry>,
    parser: Arc<dyn Parser>,
    engine: OnceLock<Engine>,
    main: OnceLock<Namespace>,
}

/// The server as the engine sees it: one [`Client`] per connection.
struct EngineHandler(Weak<Inner>);

impl Handler for EngineHandler {
    type Session = Option<Arc<Client>>;

    fn on_open(&self, conn: &Arc<roomcast_engineio::Socket>) -> Option<Arc<Client>> {
        let server = self.0.upgrade()?;
        let client = Arc::new(Client::new(
            conn.clone(),
            server.parser.decoder(),
            Arc::downgrade(&server.namespaces),
            server.config.max_event_name_len,
        ));
        // Closed unless it joins a namespace in time (cancelled at the
        // first join; the engine's heartbeat timer keeps the time).
        conn.expire_at(Some(
            std::time::Instant::now() + server.config.connect_timeout,
        ));
        client.opened();
        Some(client)
    }

    fn on_message(
        &self,
        _: &Arc<roomcast_engineio::Socket>,
        client: &Option<Arc<Client>>,
        message: Frame,
    ) -> Result<(), CloseReason> {
        match client {
            Some(client) => client.receive(message),
            None => Ok(()),
        }
    }

    fn on_close(
        &self,
        _: &Arc<roomcast_engineio::Socket>,
        client: &Option<Arc<Client>>,
        reason: CloseReason,
    ) {
        if let Some(client) = client {
            client.closed(reason);
        }
    }
}

/// A [`Server`] handle that does not keep it alive.
#[cfg_attr(not(feature = "admin-ui"), allow(dead_code))]
#[derive(Clone)]
pub(crate) struct WeakServer(Weak<Inner>);

#[cfg_attr(not(feature = "admin-ui"), allow(dead_code))]
impl WeakServer {
    /// The server, unless it is gone.
    pub(crate) fn upgrade(&self) -> Option<Server> {
        self.0.upgrade().map(Server)
    }
}

/// A Socket.IO v5 server. Cheap to clone (a handle).
///
/// The methods Node has on `io` that act on the main namespace `/`
/// (`on_connect`, `use_middleware`, `emit`, `to`, `except`, `fetch_sockets`,
/// …) are here too and act on `/`; every other namespace method is on
/// [`Server::main`] or [`Server::of`].
///
/// ```no_run
/// use roomcast_socketio::{AckSender, Server, Socket};
///
/// # async fn run() -> std::io::Result<()> {
/// let io = Server::new();
/// io.on_connect(|socket: Socket| async move {
///     socket.on("hello", |socket: Socket, name: String, ack: AckSender| async move {
///         socket.emit("hello", &format!("hi {name}")).ok();
///         ack.send(&"done").ok();
///     });
/// });
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// io.serve(listener).await
/// # }
/// ```
#[derive(Clone)]
pub struct Server(Arc<Inner>);

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("namespaces", &self.0.namespaces.len())
            .finish()
    }
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

impl Server {
    /// A server with the default options.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder for options.
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            config: ServerConfig::default(),
            parser: Arc::new(JsonParser::new()),
            cluster: Arc::new(LocalOnly::new()),
            state: AppState::default(),
        }
    }

    /// The namespace `name`, created if needed.
    pub fn of(&self, name: &str) -> Namespace {
        let name = if name.is_empty() { "/" } else { name };
        self.0.namespaces.of(name)
    }

    /// A dynamic namespace: every name `matches` accepts is created on its
    /// first connection, with the handlers and middlewares registered on
    /// the returned template.
    pub fn of_matching(&self, matches: impl Fn(&str) -> bool + Send + Sync + 'static) -> Namespace {
        self.0.namespaces.of_matching(matches)
    }

    /// A namespace that exists, static or already created dynamically.
    pub fn namespace(&self, name: &str) -> Option<Namespace> {
        self.0.namespaces.get(name)
    }

    /// The main namespace `/` (Node's `io.sockets`).
    pub fn main(&self) -> Namespace {
        self.main_ns().clone()
    }

    pub(crate) fn main_ns(&self) -> &Namespace {
        self.0
            .main
            .get()
            .expect("the main namespace is created at build time")
    }

    /// A handle that does not keep the server alive.
    #[cfg_attr(not(feature = "admin-ui"), allow(dead_code))]
    pub(crate) fn downgrade(&self) -> WeakServer {
        WeakServer(Arc::downgrade(&self.0))
    }

    /// Every namespace and the server's hooks.
    #[cfg_attr(not(any(feature = "admin-ui", feature = "metrics")), allow(dead_code))]
    pub(crate) fn registry(&self) -> &Arc<NamespaceRegistry> {
        &self.0.namespaces
    }

    /// The engine underneath (sessions, transports, options).
    pub fn engine(&self) -> &Engine {
        self.0
            .engine
            .get()
            .expect("the engine is set at build time")
    }

    /// This server as a tower / hyper service (mount it at its path).
    pub fn service(&self) -> roomcast_engineio::EngineService {
        self.engine().service()
    }

    /// A tower layer: the server at its path, everything else to the host.
    pub fn layer(&self) -> roomcast_engineio::EngineLayer {
        self.engine().layer()
    }

    /// Serves HTTP/1.1 on `listener`: the server at its path, 404 elsewhere.
    pub async fn serve(&self, listener: TcpListener) -> std::io::Result<()> {
        self.engine().clone().serve(listener).await
    }

    /// Shuts down gracefully: stops accepting, disconnects every socket with
    /// "server shutting down", lets each connection flush what was queued
    /// before it (then a close packet), and returns once all are gone or
    /// `grace` has passed.
    pub async fn shutdown(&self, grace: Duration) {
        for ns in self.0.namespaces.all() {
            for id in ns.sockets() {
                if let Some(socket) = ns.socket(id) {
                    socket.close(crate::DisconnectReason::ServerShuttingDown);
                }
            }
        }
        self.engine().shutdown(grace).await;
    }
}
