//! `socket.compress(false).emit(…)`: one emit to this client, sent
//! uncompressed, as Node's `compress` flag. The flag marks the encoded
//! packet ([`roomcast_core::Message::compress`]): over WebSocket with
//! `permessage-deflate` it goes without compression whatever its size; on
//! long-polling an answer made only of such packets is not gzipped.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::Socket;
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
        self.socket.emit_compressed(event, data, self.compress)
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
        self.socket
            .emit_with_ack_compressed(event, data, timeout, self.compress)
            .await
    }
}
