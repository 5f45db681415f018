//! The seam to a cluster that keeps a shared log of broadcasts and the
//! sessions of lost connections (Redis Streams), so connection state
//! recovery works across nodes.
//!
//! Semantics an implementation must keep:
//! - **One order**: every broadcast given to [`SessionLog::append`] is
//!   written to the log of its scope, and every node — the appending one
//!   included — is handed every entry of that log through
//!   [`RemoteHandler::logged`], one at a time, in log order. A node that
//!   delivers only what it reads back shows its clients the same order as
//!   every other node, and the entry's [`Logged::offset`] is the same
//!   everywhere.
//! - **Offsets** are the log's entry ids; [`offset_after`] orders them.
//! - **Sessions** are kept for a time ([`SessionLog::persist`]) and taken
//!   once ([`SessionLog::restore`]): the session and the logged broadcasts
//!   after the client's offset come back together, or neither does (the
//!   session expired, the offset left the log, the log was lost).
//!
//! [`RemoteHandler::logged`]: super::RemoteHandler::logged

use std::time::Duration;

use async_trait::async_trait;

use super::{ClusterError, NodeId};
use crate::{Flags, Frame, Room, Target};

/// One broadcast read from the log.
#[derive(Clone, Debug, PartialEq)]
pub struct Logged {
    /// Its entry id: the offset clients are told.
    pub offset: String,
    /// The node that appended it.
    pub from: NodeId,
    /// Who gets it.
    pub target: Target,
    /// How it is delivered.
    pub flags: Flags,
    /// The encoded event (without offset).
    pub frames: Vec<Frame>,
}

/// What a socket was when its connection was lost, as the log keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedSession {
    /// The socket id (Node's ids are 20 characters, ours 22).
    pub sid: String,
    /// The private session id.
    pub pid: String,
    /// Its rooms, its own id's included.
    pub rooms: Vec<Room>,
    /// JSON text of its data (`null` when none).
    pub data: Vec<u8>,
}

/// A session taken from the log and what it missed.
#[derive(Clone, Debug, PartialEq)]
pub struct Restored {
    /// The session.
    pub session: SavedSession,
    /// The broadcasts after the client's offset, in log order, that
    /// matched the session's rooms; `until` is the last entry read.
    pub missed: Vec<Logged>,
    /// The id of the last log entry looked at (the offset itself when
    /// nothing came after it).
    pub until: String,
}

/// A log of broadcasts and sessions shared by the nodes (see the module
/// docs). Obtained from [`Cluster::log`](super::Cluster::log).
#[async_trait]
pub trait SessionLog: Send + Sync + 'static {
    /// Appends a broadcast to the log of `scope`; it comes back to every
    /// node through `RemoteHandler::logged`. Must not block.
    fn append(
        &self,
        scope: &str,
        target: &Target,
        flags: Flags,
        frames: &[Frame],
    ) -> Result<(), ClusterError>;

    /// Keeps `session` for `ttl`. Must not block.
    fn persist(&self, scope: &str, session: SavedSession, ttl: Duration);

    /// Takes the session `pid` and the broadcasts of `scope` after
    /// `offset` that were addressed to its rooms. `None` when the session
    /// or the offset is gone.
    async fn restore(
        &self,
        scope: &str,
        pid: &str,
        offset: &str,
    ) -> Result<Option<Restored>, ClusterError>;

    /// The entry id after which this node started reading the log: every
    /// later entry is handed to `RemoteHandler::logged`, no earlier one.
    /// `None` until the reader has started.
    fn read_from(&self) -> Option<String>;
}

/// Parses a log offset `"<ms>-<seq>"` (Redis stream ids) into a pair
/// that orders as the log does.
///
/// ```
/// use roomcast_core::cluster::log::offset_key;
/// assert!(offset_key("5-1") < offset_key("5-10"));
/// assert_eq!(offset_key("x"), None);
/// ```
pub fn offset_key(offset: &str) -> Option<(u64, u64)> {
    let (ms, seq) = offset.split_once('-')?;
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

/// Whether offset `a` comes after offset `b` (false when either is not an
/// offset).
pub fn offset_after(a: &str, b: &str) -> bool {
    matches!((offset_key(a), offset_key(b)), (Some(a), Some(b)) if a > b)
}

/// Whether a broadcast to `target` reaches a socket in `rooms` (Node's
/// `shouldIncludePacket`).
pub fn reaches(target: &Target, rooms: &[Room]) -> bool {
    let included = target.rooms.is_empty() || rooms.iter().any(|r| target.rooms.contains(r));
    included && !rooms.iter().any(|r| target.except.contains(r))
}
