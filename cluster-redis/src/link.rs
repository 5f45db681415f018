//! The connections to Redis: one subscriber, one publisher.
//!
//! - **Subscriber**: a dedicated pub/sub connection, subscribed to the
//!   channels of every attached namespace. Messages are handled one at a
//!   time in arrival order (so each node's requests apply in the order it
//!   published them). When the connection drops, the loss is logged once,
//!   every waiting request is closed (no answer can come), publishing stops
//!   (what would have been published is counted as dropped), and the loop
//!   reconnects with backoff (100 ms doubling to 2 s) and subscribes again
//!   to every namespace; the return is logged once.
//! - **Publisher**: a [`ConnectionManager`] (reconnects by itself) fed by a
//!   bounded queue; it sends what is queued as one pipeline. A publish that
//!   finds the queue full or the link down is counted and dropped, never
//!   waited for.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, PubSubSink};
use roomcast_core::metrics;

use crate::cluster::Shared;

/// Subscribes to every channel of `scope` through `sink`.
pub(crate) async fn subscribe(
    sink: &mut PubSubSink,
    shared: &Shared,
    scope: &str,
) -> redis::RedisResult<()> {
    sink.psubscribe(shared.channels.pattern(scope)).await?;
    for ch in shared
        .channels
        .subscriptions(scope, shared.node.uid.as_str())
    {
        sink.subscribe(ch).await?;
    }
    Ok(())
}

/// Unsubscribes from every channel of `scope`.
pub(crate) async fn unsubscribe(sink: &mut PubSubSink, shared: &Shared, scope: &str) {
    let _ = sink.punsubscribe(shared.channels.pattern(scope)).await;
    for ch in shared
        .channels
        .subscriptions(scope, shared.node.uid.as_str())
    {
        let _ = sink.unsubscribe(ch).await;
    }
}

/// The subscriber loop; `ready` is sent the first successful subscription.
pub(crate) async fn run_subscriber(
    client: redis::Client,
    shared: Weak<Shared>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    let mut down_logged = false;
    let mut backoff = Duration::from_millis(100);
    loop {
        let Some(s) = shared.upgrade() else { return };
        let timeout = s.options.connect_timeout;
        let node = s.node.uid.clone();
        drop(s);
        let opened = tokio::time::timeout(timeout, client.get_async_pubsub()).await;
        match opened {
            Ok(Ok(pubsub)) => {
                let (mut sink, mut stream) = pubsub.split();
                let Some(s) = shared.upgrade() else { return };
                let mut ok = true;
                for scope in s.node.scopes() {
                    if let Err(e) = subscribe(&mut sink, &s, &scope).await {
                        tracing::debug!(error = %e, "subscribing failed");
                        ok = false;
                        break;
                    }
                }
                if ok {
                    *s.sink.lock() = Some(sink);
                    s.node.connected.store(true, Ordering::Release);
                    if down_logged {
                        s.node.stats.reconnects.fetch_add(1, Ordering::Relaxed);
                        metrics::add(metrics::Counter::RedisReconnects, 1);
                        tracing::info!(%node, key = %s.options.key, "redis link back; subscriptions restored");
                        down_logged = false;
                    }
                    backoff = Duration::from_millis(100);
                    if let Some(r) = ready.take() {
                        let _ = r.send(());
                    }
                    drop(s);
                    while let Some(msg) = stream.next().await {
                        let Some(s) = shared.upgrade() else { return };
                        s.on_message(&msg).await;
                    }
                }
                let Some(s) = shared.upgrade() else { return };
                s.link_lost();
                if !down_logged {
                    tracing::warn!(%node, key = %s.options.key, "redis link lost; serving local clients only until it is back");
                    down_logged = true;
                }
            }
            Ok(Err(e)) => {
                if !down_logged {
                    tracing::warn!(%node, error = %e, "cannot reach redis; serving local clients only until it is back");
                    down_logged = true;
                }
            }
            Err(_) => {
                if !down_logged {
                    tracing::warn!(
                        %node,
                        "redis connection timed out; serving local clients only until it is back"
                    );
                    down_logged = true;
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

/// One message to publish.
pub(crate) struct Outgoing {
    pub channel: String,
    pub payload: Vec<u8>,
}

/// Most messages sent in one pipeline.
const BATCH: usize = 64;

/// The publisher loop: ends when the cluster is dropped.
pub(crate) async fn run_publisher(
    mut conn: ConnectionManager,
    mut queue: tokio::sync::mpsc::Receiver<Outgoing>,
    shared: Weak<Shared>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    while queue.recv_many(&mut batch, BATCH).await > 0 {
        let mut pipe = redis::pipe();
        for m in &batch {
            pipe.cmd("PUBLISH").arg(&m.channel).arg(&m.payload).ignore();
        }
        let sent = pipe.query_async::<()>(&mut conn).await;
        if sent.is_ok() {
            metrics::add(metrics::Counter::ClusterPublished, batch.len() as u64);
        }
        if let Err(e) = sent {
            let Some(s) = shared.upgrade() else { return };
            s.node
                .stats
                .dropped
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            tracing::debug!(error = %e, messages = batch.len(), "publish failed; dropped");
        }
        batch.clear();
    }
}

/// Keeps the subscriber's sink usable from synchronous code.
pub(crate) fn spawn_subscribe(shared: &Arc<Shared>, scope: String, on: bool) {
    let Some(mut sink) = shared.sink.lock().clone() else {
        return;
    };
    let s = Arc::downgrade(shared);
    tokio::spawn(async move {
        let Some(s) = s.upgrade() else { return };
        if on {
            if let Err(e) = subscribe(&mut sink, &s, &scope).await {
                tracing::debug!(error = %e, scope, "subscribing failed");
            }
        } else {
            unsubscribe(&mut sink, &s, &scope).await;
        }
    });
}
