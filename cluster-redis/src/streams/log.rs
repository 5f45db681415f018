//! The [`SessionLog`] of the streams mode: appends, sessions (`SET … PX`,
//! `MULTI GET DEL`) and restores (`XRANGE` pages after the offset, as
//! Node's `restoreSession`).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use roomcast_core::cluster::log::{reaches, Restored, SavedSession, SessionLog};
use roomcast_core::cluster::ClusterError;
use roomcast_core::{Flags, Frame, Target};

use super::entry::{self, Entry};
use super::{reply, Shared, Write, PAGE};

/// Node's bound on XRANGE pages during a restore.
const RESTORE_PAGES: usize = 100;

impl Shared {
    /// XRANGE `start` `end` (inclusive ids, `+`/`-` allowed), one page.
    async fn xrange(&self, start: &str, end: &str) -> redis::RedisResult<Vec<reply::RawEntry>> {
        let mut conn = self.node.conn.clone();
        let v: redis::Value = redis::cmd("XRANGE")
            .arg(&self.options.stream)
            .arg(start)
            .arg(end)
            .arg("COUNT")
            .arg(PAGE)
            .query_async(&mut conn)
            .await?;
        Ok(reply::range(&v))
    }
}

/// The id right after `id` (exclusive ranges without Redis 6.2's `(`).
fn next_id(id: &str) -> Option<String> {
    let (ms, seq) = roomcast_core::cluster::log::offset_key(id)?;
    Some(format!("{ms}-{}", seq.checked_add(1)?))
}

/// The [`SessionLog`] of a [`RedisStreamsCluster`].
pub(super) struct StreamLog(pub(super) Arc<Shared>);

#[async_trait]
impl SessionLog for StreamLog {
    fn append(
        &self,
        scope: &str,
        target: &Target,
        flags: Flags,
        frames: &[Frame],
    ) -> Result<(), ClusterError> {
        let fields = entry::broadcast(self.0.node.uid.as_str(), scope, target, flags, frames)
            .map_err(|e| ClusterError::Encoding(e.to_string()))?;
        self.0.write(Write::Logged {
            scope: scope.to_string(),
            target: target.clone(),
            flags,
            frames: frames.to_vec(),
            fields,
        });
        Ok(())
    }

    fn persist(&self, _scope: &str, session: SavedSession, ttl: Duration) {
        let key = format!("{}{}", self.0.options.session_prefix, session.pid);
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        self.0.write(Write::Session {
            key,
            value: entry::encode_session(&session),
            ttl_ms,
        });
    }

    async fn restore(
        &self,
        scope: &str,
        pid: &str,
        offset: &str,
    ) -> Result<Option<Restored>, ClusterError> {
        let Some(mut after) = next_id(offset) else {
            return Ok(None);
        };
        let unavailable = |e: redis::RedisError| ClusterError::Unavailable(e.to_string());
        let key = format!("{}{}", self.0.options.session_prefix, pid);
        let mut conn = self.0.node.conn.clone();
        let (raw, _): (Option<Vec<u8>>, i64) = redis::pipe()
            .atomic()
            .cmd("GET")
            .arg(&key)
            .cmd("DEL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let Some(raw) = raw else { return Ok(None) };
        if self
            .0
            .xrange(offset, offset)
            .await
            .map_err(unavailable)?
            .is_empty()
        {
            return Ok(None);
        }
        let Some(session) = entry::decode_session(&raw) else {
            self.0.node.stats.skipped.fetch_add(1, Ordering::Relaxed);
            return Ok(None);
        };
        let mut missed = Vec::new();
        let mut until = offset.to_string();
        for _ in 0..RESTORE_PAGES {
            let page = self.0.xrange(&after, "+").await.map_err(unavailable)?;
            let Some(last) = page.last() else { break };
            let last_id = last.id.clone();
            for raw in page {
                if let Entry::Broadcast { nsp, logged } = entry::decode(raw) {
                    if nsp == scope
                        && !logged.flags.volatile
                        && reaches(&logged.target, &session.rooms)
                    {
                        missed.push(logged);
                    }
                }
            }
            match next_id(&last_id) {
                Some(n) => after = n,
                None => break,
            }
            until = last_id;
        }
        Ok(Some(Restored {
            session,
            missed,
            until,
        }))
    }

    fn read_from(&self) -> Option<String> {
        self.0.read_from.lock().clone()
    }
}
