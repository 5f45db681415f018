//! Cluster forwarding: what a hub operation sends to the other nodes.
//!
//! An operation is applied on this node first, then, unless it is local or
//! the cluster does not forward (single node), handed to the hub's
//! [`Cluster`](crate::cluster::Cluster) as one [`Request`] under the hub's
//! scope. A publish that fails is logged; the local part stands.

use super::{Delivery, Hub};
use crate::cluster::Request;
use crate::{Flags, Message, Room, Target};

impl Hub {
    /// Hands a broadcast to the cluster unless it is local.
    pub(super) fn forward(
        &self,
        target: &Target,
        message: &Message,
        flags: Flags,
        delivery: &Delivery,
    ) {
        tracing::trace!(scope = %self.scope, queued = delivery.queued, "broadcast");
        if crate::metrics::ENABLED {
            let bytes = message.frames().iter().map(|f| f.len()).sum();
            crate::metrics::broadcast(delivery.queued, bytes);
        }
        if !flags.local && self.cluster.forwards() {
            let request = Request::Broadcast {
                target: target.clone(),
                flags,
                frames: message.frames().to_vec(),
            };
            if let Err(e) = self.cluster.publish(&self.scope, request) {
                tracing::warn!(scope = %self.scope, error = %e, "broadcast not forwarded");
            }
        }
    }

    /// Makes every client in the target join rooms, here and on every
    /// other node.
    pub fn add_rooms(&self, target: &Target, rooms: &[Room]) {
        self.add_rooms_local(target, rooms);
        if self.cluster.forwards() {
            let request = Request::AddRooms {
                target: target.clone(),
                rooms: rooms.to_vec(),
            };
            if let Err(e) = self.cluster.publish(&self.scope, request) {
                tracing::warn!(scope = %self.scope, error = %e, "add_rooms not forwarded");
            }
        }
    }

    /// Makes every client in the target leave rooms, here and on every
    /// other node.
    pub fn remove_rooms(&self, target: &Target, rooms: &[Room]) {
        self.remove_rooms_local(target, rooms);
        if self.cluster.forwards() {
            let request = Request::RemoveRooms {
                target: target.clone(),
                rooms: rooms.to_vec(),
            };
            if let Err(e) = self.cluster.publish(&self.scope, request) {
                tracing::warn!(scope = %self.scope, error = %e, "remove_rooms not forwarded");
            }
        }
    }

    /// Makes every client in the target on this node join rooms.
    pub fn add_rooms_local(&self, target: &Target, rooms: &[Room]) {
        for id in self.select(target) {
            let _ = self.join(id, rooms.iter().cloned());
        }
    }

    /// Makes every client in the target on this node leave rooms.
    pub fn remove_rooms_local(&self, target: &Target, rooms: &[Room]) {
        for id in self.select(target) {
            let _ = self.leave(id, rooms.iter().cloned());
        }
    }
}
