//! `socket.compress(false).emit(…)`: one emit to this client, sent
//! uncompressed, as Node's `compress` flag. The flag marks the encoded
//! packet ([`roomcast_core::Message::compress`]): over WebSocket with
//! `permessage-deflate` it goes without compression whatever its size; on
//! long-polling an answer made only of such packets is not gzipped.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::Socket;
use crate::parser::encode_event;
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
}

impl CompressEmit<'_> {
    /// [`Socket::emit`] with the flag.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        check_event(event)?;
        let s = self.socket;
        let message = encode_event(s.0.ns.name(), event, data, None)?.compress(self.compress);
        s.notify_outgoing(event, data);
        s.send_event(&message)
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
        let s = self.socket;
        let id = s.0.ns.next_ack_id();
        let message = encode_event(s.0.ns.name(), event, data, Some(id))
            .map_err(EmitError::from)?
            .compress(self.compress);
        let reply = s.register_ack(id).ok_or(AckError::Disconnected)?;
        s.notify_outgoing(event, data);
        if let Err(e) = s.send_raw(&message) {
            s.forget_ack(id);
            return Err(e.into());
        }
        match tokio::time::timeout(timeout, reply).await {
            Ok(Ok(reply)) => Ok(reply.decode()?),
            Ok(Err(_)) => Err(AckError::Disconnected),
            Err(_) => {
                s.forget_ack(id);
                Err(AckError::Timeout)
            }
        }
    }
}
