//! Property: a broadcast from any node of an in-process cluster
//! (`MemoryBus`) reaches exactly the clients a model says — on every node,
//! the members of any target room, minus the members of any except room —
//! each once.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use proptest::prelude::*;
use roomcast_core::cluster::memory::MemoryBus;
use roomcast_core::cluster::{Cluster, NodeId, RemoteHandler, Request, Response};
use roomcast_core::{ClientId, Flags, Frame, Hub, Message, Outbox, OutboxConfig, Target};
use tokio::sync::mpsc;

const ROOMS: [&str; 4] = ["a", "b", "c", "d"];

/// Applies forwarded broadcasts to this node's hub only.
struct Apply(Arc<Hub>);

#[async_trait]
impl RemoteHandler for Apply {
    async fn handle(&self, _: NodeId, request: Request, _: mpsc::Sender<Response>) {
        if let Request::Broadcast {
            target,
            flags,
            frames,
        } = request
        {
            let local = Flags {
                local: true,
                ..flags
            };
            self.0.broadcast(&target, &Message::many(frames), local);
        }
    }
}

/// One client: its node and its rooms (bit i = ROOMS[i]).
type Client = (usize, u8);

fn case() -> impl Strategy<Value = (usize, Vec<Client>, u8, u8, usize)> {
    (2usize..5).prop_flat_map(|nodes| {
        (
            Just(nodes),
            proptest::collection::vec((0..nodes, 0u8..16), 0..20),
            0u8..16,
            0u8..16,
            0..nodes,
        )
    })
}

fn rooms(bits: u8) -> Vec<&'static str> {
    (0..4)
        .filter(|i| bits & (1 << i) != 0)
        .map(|i| ROOMS[i])
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn broadcast_reaches_exactly_the_model(
        (nodes, clients, to, except, from) in case()
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let bus = MemoryBus::new();
            let mut hubs = Vec::new();
            let mut links = Vec::new();
            for _ in 0..nodes {
                let node = bus.node();
                let hub = Arc::new(Hub::with_cluster("/", node.clone() as Arc<dyn Cluster>));
                node.attach("/", Arc::new(Apply(hub.clone())));
                hubs.push(hub);
                links.push(node);
            }
            let mut outboxes = Vec::new();
            for (node, bits) in &clients {
                let id = ClientId::random();
                let outbox = Arc::new(Outbox::new(OutboxConfig::default()));
                hubs[*node].connect(id, outbox.clone()).unwrap();
                hubs[*node].join(id, rooms(*bits)).unwrap();
                outboxes.push(outbox);
            }
            let target = Target::to(rooms(to)).except(rooms(except));
            hubs[from].broadcast(&target, &Message::from(Frame::text("m")), Flags::default());
            // A marker to everyone after it: in order per publisher, so a
            // client holding the marker has had the broadcast if it was due.
            hubs[from].broadcast(&Target::all(), &Message::from(Frame::text("end")), Flags::default());
            let expected: BTreeSet<usize> = clients
                .iter()
                .enumerate()
                .filter(|(_, (_, bits))| (to == 0 || bits & to != 0) && bits & except == 0)
                .map(|(i, _)| i)
                .collect();
            let mut got = vec![Vec::new(); clients.len()];
            tokio::time::timeout(Duration::from_secs(5), async {
                loop {
                    for (i, o) in outboxes.iter().enumerate() {
                        o.drain(&mut got[i]);
                    }
                    if got.iter().all(|g| g.last() == Some(&Frame::text("end"))) {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            })
            .await
            .expect("every client gets the marker");
            for (i, frames) in got.iter().enumerate() {
                let want = if expected.contains(&i) {
                    vec![Frame::text("m"), Frame::text("end")]
                } else {
                    vec![Frame::text("end")]
                };
                assert_eq!(frames, &want, "client {i} of {clients:?}, to {to:b} except {except:b}");
            }
            drop(links);
        });
    }
}
