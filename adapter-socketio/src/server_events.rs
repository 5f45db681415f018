//! Events between servers of a cluster (`serverSideEmit`).
//!
//! [`Namespace::server_side_emit`] sends an event to every *other* server
//! of the cluster (never to clients, never to this server); each runs the
//! handler registered with [`Namespace::on_server_event`] for that event
//! name. With [`Namespace::server_side_emit_with_ack`] every other server
//! answers once ([`ServerEvent::ack`], one value) and the sender collects
//! the answers until all servers answered, the cluster reports that no live
//! server is left to answer, or the timeout. Arguments and answers travel
//! as JSON (the protocol of the reference servers), binary parts as Node's
//! `JSON.stringify` writes a Buffer: `{"type":"Buffer","data":[bytes]}`.
//! Decoded as bytes ([`bytes::Bytes`]) such an object gives the bytes back;
//! [`ServerEvent::args`] shows it as it came.
//! An event with no handler is logged at debug level and ignored (a server
//! waiting for its answer counts it as missing).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use roomcast_core::cluster::{NodeId, Request, RequestId, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::handler::BoxFuture;
use crate::parser::ser::{to_node_json, with_node_buffers};
use crate::parser::{args_to_value, decode_args, from_value, DecodeError};
use crate::{AckError, EmitError, Namespace};

type ServerEventFn = Arc<dyn Fn(ServerEvent) -> BoxFuture<()> + Send + Sync>;

/// The server-event handlers of one namespace.
#[derive(Default)]
pub(crate) struct ServerEventHandlers(RwLock<HashMap<String, ServerEventFn>>);

/// An event from another server of the cluster.
///
/// ```no_run
/// # fn f(io: roomcast_socketio::Server) {
/// io.on_server_event("whoami", |event| async move {
///     event.ack(&"node-a").ok();
/// });
/// # }
/// ```
pub struct ServerEvent {
    from: NodeId,
    event: String,
    args: Vec<Value>,
    ack: Option<(RequestId, mpsc::Sender<Response>)>,
    answered: AtomicBool,
}

impl std::fmt::Debug for ServerEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerEvent")
            .field("from", &self.from)
            .field("event", &self.event)
            .field("args", &self.args)
            .finish()
    }
}

impl ServerEvent {
    /// The event name.
    pub fn event(&self) -> &str {
        &self.event
    }

    /// The server that sent it.
    pub fn from(&self) -> &NodeId {
        &self.from
    }

    /// The raw arguments (JSON).
    pub fn args(&self) -> &[Value] {
        &self.args
    }

    /// Decodes the arguments (same rules as socket event handlers: a tuple
    /// for several).
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, DecodeError> {
        decode_args(&self.args, &[])
    }

    /// Whether the sender waits for an answer.
    pub fn expects_ack(&self) -> bool {
        self.ack.is_some()
    }

    /// Answers the sender with one value. Only the first answer is sent;
    /// without a waiting sender it does nothing.
    pub fn ack<T: Serialize + ?Sized>(&self, answer: &T) -> Result<(), EmitError> {
        let Some((request, reply)) = &self.ack else {
            return Ok(());
        };
        if self.answered.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let answer = to_node_json(answer)?;
        let payload = serde_json::to_vec(&answer).map_err(|e| EmitError::Encode(e.into()))?;
        reply
            .try_send(Response::ServerMessage {
                request: *request,
                payload,
            })
            .map_err(|_| EmitError::Closed)
    }
}

/// The answers of the other servers to a server-side emit.
#[derive(Debug)]
pub struct ServerAcks<R> {
    /// One decoded answer per server that answered in time.
    pub responses: Vec<R>,
    /// Answers that did not decode into `R`.
    pub invalid: Vec<DecodeError>,
    /// Servers asked that did not answer (timed out, or stopped).
    pub missing: usize,
}

impl Namespace {
    /// Handles events `event` sent by other servers with
    /// [`Namespace::server_side_emit`] (or Node's `serverSideEmit`). A
    /// second handler for the same name replaces the first.
    pub fn on_server_event<F, Fut>(&self, event: &str, handler: F)
    where
        F: Fn(ServerEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let f: ServerEventFn = Arc::new(move |e| Box::pin(handler(e)));
        self.server_events().0.write().insert(event.to_string(), f);
    }

    /// Sends an event to every other server of the cluster (not to
    /// clients). `data` follows the rules of `emit` (a tuple is several
    /// arguments).
    pub fn server_side_emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), EmitError> {
        let payload = server_payload(event, data)?;
        let cluster = self.hub().cluster();
        if cluster.forwards() {
            cluster
                .publish(
                    self.name(),
                    Request::ServerMessage {
                        request: None,
                        payload,
                    },
                )
                .map_err(|e| {
                    tracing::warn!(error = %e, "server-side emit not forwarded");
                    EmitError::Closed
                })?;
        }
        Ok(())
    }

    /// Sends an event to every other server and collects one answer from
    /// each, within `timeout`.
    pub async fn server_side_emit_with_ack<T, R>(
        &self,
        event: &str,
        data: &T,
        timeout: Duration,
    ) -> Result<ServerAcks<R>, AckError>
    where
        T: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let payload = server_payload(event, data)?;
        let mut acks = ServerAcks {
            responses: Vec::new(),
            invalid: Vec::new(),
            missing: 0,
        };
        let cluster = self.hub().cluster();
        if !cluster.forwards() {
            return Ok(acks);
        }
        let request = Request::ServerMessage {
            request: Some(self.next_ack_id()),
            payload,
        };
        let mut remote = match cluster.request(self.name(), request).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "server-side emit not forwarded");
                return Err(EmitError::Closed.into());
            }
        };
        let mut answers = 0;
        let _ = tokio::time::timeout(timeout, async {
            while answers < remote.nodes {
                let Some(envelope) = remote.answers.recv().await else {
                    break;
                };
                if let Response::ServerMessage { payload, .. } = envelope.body {
                    answers += 1;
                    let decoded = serde_json::from_slice::<Value>(&payload)
                        .map_err(DecodeError::InvalidJson)
                        .and_then(|v| from_value::<R>(&v, &[]));
                    match decoded {
                        Ok(v) => acks.responses.push(v),
                        Err(e) => acks.invalid.push(e),
                    }
                }
            }
        })
        .await;
        acks.missing = remote.nodes.saturating_sub(answers);
        Ok(acks)
    }

    /// Runs the handler of a server message from another node.
    pub(crate) fn dispatch_server_event(
        &self,
        from: NodeId,
        request: Option<RequestId>,
        payload: &[u8],
        reply: mpsc::Sender<Response>,
    ) {
        let mut args = match serde_json::from_slice::<Vec<Value>>(payload) {
            Ok(args) if matches!(args.first(), Some(Value::String(_))) => args,
            _ => {
                tracing::debug!(node = %from, "server message is not [event, ...args]; ignored");
                return;
            }
        };
        let Value::String(event) = args.remove(0) else {
            return;
        };
        let handler = self.server_events().0.read().get(&event).cloned();
        let Some(handler) = handler else {
            tracing::debug!(node = %from, event, "no handler for server event");
            return;
        };
        let event = ServerEvent {
            from,
            event,
            args,
            ack: request.map(|r| (r, reply)),
            answered: AtomicBool::new(false),
        };
        crate::handler::run(handler(event), || {});
    }
}

fn server_payload<T: Serialize + ?Sized>(event: &str, data: &T) -> Result<Vec<u8>, EmitError> {
    let (all, attachments) = args_to_value(Some(event), data)?;
    serde_json::to_vec(&with_node_buffers(all, &attachments))
        .map_err(|e| EmitError::Encode(e.into()))
}
