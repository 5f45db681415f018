//! The seam to other nodes of a cluster.
//!
//! A [`Hub`](crate::Hub) applies every operation to its own clients and then,
//! unless the operation is local, hands a [`Request`] to its [`Cluster`] to
//! forward to the other nodes. [`LocalOnly`], the default, forwards nothing:
//! a single node is the whole cluster.
//!
//! Semantics a cluster implementation must keep:
//! - **Ordering**: requests published by one node are applied by every other
//!   node in the order they were published.
//! - **At most once**: a request is applied at most once per node, and never
//!   by the node that published it.
//! - **Requests expecting answers** ([`Cluster::request`]) first learn how
//!   many nodes will answer ([`Responses::nodes`]); for a broadcast expecting
//!   acks each node then sends [`Response::AckCount`] (how many of its clients
//!   were sent the message) followed by one [`Response::Ack`] per answer.
//! - **Liveness**: [`Cluster::node_count`] counts the nodes that are alive
//!   now, however the implementation learns it (heartbeats, the broker's
//!   subscriber count); when a node asked by [`Cluster::request`] stops, the
//!   implementation closes [`Responses::answers`] once no live node is left
//!   to answer, so the requester never waits for a node that is gone.
//! - **Ack ids are per node**: [`Request::BroadcastWithAck`] carries the
//!   event encoded *without* an ack id; every node that delivers it assigns
//!   an id from its own counter, so an id chosen by one node never lands in
//!   another node's ack slots. Its answers are awaited for the sender's
//!   timeout, not a cluster-wide one.
//!
//! Every message is a serde type, so a cluster crate chooses its own wire
//! encoding (postcard, JSON, msgpack). Application payloads (server
//! messages, socket data, ack arguments) are JSON text, the format every
//! Socket.IO server shares. [`memory`] links nodes in one process.

pub mod log;
pub mod memory;
mod node;

pub use node::NodeId;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use bytes::Bytes;

use crate::{Flags, Frame, Room, Target};

/// Identifies one request expecting answers, unique on its node.
pub type RequestId = u64;

/// An operation forwarded to the other nodes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Deliver these frames (one message) to the target.
    Broadcast {
        /// Who gets it.
        target: Target,
        /// How it is delivered (never `local` here).
        flags: Flags,
        /// The encoded message.
        frames: Vec<Frame>,
    },
    /// Deliver and collect one answer per recipient.
    BroadcastWithAck {
        /// Correlates the answers.
        request: RequestId,
        /// Who gets it.
        target: Target,
        /// How it is delivered.
        flags: Flags,
        /// The encoded message, without an ack id: each node that delivers
        /// it assigns one from its own counter.
        frames: Vec<Frame>,
        /// How long the sender collects answers. The cluster keeps the
        /// request open that long (its own default when `None`); a node
        /// may forget the answers it still waits for after it.
        timeout: Option<Duration>,
    },
    /// Make the target's clients join rooms.
    AddRooms {
        /// Whose rooms change.
        target: Target,
        /// The rooms to join.
        rooms: Vec<Room>,
    },
    /// Make the target's clients leave rooms.
    RemoveRooms {
        /// Whose rooms change.
        target: Target,
        /// The rooms to leave.
        rooms: Vec<Room>,
    },
    /// Disconnect the target's clients.
    Disconnect {
        /// Who is disconnected.
        target: Target,
        /// Whether the whole connection closes, not only this namespace.
        close_connection: bool,
    },
    /// List the target's clients.
    FetchClients {
        /// Correlates the answers.
        request: RequestId,
        /// Who is listed.
        target: Target,
    },
    /// List every room that exists on the node (own-id rooms included).
    FetchRooms {
        /// Correlates the answers.
        request: RequestId,
    },
    /// An application message for the other servers (not for clients).
    ServerMessage {
        /// Set when the sender waits for one answer per node.
        request: Option<RequestId>,
        /// JSON text of the array `[event, ...arguments]`.
        payload: Vec<u8>,
    },
}

/// An answer to a [`Request`], sent back to the node that asked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// How many clients of the answering node were sent a broadcast with ack.
    AckCount {
        /// The request answered.
        request: RequestId,
        /// Number of acks to expect from this node.
        count: usize,
    },
    /// One client's answer to a broadcast with ack (which client is not
    /// told: the Socket.IO cluster protocol does not carry it).
    Ack {
        /// The request answered.
        request: RequestId,
        /// JSON text of the array of the answer's arguments; binary parts
        /// are `{"_placeholder":true,"num":i}` referring to `attachments`.
        payload: Vec<u8>,
        /// The answer's binary attachments.
        attachments: Vec<Bytes>,
    },
    /// The clients of the answering node that matched a fetch.
    Clients {
        /// The request answered.
        request: RequestId,
        /// One entry per client.
        clients: Vec<RemoteClient>,
    },
    /// The rooms of the answering node.
    Rooms {
        /// The request answered.
        request: RequestId,
        /// Every room that exists there.
        rooms: Vec<Room>,
    },
    /// An answer to a server message.
    ServerMessage {
        /// The request answered.
        request: RequestId,
        /// JSON text of the answer (one value).
        payload: Vec<u8>,
    },
}

/// What a node tells about one of its clients.
///
/// The id is text, not a [`ClientId`](crate::ClientId): a client of
/// another server (a Node one has 20-character ids) keeps its own id, and
/// every client is in the room named by its id, which is how later
/// operations on it ([`Target::to`]) reach it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteClient {
    /// The client's id (also the name of its own room).
    pub id: String,
    /// Its rooms.
    pub rooms: Vec<Room>,
    /// JSON text of its handshake (`{}` when unknown).
    pub handshake: Vec<u8>,
    /// JSON text of the application data attached to it (`null` when none).
    pub data: Vec<u8>,
}

/// Every message between nodes: who sent it, for which namespace, and what.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// The sending node.
    pub from: NodeId,
    /// The namespace (or other scope) the operation applies to.
    pub scope: String,
    /// The operation or answer.
    pub body: T,
}

/// Why an operation could not be forwarded.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The link to the other nodes is down.
    #[error("cluster link unavailable: {0}")]
    Unavailable(String),
    /// A message could not be encoded or decoded.
    #[error("cluster message encoding failed: {0}")]
    Encoding(String),
}

/// Answers to a [`Cluster::request`], as they arrive.
#[derive(Debug)]
pub struct Responses {
    /// How many other nodes were asked (and will answer).
    pub nodes: usize,
    /// The answers; closed when the cluster gives up on the request.
    pub answers: mpsc::Receiver<Envelope<Response>>,
}

impl Responses {
    /// No other node: nothing will answer.
    pub fn none() -> Self {
        let (_, answers) = mpsc::channel(1);
        Responses { nodes: 0, answers }
    }
}

/// What a node does with requests that other nodes forward to it.
///
/// Implemented by the layer that owns the scope (for Socket.IO, a namespace),
/// because some operations (disconnecting, collecting acks) need more than
/// the core knows.
#[async_trait]
pub trait RemoteHandler: Send + Sync + 'static {
    /// Applies a request from another node; answers go back through `reply`.
    async fn handle(&self, from: NodeId, request: Request, reply: mpsc::Sender<Response>);

    /// Delivers one broadcast read from the cluster's log (see [`log`]),
    /// in log order, this node's own appends included. Clusters without a
    /// log never call it.
    fn logged(&self, entry: log::Logged) {
        let _ = entry;
    }
}

/// Forwards operations to the other nodes of a cluster.
///
/// ```
/// use roomcast_core::cluster::{Cluster, LocalOnly};
/// let cluster = LocalOnly::new();
/// assert_eq!(cluster.node_count(), 1);
/// assert!(!cluster.forwards());
/// ```
#[async_trait]
pub trait Cluster: Send + Sync + 'static {
    /// This node's id.
    fn node_id(&self) -> NodeId;

    /// Whether anything is forwarded at all. When `false` the hub skips
    /// building requests.
    fn forwards(&self) -> bool;

    /// Number of live nodes, this one included.
    fn node_count(&self) -> usize;

    /// Sends a request to every other node without waiting for answers.
    /// Must not block: implementations queue and send in their own task.
    fn publish(&self, scope: &str, request: Request) -> Result<(), ClusterError>;

    /// Sends a request to every other node and streams their answers.
    async fn request(&self, scope: &str, request: Request) -> Result<Responses, ClusterError>;

    /// Routes requests for `scope` arriving from other nodes to `handler`.
    fn attach(&self, scope: &str, handler: Arc<dyn RemoteHandler>);

    /// Stops routing requests for `scope`.
    fn detach(&self, scope: &str);

    /// The shared log of broadcasts and sessions, for clusters that keep
    /// one (connection state recovery across nodes); `None` by default.
    fn log(&self) -> Option<Arc<dyn log::SessionLog>> {
        None
    }
}

/// A cluster of one node: forwards nothing.
#[derive(Debug)]
pub struct LocalOnly {
    id: NodeId,
}

impl LocalOnly {
    /// A single-node cluster with a random node id.
    pub fn new() -> Self {
        LocalOnly {
            id: NodeId::random(),
        }
    }
}

impl Default for LocalOnly {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Cluster for LocalOnly {
    fn node_id(&self) -> NodeId {
        self.id.clone()
    }
    fn forwards(&self) -> bool {
        false
    }
    fn node_count(&self) -> usize {
        1
    }
    fn publish(&self, _scope: &str, _request: Request) -> Result<(), ClusterError> {
        Ok(())
    }
    async fn request(&self, _scope: &str, _request: Request) -> Result<Responses, ClusterError> {
        Ok(Responses::none())
    }
    fn attach(&self, _scope: &str, _handler: Arc<dyn RemoteHandler>) {}
    fn detach(&self, _scope: &str) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientId;

    #[test]
    fn requests_round_trip_through_postcard() {
        let req = Envelope {
            from: NodeId::random(),
            scope: "/chat".to_string(),
            body: Request::Broadcast {
                target: Target::to(["a"]).except_client(ClientId::random()),
                flags: Flags {
                    volatile: true,
                    local: false,
                },
                frames: vec![Frame::text("42[\"x\"]"), Frame::binary(vec![1, 2, 3])],
            },
        };
        let bytes = postcard::to_allocvec(&req).unwrap();
        let back: Envelope<Request> = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, req);

        let resp = Envelope {
            from: NodeId::from("node-b"),
            scope: "/".to_string(),
            body: Response::Ack {
                request: 7,
                payload: b"[1]".to_vec(),
                attachments: vec![Bytes::from_static(b"\x01")],
            },
        };
        let bytes = postcard::to_allocvec(&resp).unwrap();
        assert_eq!(
            postcard::from_bytes::<Envelope<Response>>(&bytes).unwrap(),
            resp
        );
    }
}
