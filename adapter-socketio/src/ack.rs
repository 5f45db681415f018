//! Acknowledgements, both ways.
//!
//! - Client → server: an event sent with an ack id gives its handler an
//!   [`AckSender`]; sending consumes it, so the id is answered at most once
//!   (the compiler enforces it). Dropping it unanswered sends nothing, as
//!   in the reference server.
//! - Server → client: [`Socket::emit_with_ack`](crate::Socket::emit_with_ack)
//!   registers the id before the packet is queued, then waits for the answer
//!   until the timeout ([`AckError::Timeout`]) or the socket's disconnect
//!   ([`AckError::Disconnected`]).
//! - Broadcast: [`BroadcastOperator::emit_with_ack`](crate::BroadcastOperator::emit_with_ack)
//!   encodes once with one id, registers it on every recipient, and collects
//!   one answer per recipient, naming those that did not answer in time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use roomcast_core::ClientId;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::parser::{decode_args, DecodeError, Header, PacketType};
use crate::{EmitError, Socket};

/// An answer from a client, not yet decoded.
#[derive(Debug, Clone)]
pub struct AckReply {
    /// The answer's arguments.
    pub args: Vec<Value>,
    /// Its binary attachments.
    pub attachments: Vec<Bytes>,
}

impl AckReply {
    /// Decodes the arguments (same rules as event handlers' arguments).
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, DecodeError> {
        decode_args(&self.args, &self.attachments)
    }
}

/// Why no acknowledgement came.
#[derive(Debug, thiserror::Error)]
pub enum AckError {
    /// The client did not answer within the timeout.
    #[error("acknowledgement timed out")]
    Timeout,
    /// The socket disconnected before answering.
    #[error("socket disconnected before acknowledging")]
    Disconnected,
    /// The answer did not decode into the expected type.
    #[error("acknowledgement did not decode: {0}")]
    Decode(#[from] DecodeError),
    /// The event could not be sent.
    #[error(transparent)]
    Emit(#[from] EmitError),
}

/// Answers one event's acknowledgement request.
///
/// ```no_run
/// # use roomcast_socketio::{Socket, AckSender};
/// # fn f(socket: Socket) {
/// socket.on("ping", |_socket: Socket, n: u32, ack: AckSender| async move {
///     ack.send(&("pong", n)).ok();
/// });
/// # }
/// ```
#[derive(Debug)]
pub struct AckSender {
    socket: Socket,
    id: Option<u64>,
    /// Set when several listeners of one event share its ack: the first
    /// `send` answers.
    shared: Option<Arc<AtomicBool>>,
}

impl AckSender {
    pub(crate) fn new(socket: Socket, id: Option<u64>, shared: bool) -> Self {
        let shared = (shared && id.is_some()).then(Arc::default);
        AckSender { socket, id, shared }
    }

    /// Another handle on a shared ack.
    pub(crate) fn share(&self) -> Self {
        AckSender {
            socket: self.socket.clone(),
            id: self.id,
            shared: self.shared.clone(),
        }
    }

    /// The id to answer, unless another listener answered first.
    fn take_id(&self) -> Option<u64> {
        match &self.shared {
            Some(sent) if sent.swap(true, Ordering::AcqRel) => None,
            _ => self.id,
        }
    }

    /// Whether the client asked for an acknowledgement.
    pub fn expected(&self) -> bool {
        self.id.is_some()
    }

    /// Sends the acknowledgement with these arguments (same rules as
    /// `emit`: a tuple is several arguments). Does nothing when none was
    /// asked for. It consumes the sender: an ack is answered once.
    pub fn send<T: Serialize + ?Sized>(self, data: &T) -> Result<(), EmitError> {
        let Some(id) = self.take_id() else {
            return Ok(());
        };
        let ns = self.socket.ns();
        let message = ns.parser().encode_ack(ns.name(), id, data)?;
        self.socket.send_raw(message)
    }
}

impl AckSender {
    /// Sends the acknowledgement with arguments as received
    /// ([`Socket::on_raw`](crate::Socket::on_raw)) or built with
    /// [`RawArgs::new`](crate::RawArgs::new).
    pub fn send_raw(self, args: &crate::RawArgs) -> Result<(), EmitError> {
        let Some(id) = self.take_id() else {
            return Ok(());
        };
        let ns = self.socket.ns();
        let header = Header::new(PacketType::Ack, ns.name(), Some(id));
        let message = ns.parser().encode_raw(header, None, args)?;
        self.socket.send_raw(message)
    }
}

/// The answers to a broadcast with acknowledgement.
#[derive(Debug)]
pub struct BroadcastAcks<T> {
    /// One entry per recipient that answered in time.
    pub responses: Vec<(ClientId, T)>,
    /// Recipients that did not answer in time (or disconnected first).
    pub timed_out: Vec<ClientId>,
    /// Recipients whose answer did not decode into `T`.
    pub invalid: Vec<(ClientId, DecodeError)>,
    /// Answers from sockets on other nodes (the cluster protocol does not
    /// say which socket gave which).
    pub remote: Vec<T>,
    /// Answers other nodes announced that did not come in time (or did
    /// not decode into `T`).
    pub missing_remote: usize,
}

impl<T> BroadcastAcks<T> {
    /// Whether every recipient answered.
    pub fn complete(&self) -> bool {
        self.timed_out.is_empty() && self.invalid.is_empty() && self.missing_remote == 0
    }

    /// Every answer, from this node's sockets and the others'.
    pub fn into_answers(self) -> Vec<T> {
        let mut all: Vec<T> = self.responses.into_iter().map(|(_, v)| v).collect();
        all.extend(self.remote);
        all
    }
}

pub(crate) type AckSlot = tokio::sync::oneshot::Sender<AckReply>;
