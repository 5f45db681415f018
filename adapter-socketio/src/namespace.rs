//! Namespaces: independent sets of sockets and rooms on one server.
//!
//! Each namespace owns a [`Hub`] (its rooms and broadcast), its middlewares
//! (run in order for every socket that connects; the first rejection sends
//! CONNECT_ERROR with its message and data) and its connect handler.
//! Broadcast operators on a namespace go through its hub, so they reach
//! other nodes once a cluster is configured.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicIsize, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use parking_lot::RwLock;
use roomcast_core::cluster::{Request, Response};
use roomcast_core::{ClientId, Hub, IdHasher, Room};
use serde::Serialize;

use crate::entry_points::entry_points;
use crate::socket::ConnectFn;
use crate::state::{AppState, SharedState};
use crate::{BroadcastOperator, ConnectError, EmitError, Socket};

/// A namespace. Cheap to clone (a handle).
///
/// ```no_run
/// # fn f(io: roomcast_socketio::Server) {
/// let chat = io.of("/chat");
/// chat.use_middleware(|socket| async move {
///     match socket.handshake().auth.get("token").and_then(|t| t.as_str()) {
///         Some("secret") => Ok(()),
///         _ => Err(roomcast_socketio::ConnectError::new("unauthorized")),
///     }
/// });
/// chat.on_connect(|socket| async move {
///     socket.emit("welcome", "to the chat").ok();
/// });
/// # }
/// ```
#[derive(Clone)]
pub struct Namespace(Arc<Inner>);

pub(crate) struct Inner {
    name: String,
    hub: Hub,
    sockets: DashMap<ClientId, Socket, IdHasher>,
    connect: RwLock<Vec<ConnectFn>>,
    middlewares: RwLock<Vec<ConnectFn>>,
    ack_ids: AtomicU64,
    outgoing_listeners: AtomicIsize,
    server_events: crate::server_events::ServerEventHandlers,
    recovery: std::sync::OnceLock<Arc<crate::recovery::Recovery>>,
    /// The server's packet codec: everything sent on this namespace.
    parser: Arc<dyn crate::parser::Parser>,
    observers: std::sync::OnceLock<Arc<crate::observe::Observers>>,
    state: std::sync::OnceLock<SharedState>,
    /// A dynamic template's children (Node's parent namespace).
    children: DashMap<String, Namespace>,
    /// Called when the last socket of a child namespace left, if the
    /// server cleans up empty children.
    on_empty: std::sync::OnceLock<OnEmpty>,
}

/// The name of a dynamic template, which has no sockets of its own.
pub(crate) const TEMPLATE_NAME: &str = "(dynamic)";

/// What a child namespace calls when its last socket left.
pub(crate) type OnEmpty = Box<dyn Fn(&Namespace) + Send + Sync>;

impl std::fmt::Debug for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Namespace")
            .field("name", &self.0.name)
            .field("sockets", &self.0.sockets.len())
            .finish()
    }
}

impl Namespace {
    pub(crate) fn new(name: &str, hub: Hub, parser: Arc<dyn crate::parser::Parser>) -> Self {
        Namespace(Arc::new(Inner {
            name: name.to_string(),
            hub,
            sockets: DashMap::default(),
            connect: RwLock::new(Vec::new()),
            middlewares: RwLock::new(Vec::new()),
            ack_ids: AtomicU64::new(0),
            outgoing_listeners: AtomicIsize::new(0),
            server_events: Default::default(),
            recovery: std::sync::OnceLock::new(),
            parser,
            observers: std::sync::OnceLock::new(),
            state: std::sync::OnceLock::new(),
            children: DashMap::new(),
            on_empty: std::sync::OnceLock::new(),
        }))
    }

    /// A namespace with the same handlers (for a dynamic namespace's child).
    pub(crate) fn child(&self, name: &str, hub: Hub) -> Self {
        let child = Namespace::new(name, hub, self.0.parser.clone());
        *child.0.connect.write() = self.0.connect.read().clone();
        *child.0.middlewares.write() = self.0.middlewares.read().clone();
        self.0.children.insert(name.to_string(), child.clone());
        child
    }

    pub(crate) fn downgrade(&self) -> std::sync::Weak<Inner> {
        Arc::downgrade(&self.0)
    }

    pub(crate) fn upgrade(weak: &std::sync::Weak<Inner>) -> Option<Namespace> {
        weak.upgrade().map(Namespace)
    }

    /// A child removed from the server: its parent forgets it.
    pub(crate) fn forget_child(&self, name: &str) {
        self.0.children.remove(name);
    }

    pub(crate) fn set_on_empty(&self, on_empty: OnEmpty) {
        let _ = self.0.on_empty.set(on_empty);
    }

    /// The namespaces a dynamic template (from
    /// [`Server::of_matching`](crate::Server::of_matching)) created so far
    /// and that still exist; empty for any other namespace.
    pub fn children(&self) -> Vec<Namespace> {
        self.0.children.iter().map(|c| c.value().clone()).collect()
    }

    /// The name, e.g. `/` or `/chat`.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The namespace's rooms and broadcast (roomcast-core).
    pub fn hub(&self) -> &Hub {
        &self.0.hub
    }

    /// Runs `handler(socket)` for every socket that connects. Handlers it
    /// registers are in place before any event of that socket is handled.
    /// Several connect handlers run in registration order, each after the
    /// previous one returned (Node's several `on("connection")` listeners).
    pub fn on_connect<F, Fut>(&self, handler: F)
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let f: ConnectFn = Arc::new(move |socket| {
            let fut = handler(socket);
            Box::pin(async move {
                fut.await;
                Ok(())
            })
        });
        self.0.connect.write().push(f);
    }

    /// Adds a middleware, run for every connecting socket before the
    /// connect handler; `Err` refuses the connection with CONNECT_ERROR.
    pub fn use_middleware<F, Fut>(&self, middleware: F)
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
    {
        self.0
            .middlewares
            .write()
            .push(Arc::new(move |socket| Box::pin(middleware(socket))));
    }

    pub(crate) fn middlewares(&self) -> Vec<ConnectFn> {
        self.0.middlewares.read().clone()
    }

    pub(crate) fn connect_handlers(&self) -> Vec<ConnectFn> {
        self.0.connect.read().clone()
    }

    pub(crate) fn set_recovery(&self, recovery: Arc<crate::recovery::Recovery>) {
        let _ = self.0.recovery.set(recovery);
    }

    pub(crate) fn set_observers(&self, observers: Arc<crate::observe::Observers>) {
        let _ = self.0.observers.set(observers);
    }

    /// The server's hooks (none on a dynamic namespace's template).
    pub(crate) fn observers(&self) -> Option<&Arc<crate::observe::Observers>> {
        self.0.observers.get()
    }

    pub(crate) fn set_state(&self, state: SharedState) {
        let _ = self.0.state.set(state);
    }

    pub(crate) fn app_state(&self) -> &AppState {
        static NONE: std::sync::LazyLock<AppState> = std::sync::LazyLock::new(AppState::default);
        self.0.state.get().map_or(&*NONE, |s| s)
    }

    /// The application's value of type `T`, given to
    /// [`ServerBuilder::state`](crate::ServerBuilder::state).
    ///
    /// # Panics
    ///
    /// When the builder was given no `T` (see [`Namespace::try_state`]).
    pub fn state<T: Send + Sync + 'static>(&self) -> &T {
        self.app_state().expect::<T>()
    }

    /// The application's value of type `T`, if the builder was given one.
    pub fn try_state<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.app_state().get::<T>()
    }

    /// Connection state recovery, when the server has it on.
    pub(crate) fn recovery(&self) -> Option<&Arc<crate::recovery::Recovery>> {
        self.0.recovery.get()
    }

    /// The server's packet codec.
    pub(crate) fn parser(&self) -> &dyn crate::parser::Parser {
        &*self.0.parser
    }

    pub(crate) fn next_ack_id(&self) -> u64 {
        self.0.ack_ids.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn server_events(&self) -> &crate::server_events::ServerEventHandlers {
        &self.0.server_events
    }

    pub(crate) fn outgoing_listeners(&self, delta: isize) {
        self.0
            .outgoing_listeners
            .fetch_add(delta, Ordering::Relaxed);
    }

    pub(crate) fn any_outgoing_listeners(&self) -> bool {
        self.0.outgoing_listeners.load(Ordering::Relaxed) > 0
    }

    pub(crate) fn insert(&self, socket: &Socket) -> bool {
        if self
            .0
            .hub
            .connect(socket.id(), socket.conn_outbox())
            .is_err()
        {
            return false;
        }
        self.0.sockets.insert(socket.id(), socket.clone());
        true
    }

    pub(crate) fn remove(&self, socket: &Socket) {
        self.0.hub.disconnect(socket.id());
        self.0.sockets.remove(&socket.id());
        // Asked only when someone listens: emptiness reads every shard.
        if let Some(on_empty) = self.0.on_empty.get() {
            if self.0.sockets.is_empty() {
                on_empty(self);
            }
        }
    }

    /// A connected socket of this namespace, on this node.
    pub fn socket(&self, id: ClientId) -> Option<Socket> {
        self.0.sockets.get(&id).map(|s| s.value().clone())
    }

    /// Number of sockets connected to this namespace on this node.
    pub fn len(&self) -> usize {
        self.0.sockets.len()
    }

    /// Whether no socket is connected on this node.
    pub fn is_empty(&self) -> bool {
        self.0.sockets.is_empty()
    }

    /// Broadcast operators, starting from every socket of the namespace.
    pub fn operator(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.clone())
    }

    entry_points! { operator =>
        /// Sockets in these rooms.
        to;

        /// Same as [`Namespace::to`].
        within;

        /// Every socket but those in these rooms.
        except;

        /// Only sockets on this node.
        local;

        /// May be dropped for clients that cannot take it now.
        volatile;

        /// Whether the events may be compressed (Node's `compress(false)`).
        compress;

        /// How long `emit_with_ack` waits.
        timeout;
    }

    /// Sends an event to every socket of the namespace. On a dynamic
    /// template (Node's parent namespace) it reaches the sockets of every
    /// child it created.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        for child in self.0.children.iter() {
            child.value().emit(event, data)?;
        }
        if self.0.name == TEMPLATE_NAME {
            return Ok(());
        }
        self.operator().emit(event, data)
    }

    entry_points! { operator =>
        /// Sends an event to every socket and collects their acknowledgements.
        emit_with_ack;

        /// Ids of every socket of the namespace on this node.
        sockets;

        /// Every socket of the namespace across the cluster; see
        /// [`BroadcastOperator::fetch_sockets`].
        fetch_sockets;

        /// Makes every socket join rooms.
        sockets_join;

        /// Makes every socket leave rooms.
        sockets_leave;

        /// Disconnects every socket from the namespace (their connections
        /// stay open for other namespaces).
        disconnect_sockets;

        /// Disconnects every socket and closes their connections (Node's
        /// `disconnectSockets(true)`).
        close_connections;
    }

    /// Every room of the namespace across the cluster, each socket's own
    /// room included (Node's `adapter.allRooms()`). Servers that do not
    /// answer within 5 s are left out.
    pub async fn all_rooms(&self) -> BTreeSet<Room> {
        let mut rooms: BTreeSet<Room> = self.hub().rooms().into_iter().collect();
        let request = Request::FetchRooms {
            request: self.next_ack_id(),
        };
        for response in self.ask_other_nodes(request, None).await {
            if let Response::Rooms { rooms: theirs, .. } = response {
                rooms.extend(theirs);
            }
        }
        rooms
    }

    /// How many servers the cluster has now, this one included (1 without
    /// a cluster).
    pub fn node_count(&self) -> usize {
        self.hub().cluster().node_count()
    }

    /// Sends `request` to every other node and gathers their answers until
    /// each answered once, the cluster gives up on the request, or `wait`
    /// (default 5 s) passes. Nothing without a cluster.
    pub(crate) async fn ask_other_nodes(
        &self,
        request: Request,
        wait: Option<Duration>,
    ) -> Vec<Response> {
        let cluster = self.hub().cluster();
        if !cluster.forwards() {
            return Vec::new();
        }
        let mut remote = match cluster.request(self.name(), request).await {
            Ok(remote) => remote,
            Err(e) => {
                tracing::warn!(error = %e, "cluster request not sent");
                return Vec::new();
            }
        };
        let mut answers = Vec::with_capacity(remote.nodes);
        let wait = wait.unwrap_or(Duration::from_secs(5));
        let _ = tokio::time::timeout(wait, async {
            while answers.len() < remote.nodes {
                match remote.answers.recv().await {
                    Some(envelope) => answers.push(envelope.body),
                    None => break,
                }
            }
        })
        .await;
        answers
    }
}
