//! What a node keeps and does alike in both modes (pub/sub,
//! [`RedisCluster`](crate::RedisCluster), and streams,
//! [`RedisStreamsCluster`](crate::RedisStreamsCluster)).
//!
//! - [`NodeState`]: the node's uid, the namespaces attached to it, the
//!   managed command connection, the link's state and counters, the
//!   requests waiting for answers and the node's background tasks, which
//!   are aborted when the state is dropped (the last handle to the node
//!   went away).
//! - [`run_liveness`]: every heartbeat interval, the node count (the
//!   subscribers of the main namespace's presence channel, Node's
//!   `serverCount`), and for namespaces with waiting requests, how many
//!   other nodes can still answer. A node that counts itself alone
//!   ([`Presence::alone`]: its link is down) asks Redis nothing.
//! - [`cluster_identity!`]: the [`Cluster`](roomcast_core::cluster::Cluster)
//!   methods both nodes answer from their state alone.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use redis::aio::ConnectionManager;
use roomcast_core::cluster::{NodeId, RemoteHandler};
use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use crate::pending::PendingRequests;
use crate::{LinkStats, RedisClusterError};

/// What a node counted of its link (see [`LinkStats`]).
#[derive(Default)]
pub(crate) struct Counters {
    pub dropped: AtomicU64,
    pub skipped: AtomicU64,
    pub reconnects: AtomicU64,
}

/// The state a node of either mode keeps (see the module docs).
pub(crate) struct NodeState {
    /// This node's uid on the wire.
    pub uid: NodeId,
    handlers: RwLock<HashMap<String, Arc<dyn RemoteHandler>>>,
    /// The managed command connection (reconnects by itself).
    pub conn: ConnectionManager,
    /// Whether the link that reads from Redis is up.
    pub connected: AtomicBool,
    /// The last node count, this one included; 1 when unknown.
    pub nodes: AtomicUsize,
    pub pending: PendingRequests,
    requests: AtomicU64,
    pub stats: Counters,
    tasks: Mutex<Vec<AbortHandle>>,
}

impl Drop for NodeState {
    fn drop(&mut self) {
        for t in self.tasks.get_mut().drain(..) {
            t.abort();
        }
    }
}

impl NodeState {
    /// A node with a fresh uid, alone, its link not yet up.
    pub fn new(conn: ConnectionManager) -> Self {
        NodeState {
            uid: NodeId::random(),
            handlers: RwLock::new(HashMap::new()),
            conn,
            connected: AtomicBool::new(false),
            nodes: AtomicUsize::new(1),
            pending: PendingRequests::default(),
            requests: AtomicU64::new(0),
            stats: Counters::default(),
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// Keeps `tasks` (aborted when the node is dropped) and waits up to
    /// `wait` for `ready`: the node's link is up.
    pub async fn start<T>(
        &self,
        tasks: Vec<AbortHandle>,
        ready: oneshot::Receiver<T>,
        wait: Duration,
    ) -> Result<(), RedisClusterError> {
        *self.tasks.lock() = tasks;
        match tokio::time::timeout(wait, ready).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) | Err(_) => Err(RedisClusterError::Timeout),
        }
    }

    /// The handler of the attached namespace `scope`.
    pub fn handler(&self, scope: &str) -> Option<Arc<dyn RemoteHandler>> {
        self.handlers.read().get(scope).cloned()
    }

    /// The attached namespaces.
    pub fn scopes(&self) -> Vec<String> {
        self.handlers.read().keys().cloned().collect()
    }

    /// Attaches `scope`; true when it was not attached before.
    pub fn attach(&self, scope: &str, handler: Arc<dyn RemoteHandler>) -> bool {
        let mut handlers = self.handlers.write();
        handlers.insert(scope.to_string(), handler).is_none()
    }

    /// Detaches `scope`; true when it was attached.
    pub fn detach(&self, scope: &str) -> bool {
        self.handlers.write().remove(scope).is_some()
    }

    /// A number this node has not given before (for request ids).
    pub fn next_request(&self) -> u64 {
        self.requests.fetch_add(1, Ordering::Relaxed)
    }

    /// A request id unique on the wire: the uid and a number.
    pub fn new_request_id(&self) -> String {
        format!("{}{}", self.uid, self.next_request())
    }

    /// The last node count, this one included.
    pub fn node_count(&self) -> usize {
        self.nodes.load(Ordering::Relaxed).max(1)
    }

    /// The link's state and counters.
    pub fn link_stats(&self) -> LinkStats {
        let c = &self.stats;
        LinkStats {
            connected: self.connected.load(Ordering::Acquire),
            dropped: c.dropped.load(Ordering::Relaxed),
            skipped: c.skipped.load(Ordering::Relaxed),
            reconnects: c.reconnects.load(Ordering::Relaxed),
        }
    }

    /// The subscribers of `channel` (`PUBSUB NUMSUB`).
    pub async fn subscribers(&self, channel: &str) -> redis::RedisResult<usize> {
        let mut conn = self.conn.clone();
        let reply: Vec<(String, usize)> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(channel)
            .query_async(&mut conn)
            .await?;
        Ok(reply.first().map_or(0, |(_, n)| *n))
    }
}

/// What the liveness loop needs of a node.
pub(crate) trait Presence: Send + Sync + 'static {
    fn node(&self) -> &NodeState;

    /// The channel whose subscribers are the servers of namespace `scope`.
    fn presence_channel(&self, scope: &str) -> String;

    /// Whether the node counts itself alone now, without asking Redis.
    fn alone(&self) -> bool {
        false
    }
}

/// The liveness loop (see the module docs); ends when the node is dropped.
pub(crate) async fn run_liveness<S: Presence>(shared: Weak<S>, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(s) = shared.upgrade() else { return };
        let node = s.node();
        node.pending.expire(Instant::now());
        if s.alone() {
            node.nodes.store(1, Ordering::Relaxed);
            continue;
        }
        let count = node.subscribers(&s.presence_channel("/")).await;
        node.nodes
            .store(count.unwrap_or(1).max(1), Ordering::Relaxed);
        for scope in node.pending.scopes() {
            if let Ok(n) = node.subscribers(&s.presence_channel(&scope)).await {
                node.pending.lower_expected(&scope, n.saturating_sub(1));
            }
        }
    }
}

/// The [`Cluster`](roomcast_core::cluster::Cluster) methods a node answers
/// from its [`NodeState`] alone, for a type whose `shared` has it as
/// `node`: its uid, that it forwards, and the last node count.
macro_rules! cluster_identity {
    () => {
        fn node_id(&self) -> roomcast_core::cluster::NodeId {
            self.shared.node.uid.clone()
        }

        fn forwards(&self) -> bool {
            true
        }

        fn node_count(&self) -> usize {
            self.shared.node.node_count()
        }
    };
}
pub(crate) use cluster_identity;
