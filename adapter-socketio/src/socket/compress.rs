//! A socket's emits, with Node's `compress` flag:
//! `socket.compress(false).emit(…)` is one emit to this client, sent
//! uncompressed; [`Socket::emit`] and [`Socket::emit_with_ack`] are those
//! of `socket.compress(true)`. The flag marks the encoded packet
//! ([`roomcast_core::Message::compress`]): over WebSocket with
//! `permessage-deflate` it goes without compression whatever its size; on
//! long-polling an answer made only of such packets is not gzipped.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::Socket;
use crate::reserved::check_event;
use crate::{AckError, EmitError};

/// An emit to one socket with the `compress` flag set; made by
/// [`Socket::compress`].
///
/// ```no_run
/// # fn f(socket: roomcast_socketio::Socket) {
/// socket.compress(false).emit("frame", &vec![0u8; 4096]).ok();
/// # }
/// ```
#[derive(Debug)]
pub struct CompressEmit<'a> {
    socket: &'a Socket,
    compress: bool,
}

impl Socket {
    /// Whether the next emit may be compressed (default true); see
    /// [`CompressEmit`].
    pub fn compress(&self, compress: bool) -> CompressEmit<'_> {
        CompressEmit {
            socket: self,
            compress,
        }
    }

    /// An emit with the default flag (may be compressed): what
    /// [`Socket::emit`] and [`Socket::emit_with_ack`] are.
    pub(super) fn compressible(&self) -> CompressEmit<'_> {
        self.compress(true)
    }
}

impl CompressEmit<'_> {
    /// [`Socket::emit`] with the flag.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        check_event(event)?;
        let socket = self.socket;
        let message = socket
            .0
            .ns
            .parser()
            .encode_event(socket.0.ns.name(), event, data, None)?
            .compress(self.compress);
        socket.notify_outgoing(event, data);
        roomcast_core::metrics::add(roomcast_core::metrics::Counter::EventsOut, 1);
        socket.send_event(message)
    }

    /// [`Socket::emit_with_ack`] with the flag.
    pub async fn emit_with_ack<T, R>(
        &self,
        event: &str,
        data: &T,
        timeout: Duration,
    ) -> Result<R, AckError>
    where
        T: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        check_event(event)?;
        let socket = self.socket;
        let id = socket.0.ns.next_ack_id();
        let message = socket
            .0
            .ns
            .parser()
            .encode_event(socket.0.ns.name(), event, data, Some(id))
            .map_err(EmitError::from)?
            .compress(self.compress);
        let reply = socket.register_ack(id).ok_or(AckError::Disconnected)?;
        socket.notify_outgoing(event, data);
        if let Err(e) = socket.send_raw(message) {
            socket.0.acks.lock().remove(&id);
            return Err(e.into());
        }
        match tokio::time::timeout(timeout, reply).await {
            Ok(Ok(reply)) => Ok(reply.decode()?),
            Ok(Err(_)) => Err(AckError::Disconnected),
            Err(_) => {
                socket.0.acks.lock().remove(&id);
                Err(AckError::Timeout)
            }
        }
    }
}
