//! A cluster of nodes in one process, linked by in-memory channels.
//!
//! For tests of multi-node behaviour without a broker, and as the reference
//! implementation of the [`Cluster`] semantics: each node applies the
//! requests of the others in the order they were published (one task per
//! node reads its bounded inbox), never its own, and answers stream back to
//! the node that asked.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use roomcast_core::cluster::{memory::MemoryBus, Cluster};
//! let bus = MemoryBus::new();
//! let (a, b) = (bus.node(), bus.node());
//! assert_eq!(a.node_count(), 2);
//! assert_ne!(a.node_id(), b.node_id());
//! # }
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use async_trait::async_trait;
use parking_lot::Mutex;
use tokio::sync::mpsc;

use super::{Cluster, ClusterError, Envelope, NodeId, RemoteHandler, Request, Response, Responses};

/// How many requests may wait in one node's inbox.
const INBOX: usize = 1024;

struct Inbound {
    from: NodeId,
    scope: String,
    request: Request,
    answers: Option<mpsc::Sender<Envelope<Response>>>,
}

/// A node as the bus knows it: its id, its inbox, and whether it lives.
type Link = (NodeId, mpsc::Sender<Inbound>, Weak<MemoryNode>);

/// Links the nodes of an in-process cluster.
#[derive(Default)]
pub struct MemoryBus {
    nodes: Mutex<Vec<Link>>,
}

impl MemoryBus {
    /// An empty bus.
    pub fn new() -> Arc<Self> {
        Arc::new(MemoryBus::default())
    }

    /// A new node on the bus. Must be called inside a tokio runtime: the
    /// node's inbox is read by a task of its own.
    pub fn node(self: &Arc<Self>) -> Arc<MemoryNode> {
        let (tx, mut rx) = mpsc::channel::<Inbound>(INBOX);
        let node = Arc::new(MemoryNode {
            id: NodeId::random(),
            bus: self.clone(),
            handlers: Mutex::new(HashMap::new()),
        });
        self.nodes
            .lock()
            .push((node.id.clone(), tx, Arc::downgrade(&node)));
        let weak = Arc::downgrade(&node);
        let id = node.id.clone();
        tokio::spawn(async move {
            while let Some(inbound) = rx.recv().await {
                let Some(node) = weak.upgrade() else { return };
                let handler = node.handlers.lock().get(&inbound.scope).cloned();
                let Some(handler) = handler else { continue };
                let (reply, mut replies) = mpsc::channel::<Response>(INBOX);
                if let Some(answers) = inbound.answers {
                    let scope = inbound.scope.clone();
                    let id = id.clone();
                    tokio::spawn(async move {
                        while let Some(body) = replies.recv().await {
                            let envelope = Envelope {
                                from: id.clone(),
                                scope: scope.clone(),
                                body,
                            };
                            if answers.send(envelope).await.is_err() {
                                return;
                            }
                        }
                    });
                }
                handler.handle(inbound.from, inbound.request, reply).await;
            }
        });
        node
    }

    fn others(&self, me: &NodeId) -> Vec<mpsc::Sender<Inbound>> {
        let mut nodes = self.nodes.lock();
        nodes.retain(|(_, _, node)| node.strong_count() > 0);
        nodes
            .iter()
            .filter(|(id, _, _)| id != me)
            .map(|(_, tx, _)| tx.clone())
            .collect()
    }
}

/// One node of a [`MemoryBus`].
pub struct MemoryNode {
    id: NodeId,
    bus: Arc<MemoryBus>,
    handlers: Mutex<HashMap<String, Arc<dyn RemoteHandler>>>,
}

impl MemoryNode {
    fn send(
        &self,
        scope: &str,
        request: Request,
        answers: Option<mpsc::Sender<Envelope<Response>>>,
    ) -> Result<usize, ClusterError> {
        let others = self.bus.others(&self.id);
        for tx in &others {
            tx.try_send(Inbound {
                from: self.id.clone(),
                scope: scope.to_string(),
                request: request.clone(),
                answers: answers.clone(),
            })
            .map_err(|e| ClusterError::Unavailable(e.to_string()))?;
        }
        Ok(others.len())
    }
}

#[async_trait]
impl Cluster for MemoryNode {
    fn node_id(&self) -> NodeId {
        self.id.clone()
    }

    fn forwards(&self) -> bool {
        true
    }

    fn node_count(&self) -> usize {
        self.bus.others(&self.id).len() + 1
    }

    fn publish(&self, scope: &str, request: Request) -> Result<(), ClusterError> {
        crate::metrics::add(crate::metrics::Counter::ClusterPublished, 1);
        self.send(scope, request, None).map(|_| ())
    }

    async fn request(&self, scope: &str, request: Request) -> Result<Responses, ClusterError> {
        let (tx, answers) = mpsc::channel(INBOX);
        crate::metrics::add(crate::metrics::Counter::ClusterPublished, 1);
        let nodes = self.send(scope, request, Some(tx))?;
        Ok(Responses { nodes, answers })
    }

    fn attach(&self, scope: &str, handler: Arc<dyn RemoteHandler>) {
        self.handlers.lock().insert(scope.to_string(), handler);
    }

    fn detach(&self, scope: &str) {
        self.handlers.lock().remove(scope);
    }
}
