//! A roomcast cluster over Redis that speaks the protocol of Node's
//! `@socket.io/redis-adapter` 8.x, so roomcast nodes and Node socket.io 4.x
//! servers share one cluster, and `@socket.io/redis-emitter` (and the
//! emitters of other languages) reach roomcast clients.
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use roomcast_cluster_redis::RedisCluster;
//! let cluster = RedisCluster::builder("redis://127.0.0.1:6379")
//!     .key("socket.io")
//!     .build()
//!     .await?;
//! // roomcast_socketio::Server::builder().cluster(cluster).build();
//! # Ok(()) }
//! ```
//!
//! # Protocol
//!
//! For key `K` and namespace `N` (see Node's adapter source):
//! - **Broadcasts** go to `K#N#`, or `K#N#room#` when aimed at exactly one
//!   room, as MessagePack `[uid, packet, {rooms, except, flags}]`; every
//!   node pattern-subscribes to `K#N#*`. `packet` is Socket.IO's packet
//!   object `{type: 2, data: [event, ...args], nsp}` with binary arguments
//!   in place as MessagePack `bin`.
//! - **Requests** go to `K-request#N#` as JSON `{uid, type, requestId?,
//!   ...}` — SOCKETS, ALL_ROOMS, REMOTE_JOIN, REMOTE_LEAVE,
//!   REMOTE_DISCONNECT, REMOTE_FETCH, SERVER_SIDE_EMIT — except BROADCAST
//!   (with acks), MessagePack.
//! - **Responses** go to `K-response#N#` (or the requester's own
//!   `K-response#N#uid#` with [`RedisClusterBuilder::specific_response_channel`])
//!   as JSON, except BROADCAST_ACK, MessagePack. BROADCAST_CLIENT_COUNT
//!   tells how many acks a node will send.
//! - **Node count**: the subscribers of `K-request#N#` (`PUBSUB NUMSUB`),
//!   Node's own measure. Redis drops the subscription of a node whose
//!   connection closes, so a node that stops stops counting. The count is
//!   refreshed every heartbeat interval, and requests waiting for answers
//!   are closed as soon as fewer nodes are alive than have yet to answer.
//!
//! # Semantics
//!
//! - **Ordering**: one subscriber connection; messages are applied in the
//!   order Redis delivers them, which for one publisher is the order it
//!   published (one publisher connection, one queue).
//! - **Faults**: Redis going away is logged once; the node keeps serving
//!   its own clients, publishes nothing (each message it could not publish
//!   is counted in [`LinkStats::dropped`], like a volatile message),
//!   closes the requests waiting for answers, reconnects with backoff and
//!   subscribes again; the return is logged once. Nothing is buffered
//!   beyond the bounded publish queue.
//! - **Hostile input**: a message that is too large, not decodable, or of
//!   an unknown type or shape is skipped and counted in
//!   [`LinkStats::skipped`]; it never reaches a client.
//! - **Acks across nodes**: a node that delivers a broadcast with acks
//!   assigns the ack id from its own counter. Node's protocol carries the
//!   *first* argument of each answer, and not which socket gave it. The
//!   answers are awaited for the sender's timeout (Node's `flags.timeout`,
//!   on the wire), [`RedisClusterBuilder::requests_timeout`] without one.
//! - **Binary in server-side emits**: those messages are JSON, as Node
//!   writes them; a Buffer is `{"type":"Buffer","data":[…]}` there, both
//!   ways (broadcasts and acks carry MessagePack `bin`).
//!
//! # Choices
//!
//! - **Redis client**: the `redis` crate — the most used Rust client, with a
//!   tokio `ConnectionManager` that reconnects by itself (used to publish)
//!   and a pub/sub connection whose sink and stream split, so namespaces
//!   can subscribe while messages are being read. `fred` would also do; it
//!   brings more machinery (its own pools and reconnect policies) than one
//!   subscriber and one publisher need.
//! - **MessagePack**: `rmpv`, because the packet objects are dynamic
//!   values (a JSON tree with `bin` leaves), not Rust types.
//! - **Layering**: this crate depends on `roomcast-core` only, not on
//!   `roomcast-socketio`. The core's cluster messages carry events already
//!   encoded for clients (`42["ev",…]` plus binary frames); translating
//!   them to and from Node's packet objects needs only the event header
//!   and the placeholder convention (module `packet`), about a hundred lines,
//!   whereas the Socket.IO crate would bring the engine and transports
//!   along and tie the cluster to one server crate.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod channels;
mod cluster;
mod incoming;
mod link;
mod node;
mod packet;
mod pending;
pub mod streams;
mod wire;

pub use cluster::{RedisCluster, RedisClusterBuilder};
pub use streams::{RedisStreamsCluster, RedisStreamsClusterBuilder};

/// The state of a node's Redis link and what it counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Whether the subscriber connection is up now.
    pub connected: bool,
    /// Messages not published (link down, queue full, publish failed).
    pub dropped: u64,
    /// Messages from Redis skipped as malformed or hostile.
    pub skipped: u64,
    /// Times the link came back after being lost.
    pub reconnects: u64,
}

/// Why a [`RedisCluster`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RedisClusterError {
    /// Redis refused or the URL is invalid.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis did not answer within the connect timeout.
    #[error("redis did not answer in time")]
    Timeout,
}

/// The client and the managed command connection of a cluster node.
///
/// The first connection must succeed within `timeout` (else
/// [`RedisClusterError::Timeout`]); afterwards the manager reconnects by
/// itself, each attempt and each response bounded by `timeout`, retrying
/// once with a backoff capped at 2 s.
async fn connect(
    url: &str,
    timeout: std::time::Duration,
) -> Result<(redis::Client, redis::aio::ConnectionManager), RedisClusterError> {
    let client = redis::Client::open(url)?;
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(timeout)
        .set_response_timeout(timeout)
        .set_number_of_retries(1)
        .set_max_delay(2000);
    let conn = tokio::time::timeout(
        timeout,
        redis::aio::ConnectionManager::new_with_config(client.clone(), config),
    )
    .await
    .map_err(|_| RedisClusterError::Timeout)??;
    Ok((client, conn))
}

#[cfg(test)]
mod fixtures;
