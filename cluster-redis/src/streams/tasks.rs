//! The tasks of a streams node: the stream reader, the writer, the pub/sub
//! subscriber (so other nodes count this one) and the liveness tick.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use roomcast_core::cluster::log::offset_key;
use roomcast_core::cluster::{NodeId, Request};
use tokio::sync::mpsc;

use super::entry::{self, Entry};
use super::{reply, Shared, Write, PAGE};

const BATCH: usize = 64;

/// The last id of the stream now (`0-0` when empty or missing).
async fn stream_end(
    conn: &mut redis::aio::MultiplexedConnection,
    stream: &str,
) -> redis::RedisResult<String> {
    let v: redis::Value = redis::cmd("XREVRANGE")
        .arg(stream)
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query_async(conn)
        .await?;
    Ok(reply::range(&v)
        .pop()
        .map_or_else(|| "0-0".to_string(), |e| e.id))
}

/// Reads the stream in order and hands each entry to its namespace.
pub(crate) async fn run_reader(
    client: redis::Client,
    shared: Weak<Shared>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    let mut position: Option<String> = None;
    let mut backoff = Duration::from_millis(100);
    let mut down = false;
    loop {
        let Some(s) = shared.upgrade() else { return };
        let stream = s.options.stream.clone();
        let block = s.options.block;
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(s.options.connect_timeout)
            .set_response_timeout(block + s.options.connect_timeout);
        drop(s);
        let conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await;
        if let Ok(mut conn) = conn {
            if let Ok(end) = stream_end(&mut conn, &stream).await {
                // First start, or the stream came back shorter (Redis lost
                // it): read from its end.
                let reset = match &position {
                    None => true,
                    Some(p) => offset_key(&end) < offset_key(p),
                };
                if reset {
                    position = Some(end.clone());
                }
                let Some(s) = shared.upgrade() else { return };
                if reset {
                    *s.read_from.lock() = Some(end);
                }
                s.node.connected.store(true, Ordering::Release);
                if down {
                    s.node.stats.reconnects.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(node = %s.node.uid, stream, "redis stream reader back");
                    down = false;
                }
                backoff = Duration::from_millis(100);
                if let Some(r) = ready.take() {
                    let _ = r.send(());
                }
                drop(s);
                while let Some(from) = position.clone() {
                    let read: redis::RedisResult<redis::Value> = redis::cmd("XREAD")
                        .arg("COUNT")
                        .arg(PAGE)
                        .arg("BLOCK")
                        .arg(block.as_millis() as u64)
                        .arg("STREAMS")
                        .arg(&stream)
                        .arg(&from)
                        .query_async(&mut conn)
                        .await;
                    let Ok(read) = read else { break };
                    let Some(s) = shared.upgrade() else { return };
                    for raw in reply::read(&read) {
                        position = Some(raw.id.clone());
                        deliver(&s, raw).await;
                    }
                }
            }
        }
        let Some(s) = shared.upgrade() else { return };
        s.node.connected.store(false, Ordering::Release);
        if !down {
            tracing::warn!(node = %s.node.uid, "redis stream reader lost its connection; retrying");
            down = true;
        }
        drop(s);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

async fn deliver(s: &Arc<Shared>, raw: reply::RawEntry) {
    let own = |uid: &str| uid == s.node.uid.as_str();
    match entry::decode(raw) {
        Entry::Broadcast { nsp, logged } => {
            if let Some(h) = s.node.handler(&nsp) {
                h.logged(logged);
            }
        }
        Entry::Rooms {
            uid,
            nsp,
            join,
            target,
            rooms,
        } if !own(&uid) => {
            let request = if join {
                Request::AddRooms { target, rooms }
            } else {
                Request::RemoveRooms { target, rooms }
            };
            handle(s, &nsp, uid, request).await;
        }
        Entry::Disconnect {
            uid,
            nsp,
            target,
            close,
        } if !own(&uid) => {
            let request = Request::Disconnect {
                target,
                close_connection: close,
            };
            handle(s, &nsp, uid, request).await;
        }
        Entry::Skipped => {
            s.node.stats.skipped.fetch_add(1, Ordering::Relaxed);
        }
        _ => {}
    }
}

async fn handle(s: &Shared, nsp: &str, uid: String, request: Request) {
    if let Some(h) = s.node.handler(nsp) {
        let (reply, _answers) = mpsc::channel(1);
        h.handle(NodeId::from(uid), request, reply).await;
    }
}

/// Sends the queued writes in order, as pipelines.
pub(crate) async fn run_writer(
    mut conn: ConnectionManager,
    mut queue: mpsc::Receiver<Write>,
    shared: Weak<Shared>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    while queue.recv_many(&mut batch, BATCH).await > 0 {
        let Some(s) = shared.upgrade() else { return };
        let mut pipe = redis::pipe();
        for w in &batch {
            match w {
                Write::Add(fields) | Write::Logged { fields, .. } => {
                    let cmd = pipe
                        .cmd("XADD")
                        .arg(&s.options.stream)
                        .arg("MAXLEN")
                        .arg("~")
                        .arg(s.options.max_len)
                        .arg("*");
                    for (k, v) in fields {
                        cmd.arg(*k).arg(v.as_slice());
                    }
                    cmd.ignore();
                }
                Write::Publish { channel, payload } => {
                    pipe.cmd("PUBLISH").arg(channel).arg(payload).ignore();
                }
                Write::Session { key, value, ttl_ms } => {
                    pipe.cmd("SET")
                        .arg(key)
                        .arg(value)
                        .arg("PX")
                        .arg(*ttl_ms)
                        .ignore();
                }
            }
        }
        if let Err(e) = pipe.query_async::<()>(&mut conn).await {
            s.node
                .stats
                .dropped
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            tracing::debug!(error = %e, writes = batch.len(), "stream write failed; dropped");
            for w in batch.drain(..) {
                s.not_written(w);
            }
        }
        batch.clear();
    }
}

/// Tells the subscriber the namespaces changed.
pub(crate) fn resubscribe(shared: &Shared) {
    let _ = shared.resubscribe.try_send(());
}

/// Holds the pub/sub subscriptions of every attached namespace (so that
/// `PUBSUB NUMSUB` counts this node) and handles their messages in
/// arrival order (module `ephemeral`); resubscribes when the namespaces
/// change or the connection drops.
pub(crate) async fn run_subscriber(client: redis::Client, shared: Weak<Shared>) {
    let Some(mut changed) = shared
        .upgrade()
        .and_then(|s| s.resubscribe_rx.lock().take())
    else {
        return;
    };
    loop {
        if let Ok(mut pubsub) = client.get_async_pubsub().await {
            let mut ok = true;
            let Some(s) = shared.upgrade() else { return };
            let mut subscribed = Vec::new();
            for scope in s.node.scopes() {
                for ch in [s.public_channel(&scope), s.private_channel(&scope)] {
                    ok &= pubsub.subscribe(&ch).await.is_ok();
                    subscribed.push(ch);
                }
            }
            drop(s);
            if ok {
                let mut messages = pubsub.on_message();
                tokio::select! {
                    _ = async {
                        while let Some(m) = messages.next().await {
                            let Some(s) = shared.upgrade() else { return };
                            super::ephemeral::on_message(&s, m.get_payload_bytes()).await;
                        }
                    } => {}
                    _ = changed.recv() => {}
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
