//! Requests this node sent and waits answers for.
//!
//! Each entry knows how many nodes were asked; it is removed — which closes
//! the requester's answer stream — when every node answered (for a
//! broadcast with acks: every node sent its count and every announced ack
//! came), when its deadline passes, or when the nodes still alive could
//! not answer any more ([`Pending::lower_expected`], fed by the liveness
//! check).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use roomcast_core::cluster::{Envelope, Request, RequestId, Response, Responses};
use tokio::sync::mpsc;

/// What kind of answers a request gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Fetch,
    Rooms,
    ServerMessage,
    Acks,
}

pub(crate) struct Pending {
    pub scope: String,
    pub kind: Kind,
    pub local_id: RequestId,
    pub answers: mpsc::Sender<Envelope<Response>>,
    pub deadline: Instant,
    /// Nodes that may still answer.
    pub expected: usize,
    /// Nodes that answered (for acks: that sent their count).
    pub answered: usize,
    /// Acks announced and acks received (broadcast with acks only).
    pub acks_expected: usize,
    pub acks_received: usize,
}

impl Pending {
    fn complete(&self) -> bool {
        self.answered >= self.expected && self.acks_received >= self.acks_expected
    }
}

/// The pending requests of a node, by wire request id.
#[derive(Default)]
pub(crate) struct PendingRequests(Mutex<HashMap<String, Pending>>);

impl PendingRequests {
    pub fn insert(&self, id: String, pending: Pending) {
        self.0.lock().insert(id, pending);
    }

    /// Waits for `nodes` other nodes to answer `request`, sent under the
    /// wire id `id`: for `requests_timeout`, or for a broadcast with acks
    /// the sender's own timeout (as Node does). The answers come on the
    /// returned stream.
    pub fn expect(
        &self,
        id: String,
        scope: &str,
        kind: Kind,
        request: &Request,
        nodes: usize,
        requests_timeout: Duration,
    ) -> Responses {
        let wait = match request {
            Request::BroadcastWithAck {
                timeout: Some(t), ..
            } => *t,
            _ => requests_timeout,
        };
        let local_id = match request {
            Request::BroadcastWithAck { request, .. }
            | Request::FetchClients { request, .. }
            | Request::FetchRooms { request } => *request,
            Request::ServerMessage { request, .. } => request.unwrap_or_default(),
            _ => 0,
        };
        let (tx, answers) = mpsc::channel(1024);
        self.insert(
            id,
            Pending {
                scope: scope.to_string(),
                kind,
                local_id,
                answers: tx,
                deadline: Instant::now() + wait,
                expected: nodes,
                answered: 0,
                acks_expected: 0,
                acks_received: 0,
            },
        );
        Responses { nodes, answers }
    }

    /// Applies an answer: `update` returns what to hand the requester;
    /// the entry goes when complete. Never waits: a requester whose
    /// stream is full loses that answer (it is counted as missing).
    pub fn answer(
        &self,
        id: &str,
        update: impl FnOnce(&mut Pending) -> Option<Response>,
        from: &roomcast_core::cluster::NodeId,
    ) -> bool {
        let mut map = self.0.lock();
        let Some(p) = map.get_mut(id) else {
            return false;
        };
        if let Some(body) = update(p) {
            let _ = p.answers.try_send(Envelope {
                from: from.clone(),
                scope: p.scope.clone(),
                body,
            });
        }
        if p.complete() {
            map.remove(id);
        }
        true
    }

    /// The scopes with requests waiting.
    pub fn scopes(&self) -> Vec<String> {
        let mut s: Vec<String> = self.0.lock().values().map(|p| p.scope.clone()).collect();
        s.sort();
        s.dedup();
        s
    }

    /// At most `alive` other nodes of `scope` can still answer.
    pub fn lower_expected(&self, scope: &str, alive: usize) {
        self.0.lock().retain(|_, p| {
            if p.scope == scope && p.expected > alive {
                p.expected = alive;
            }
            !p.complete()
        });
    }

    /// Drops requests past their deadline.
    pub fn expire(&self, now: Instant) {
        self.0.lock().retain(|_, p| p.deadline > now);
    }

    /// Drops every request (the link is down: no answer can come).
    pub fn clear(&self) {
        self.0.lock().clear();
    }
}
