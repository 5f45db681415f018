//! The node: its Redis link, attached namespaces, and the [`Cluster`]
//! implementation that turns our requests into Node's messages.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use redis::aio::PubSubSink;
use roomcast_core::cluster::{Cluster, ClusterError, NodeId, RemoteHandler, Request, Responses};
use serde_json::Value as Json;
use tokio::sync::mpsc;

use crate::channels::Channels;
use crate::link::{self, Outgoing};
use crate::node::{self, NodeState, Presence};
use crate::pending::Kind;
use crate::wire::{self, kind};
use crate::{LinkStats, RedisClusterError};

/// Options of a [`RedisCluster`]; see [`RedisClusterBuilder`].
#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub key: String,
    pub requests_timeout: Duration,
    pub heartbeat_interval: Duration,
    pub connect_timeout: Duration,
    pub publish_queue: usize,
    pub max_message_size: usize,
    pub specific_response_channel: bool,
}

/// What the tasks of a node share.
pub(crate) struct Shared {
    pub node: NodeState,
    pub options: Options,
    pub channels: Channels,
    pub out: mpsc::Sender<Outgoing>,
    pub sink: Mutex<Option<PubSubSink>>,
}

impl Presence for Shared {
    fn node(&self) -> &NodeState {
        &self.node
    }

    /// The request channel: Node's `serverCount`.
    fn presence_channel(&self, scope: &str) -> String {
        self.channels.request(scope)
    }

    /// While the subscriber link is down.
    fn alone(&self) -> bool {
        !self.node.connected.load(Ordering::Acquire)
    }
}

impl Shared {
    /// The link dropped: no answer can come, nothing can be sent.
    pub fn link_lost(&self) {
        self.node.connected.store(false, Ordering::Release);
        *self.sink.lock() = None;
        self.node.pending.clear();
        self.node.nodes.store(1, Ordering::Relaxed);
    }

    /// Queues a message; counted and dropped when the link is down or the
    /// queue full.
    pub fn send(&self, channel: String, payload: Vec<u8>) {
        if !self.node.connected.load(Ordering::Acquire)
            || self.out.try_send(Outgoing { channel, payload }).is_err()
        {
            self.node.stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Where this node publishes its answers to a request from `uid`.
    pub fn response_channel(&self, scope: &str, uid: &str) -> String {
        if self.options.specific_response_channel && !uid.is_empty() {
            self.channels.response_to(scope, uid)
        } else {
            self.channels.response(scope)
        }
    }

    /// Subscribers of the request channel of `scope`: the servers of that
    /// namespace, this one included (Node's `serverCount`).
    pub async fn server_count(&self, scope: &str) -> redis::RedisResult<usize> {
        self.node.subscribers(&self.presence_channel(scope)).await
    }

    /// Our request as Node's message: (channel, bytes, what answers it gets).
    fn encode(
        &self,
        scope: &str,
        request: &Request,
        request_id: Option<&str>,
    ) -> Result<(String, Vec<u8>, Option<Kind>), ClusterError> {
        let uid = self.node.uid.as_str();
        let req_channel = self.channels.request(scope);
        let json = |v: Json| (req_channel.clone(), wire::json_bytes(&v));
        let enc = |e: crate::packet::PacketError| ClusterError::Encoding(e.to_string());
        let (channel, bytes, kind) = match request {
            Request::Broadcast {
                target,
                flags,
                frames,
            } => {
                let packet = crate::packet::to_node(frames).map_err(enc)?;
                let channel = match target.rooms.as_slice() {
                    [room] => self.channels.room(scope, room.as_str()),
                    _ => self.channels.broadcast(scope),
                };
                (channel, wire::broadcast(uid, packet, target, *flags), None)
            }
            Request::BroadcastWithAck {
                target,
                flags,
                frames,
                timeout,
                ..
            } => {
                let packet = crate::packet::to_node(frames).map_err(enc)?;
                let rid = request_id.unwrap_or("");
                let msg = wire::broadcast_with_ack(uid, rid, packet, target, *flags, *timeout);
                (req_channel.clone(), msg, Some(Kind::Acks))
            }
            Request::AddRooms { target, rooms } | Request::RemoveRooms { target, rooms } => {
                let t = if matches!(request, Request::AddRooms { .. }) {
                    kind::REMOTE_JOIN
                } else {
                    kind::REMOTE_LEAVE
                };
                let rooms: Vec<&str> = rooms.iter().map(|r| r.as_str()).collect();
                let (c, b) = json(serde_json::json!({
                    "uid": uid, "type": t, "opts": wire::json_opts(target), "rooms": rooms,
                }));
                (c, b, None)
            }
            Request::Disconnect {
                target,
                close_connection,
            } => {
                let (c, b) = json(serde_json::json!({
                    "uid": uid, "type": kind::REMOTE_DISCONNECT,
                    "opts": wire::json_opts(target), "close": close_connection,
                }));
                (c, b, None)
            }
            Request::FetchClients { target, .. } => {
                let (c, b) = json(serde_json::json!({
                    "uid": uid, "requestId": request_id, "type": kind::REMOTE_FETCH,
                    "opts": wire::json_opts(target),
                }));
                (c, b, Some(Kind::Fetch))
            }
            Request::FetchRooms { .. } => {
                let (c, b) = json(serde_json::json!({
                    "uid": uid, "requestId": request_id, "type": kind::ALL_ROOMS,
                }));
                (c, b, Some(Kind::Rooms))
            }
            Request::ServerMessage { request, payload } => {
                let data: Json = serde_json::from_slice(payload)
                    .map_err(|e| ClusterError::Encoding(e.to_string()))?;
                let mut msg = serde_json::json!({
                    "uid": uid, "type": kind::SERVER_SIDE_EMIT, "data": data,
                });
                let kind = match (request, request_id) {
                    (Some(_), Some(id)) => {
                        msg["requestId"] = Json::from(id);
                        Some(Kind::ServerMessage)
                    }
                    _ => None,
                };
                let (c, b) = json(msg);
                (c, b, kind)
            }
        };
        Ok((channel, bytes, kind))
    }
}

/// A roomcast node in a cluster linked by Redis, speaking the protocol of
/// Node's `@socket.io/redis-adapter` 8.x. See the [crate docs](crate).
pub struct RedisCluster {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for RedisCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCluster")
            .field("uid", &self.shared.node.uid)
            .field("key", &self.shared.options.key)
            .finish()
    }
}

/// Builds a [`RedisCluster`].
#[derive(Debug)]
pub struct RedisClusterBuilder {
    url: String,
    options: Options,
}

impl RedisCluster {
    /// A builder for a node linked through the Redis at `url`
    /// (`redis://host:port[/db]`).
    pub fn builder(url: impl Into<String>) -> RedisClusterBuilder {
        RedisClusterBuilder {
            url: url.into(),
            options: Options {
                key: "socket.io".to_string(),
                requests_timeout: Duration::from_secs(5),
                heartbeat_interval: Duration::from_secs(1),
                connect_timeout: Duration::from_secs(2),
                publish_queue: 8192,
                max_message_size: 1_000_000,
                specific_response_channel: false,
            },
        }
    }

    /// This node's uid on the wire.
    pub fn uid(&self) -> &NodeId {
        &self.shared.node.uid
    }

    /// The key prefix of every channel.
    pub fn key(&self) -> &str {
        &self.shared.options.key
    }

    /// The state and counters of the Redis link.
    pub fn stats(&self) -> LinkStats {
        self.shared.node.link_stats()
    }

    /// Asks Redis now how many servers serve namespace `scope`, this one
    /// included (the cached [`Cluster::node_count`] is refreshed every
    /// heartbeat interval).
    pub async fn server_count(&self, scope: &str) -> Result<usize, RedisClusterError> {
        Ok(self.shared.server_count(scope).await?)
    }
}

impl RedisClusterBuilder {
    /// The key prefix of every channel (default `socket.io`, Node's).
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.options.key = key.into();
        self
    }

    /// How long a request waits for other nodes' answers (default 5 s,
    /// Node's `requestsTimeout`). A broadcast with acks waits for its own
    /// timeout instead, when it has one.
    pub fn requests_timeout(mut self, timeout: Duration) -> Self {
        self.options.requests_timeout = timeout;
        self
    }

    /// How often the live nodes are counted (default 1 s).
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.options.heartbeat_interval = interval;
        self
    }

    /// How long one connection attempt may take (default 2 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.options.connect_timeout = timeout;
        self
    }

    /// How many messages may wait to be published (default 8192); more are
    /// counted and dropped.
    pub fn publish_queue(mut self, len: usize) -> Self {
        self.options.publish_queue = len.max(1);
        self
    }

    /// The largest message accepted from Redis (default 1 MB); larger ones
    /// are logged and skipped.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.options.max_message_size = bytes;
        self
    }

    /// Answer each request on the requester's own response channel (Node's
    /// `publishOnSpecificResponseChannel`; default off: the shared one).
    pub fn specific_response_channel(mut self, on: bool) -> Self {
        self.options.specific_response_channel = on;
        self
    }

    /// Connects and subscribes. Fails when Redis cannot be reached now;
    /// once built, the node survives Redis going away and coming back.
    /// Must be called inside a tokio runtime.
    pub async fn build(self) -> Result<Arc<RedisCluster>, RedisClusterError> {
        let (client, conn) = crate::connect(&self.url, self.options.connect_timeout).await?;
        let (out, queue) = mpsc::channel(self.options.publish_queue);
        let heartbeat = self.options.heartbeat_interval;
        let wait = self.options.connect_timeout;
        let shared = Arc::new(Shared {
            node: NodeState::new(conn.clone()),
            channels: Channels::new(&self.options.key),
            options: self.options,
            out,
            sink: Mutex::new(None),
        });
        let weak = Arc::downgrade(&shared);
        let (ready_tx, ready) = tokio::sync::oneshot::channel();
        let tasks = vec![
            tokio::spawn(link::run_subscriber(client, weak.clone(), ready_tx)).abort_handle(),
            tokio::spawn(link::run_publisher(conn, queue, weak.clone())).abort_handle(),
            tokio::spawn(node::run_liveness(weak, heartbeat)).abort_handle(),
        ];
        shared.node.start(tasks, ready, wait).await?;
        Ok(Arc::new(RedisCluster { shared }))
    }
}

#[async_trait]
impl Cluster for RedisCluster {
    node::cluster_identity!();

    fn publish(&self, scope: &str, request: Request) -> Result<(), ClusterError> {
        let (channel, bytes, _) = self.shared.encode(scope, &request, None)?;
        self.shared.send(channel, bytes);
        Ok(())
    }

    async fn request(&self, scope: &str, request: Request) -> Result<Responses, ClusterError> {
        let s = &self.shared;
        let id = s.node.new_request_id();
        let (channel, bytes, kind) = s.encode(scope, &request, Some(&id))?;
        let Some(kind) = kind else {
            s.send(channel, bytes);
            return Ok(Responses::none());
        };
        if !s.node.connected.load(Ordering::Acquire) {
            return Err(ClusterError::Unavailable("redis link down".into()));
        }
        let servers = s
            .server_count(scope)
            .await
            .map_err(|e| ClusterError::Unavailable(e.to_string()))?;
        let nodes = servers.saturating_sub(1);
        if nodes == 0 {
            return Ok(Responses::none());
        }
        let responses =
            s.node
                .pending
                .expect(id, scope, kind, &request, nodes, s.options.requests_timeout);
        s.send(channel, bytes);
        Ok(responses)
    }

    fn attach(&self, scope: &str, handler: Arc<dyn RemoteHandler>) {
        if self.shared.node.attach(scope, handler) {
            link::spawn_subscribe(&self.shared, scope.to_string(), true);
        }
    }

    fn detach(&self, scope: &str) {
        if self.shared.node.detach(scope) {
            link::spawn_subscribe(&self.shared, scope.to_string(), false);
        }
    }
}
