//! The Redis Streams mode: a cluster that speaks the protocol of Node's
//! `@socket.io/redis-streams-adapter` 0.3.x and keeps the log and sessions
//! connection state recovery needs across nodes.
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use roomcast_cluster_redis::RedisStreamsCluster;
//! let cluster = RedisStreamsCluster::builder("redis://127.0.0.1:6379")
//!     .stream("socket.io")
//!     .build()
//!     .await?;
//! // roomcast_socketio::Server::builder().cluster(cluster).recovery(..).build();
//! # Ok(()) }
//! ```
//!
//! # Protocol (Node's, see its source)
//!
//! - **One stream** (`socket.io` by default) for every namespace. Broadcasts
//!   without acks, room changes and disconnects are appended with
//!   `XADD <stream> MAXLEN ~ <max_len> * uid <uid> nsp <nsp> type <t> data
//!   <data>` (module `entry`); the entry id is the broadcast's offset.
//! - **Pub/sub**: each node subscribes to `<prefix>#<nsp>#` and
//!   `<prefix>#<nsp>#<uid>#`; the number of subscribers of the first is the
//!   node count (Node's `serverCount`). Broadcasts with acks, server-side
//!   emits and fetches go to the first as MessagePack `{uid, nsp, type,
//!   data}`, their answers to the requester's own channel (module
//!   `ephemeral`); they are not stored.
//! - **Sessions**: `SET <session_prefix><pid> base64(msgpack {sid, pid,
//!   rooms, data}) PX <ms>`; a restore takes it with `MULTI GET DEL`, checks
//!   the offset is still in the stream (`XRANGE off off`) and reads the
//!   entries after it (`XRANGE`, 100 at a time, at most 100 pages, as Node).
//!
//! # Semantics
//!
//! - **Ordering**: one reader task per node reads the stream with
//!   `XREAD BLOCK` and hands every entry, in stream order, to the namespace
//!   it names; broadcasts go through `RemoteHandler::logged`, this node's own
//!   included, so a layer that delivers only what it reads back shows every
//!   client of every node the same order. Room changes and disconnects of
//!   other nodes go through `RemoteHandler::handle`; this node's own are
//!   skipped (applied before they were appended).
//! - **Writes** go through one bounded queue, sent in order as pipelines;
//!   a write that finds the queue full, or fails, is counted in `dropped`;
//!   a broadcast appended through the log is then delivered on this node
//!   anyway, without offset (Node does the same when XADD fails).
//! - **Faults**: the reader reconnects with backoff; when the stream came
//!   back shorter (Redis restarted and lost it) it reads from its new end.
//!   Sessions lost with Redis are simply not found: the client gets a fresh
//!   session, never half of one.
//! - **Hostile input**: an entry or session that does not decode is skipped
//!   (counted in `skipped`).

mod entry;
mod ephemeral;
mod log;
mod reply;
mod tasks;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use roomcast_core::cluster::log::SessionLog;
use roomcast_core::cluster::{Cluster, ClusterError, NodeId, RemoteHandler, Request, Responses};
use roomcast_core::{Flags, Frame, Target};
use tokio::sync::mpsc;

use crate::node::{self, NodeState, Presence};
use crate::{LinkStats, RedisClusterError};

/// Entries per XRANGE page and per XREAD.
const PAGE: usize = 100;

#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub stream: String,
    pub channel_prefix: String,
    pub session_prefix: String,
    pub max_len: usize,
    pub block: Duration,
    pub heartbeat_interval: Duration,
    pub connect_timeout: Duration,
    pub publish_queue: usize,
}

/// One write, sent in queue order.
pub(crate) enum Write {
    Add(entry::Fields),
    /// A broadcast appended through the log: if it cannot be written, it
    /// is delivered on this node anyway (without offset), as Node does.
    Logged {
        scope: String,
        target: Target,
        flags: Flags,
        frames: Vec<Frame>,
        fields: entry::Fields,
    },
    Session {
        key: String,
        value: String,
        ttl_ms: u64,
    },
    Publish {
        channel: String,
        payload: Vec<u8>,
    },
}

pub(crate) struct Shared {
    pub node: NodeState,
    pub options: Options,
    pub out: mpsc::Sender<Write>,
    pub read_from: Mutex<Option<String>>,
    pub requests_timeout: Duration,
    pub resubscribe: mpsc::Sender<()>,
    pub resubscribe_rx: Mutex<Option<mpsc::Receiver<()>>>,
}

impl Presence for Shared {
    fn node(&self) -> &NodeState {
        &self.node
    }

    /// The public channel: Node's `serverCount`. The count is asked through
    /// the command connection whatever the reader's state.
    fn presence_channel(&self, scope: &str) -> String {
        self.public_channel(scope)
    }
}

impl Shared {
    fn write(&self, w: Write) {
        if let Err(e) = self.out.try_send(w) {
            self.node.stats.dropped.fetch_add(1, Ordering::Relaxed);
            let (mpsc::error::TrySendError::Full(w) | mpsc::error::TrySendError::Closed(w)) = e;
            self.not_written(w);
        }
    }

    /// A write that did not happen: a broadcast appended through the log
    /// is delivered here, without offset (not stored).
    pub(crate) fn not_written(&self, w: Write) {
        if let Write::Logged {
            scope,
            target,
            flags,
            frames,
            ..
        } = w
        {
            if let Some(h) = self.node.handler(&scope) {
                let request = Request::Broadcast {
                    target,
                    flags,
                    frames,
                };
                let uid = self.node.uid.clone();
                tokio::spawn(async move {
                    let (reply, _) = mpsc::channel(1);
                    h.handle(uid, request, reply).await;
                });
            }
        }
    }

    pub fn public_channel(&self, scope: &str) -> String {
        format!("{}#{}#", self.options.channel_prefix, scope)
    }

    pub fn private_channel(&self, scope: &str) -> String {
        format!(
            "{}#{}#{}#",
            self.options.channel_prefix, scope, self.node.uid
        )
    }
}

/// A roomcast node in a cluster linked by one Redis stream, speaking the
/// protocol of Node's `@socket.io/redis-streams-adapter` 0.3.x. See the
/// [module docs](self).
pub struct RedisStreamsCluster {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for RedisStreamsCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStreamsCluster")
            .field("uid", &self.shared.node.uid)
            .field("stream", &self.shared.options.stream)
            .finish()
    }
}

/// Builds a [`RedisStreamsCluster`].
#[derive(Debug)]
pub struct RedisStreamsClusterBuilder {
    url: String,
    options: Options,
}

impl RedisStreamsCluster {
    /// A builder for a node linked through the Redis at `url`.
    pub fn builder(url: impl Into<String>) -> RedisStreamsClusterBuilder {
        RedisStreamsClusterBuilder {
            url: url.into(),
            options: Options {
                stream: "socket.io".into(),
                channel_prefix: "socket.io".into(),
                session_prefix: "sio:session:".into(),
                max_len: 10_000,
                block: Duration::from_secs(1),
                heartbeat_interval: Duration::from_secs(1),
                connect_timeout: Duration::from_secs(2),
                publish_queue: 8192,
            },
        }
    }

    /// This node's uid on the wire.
    pub fn uid(&self) -> &NodeId {
        &self.shared.node.uid
    }

    /// The state and counters of the Redis link.
    pub fn stats(&self) -> LinkStats {
        self.shared.node.link_stats()
    }
}

impl RedisStreamsClusterBuilder {
    /// The stream's name (default `socket.io`, Node's `streamName`).
    pub fn stream(mut self, name: impl Into<String>) -> Self {
        self.options.stream = name.into();
        self
    }

    /// The prefix of the pub/sub channels (default `socket.io`, Node's
    /// `channelPrefix`).
    pub fn channel_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.options.channel_prefix = prefix.into();
        self
    }

    /// The prefix of session keys (default `sio:session:`, Node's
    /// `sessionKeyPrefix`).
    pub fn session_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.options.session_prefix = prefix.into();
        self
    }

    /// About how many entries the stream keeps (default 10 000, Node's
    /// `maxLen`).
    pub fn max_len(mut self, len: usize) -> Self {
        self.options.max_len = len.max(1);
        self
    }

    /// How often the live nodes are counted (default 1 s).
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.options.heartbeat_interval = interval;
        self
    }

    /// Connects and starts reading the stream from its current end. Fails
    /// when Redis cannot be reached now. Must be called inside a tokio
    /// runtime.
    pub async fn build(self) -> Result<Arc<RedisStreamsCluster>, RedisClusterError> {
        let timeout = self.options.connect_timeout;
        let heartbeat = self.options.heartbeat_interval;
        let (client, conn) = crate::connect(&self.url, timeout).await?;
        let (out, queue) = mpsc::channel(self.options.publish_queue);
        let (resubscribe, resubscribe_rx) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            node: NodeState::new(conn.clone()),
            options: self.options,
            out,
            read_from: Mutex::new(None),
            requests_timeout: Duration::from_secs(5),
            resubscribe,
            resubscribe_rx: Mutex::new(Some(resubscribe_rx)),
        });
        let weak = Arc::downgrade(&shared);
        let (ready_tx, ready) = tokio::sync::oneshot::channel();
        let tasks = vec![
            tokio::spawn(tasks::run_reader(client.clone(), weak.clone(), ready_tx)).abort_handle(),
            tokio::spawn(tasks::run_writer(conn, queue, weak.clone())).abort_handle(),
            tokio::spawn(tasks::run_subscriber(client, weak.clone())).abort_handle(),
            tokio::spawn(node::run_liveness(weak, heartbeat)).abort_handle(),
        ];
        shared.node.start(tasks, ready, timeout).await?;
        Ok(Arc::new(RedisStreamsCluster { shared }))
    }
}

#[async_trait]
impl Cluster for RedisStreamsCluster {
    node::cluster_identity!();

    fn publish(&self, scope: &str, request: Request) -> Result<(), ClusterError> {
        let uid = self.shared.node.uid.as_str();
        let fields = match &request {
            Request::Broadcast {
                target,
                flags,
                frames,
            } => entry::broadcast(uid, scope, target, *flags, frames)
                .map_err(|e| ClusterError::Encoding(e.to_string()))?,
            Request::AddRooms { target, rooms } => entry::rooms(uid, scope, true, target, rooms),
            Request::RemoveRooms { target, rooms } => {
                entry::rooms(uid, scope, false, target, rooms)
            }
            Request::Disconnect {
                target,
                close_connection,
            } => entry::disconnect(uid, scope, target, *close_connection),
            _ => {
                if let Some((msg, _)) =
                    ephemeral::encode_request(&self.shared, scope, &request, None)
                {
                    self.shared.write(Write::Publish {
                        channel: self.shared.public_channel(scope),
                        payload: crate::wire::encode_msgpack(&msg),
                    });
                }
                return Ok(());
            }
        };
        self.shared.write(Write::Add(fields));
        Ok(())
    }

    async fn request(&self, scope: &str, request: Request) -> Result<Responses, ClusterError> {
        let s = &self.shared;
        let id = s.node.new_request_id();
        let Some((msg, kind)) = ephemeral::encode_request(s, scope, &request, Some(&id)) else {
            self.publish(scope, request)?;
            return Ok(Responses::none());
        };
        let payload = crate::wire::encode_msgpack(&msg);
        let channel = s.public_channel(scope);
        let Some(kind) = kind else {
            s.write(Write::Publish { channel, payload });
            return Ok(Responses::none());
        };
        let servers = s
            .node
            .subscribers(&channel)
            .await
            .map_err(|e| ClusterError::Unavailable(e.to_string()))?;
        let nodes = servers.saturating_sub(1);
        if nodes == 0 {
            return Ok(Responses::none());
        }
        let responses = s
            .node
            .pending
            .expect(id, scope, kind, &request, nodes, s.requests_timeout);
        s.write(Write::Publish { channel, payload });
        Ok(responses)
    }

    fn attach(&self, scope: &str, handler: Arc<dyn RemoteHandler>) {
        if self.shared.node.attach(scope, handler) {
            tasks::resubscribe(&self.shared);
        }
    }

    fn detach(&self, scope: &str) {
        if self.shared.node.detach(scope) {
            tasks::resubscribe(&self.shared);
        }
    }

    fn log(&self) -> Option<Arc<dyn SessionLog>> {
        Some(Arc::new(log::StreamLog(self.shared.clone())))
    }
}
