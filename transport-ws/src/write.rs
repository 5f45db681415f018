//! Writing: frames encoded straight into one buffer (the thread's scratch
//! buffer), written at once; what the socket does not take is kept in
//! `unsent`, and everything written later queues behind it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use roomcast_core::Frame;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::deflate::Deflate;
use crate::scratch::{return_scratch, take_scratch, WRITE_SCRATCH};
use crate::wire::{self, OP_BINARY, OP_CLOSE, OP_TEXT};
use crate::WsConnection;

/// Encoded frames are written to the socket once this many bytes wait.
const WRITE_CHUNK: usize = 64 * 1024;

impl<S> WsConnection<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    /// Encodes one frame behind the bytes not yet written.
    pub(crate) fn queue_frame(&mut self, frame: &Frame) {
        encode(
            &mut self.unsent,
            frame,
            self.config.binary_prefix,
            self.deflate.as_deref_mut(),
        );
    }

    /// Queues a close frame, once.
    pub(crate) fn queue_close(&mut self, code: Option<u16>) {
        if self.close_sent {
            return;
        }
        self.close_sent = true;
        match code {
            Some(code) => wire::put_close(&mut self.unsent, code),
            None => wire::put_frame(&mut self.unsent, OP_CLOSE, &[]),
        }
    }

    /// Writes `unsent` as far as the socket takes it; `Ready(Ok)` once all
    /// of it is gone (the buffer is then released).
    pub(crate) fn poll_flush_unsent(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.unsent.is_empty() {
            return Poll::Ready(Ok(()));
        }
        let written = write_some(&mut self.io, cx, &self.unsent)?;
        if written < self.unsent.len() {
            self.unsent.drain(..written);
            return Poll::Pending;
        }
        self.unsent = Vec::new();
        let _ = Pin::new(&mut self.io).poll_flush(cx);
        Poll::Ready(Ok(()))
    }

    /// Encodes `frames` (emptying it) and writes them in as few writes as
    /// possible: what the socket does not take now stays in `unsent` (and
    /// with bytes already waiting there, everything queues behind them).
    pub(crate) fn write_frames(
        &mut self,
        cx: &mut Context<'_>,
        frames: &mut Vec<Frame>,
    ) -> io::Result<()> {
        let mut out = take_scratch(&WRITE_SCRATCH);
        out.clear();
        let mut result = Ok(());
        let prefix = self.config.binary_prefix;
        for frame in frames.drain(..) {
            encode(&mut out, &frame, prefix, self.deflate.as_deref_mut());
            if out.len() >= WRITE_CHUNK && result.is_ok() {
                result = self.write_now(cx, &mut out);
            }
        }
        if result.is_ok() {
            result = self.write_now(cx, &mut out);
        }
        if out.capacity() > 4 * WRITE_CHUNK {
            out = Vec::new();
        }
        return_scratch(&WRITE_SCRATCH, out);
        result
    }

    /// Writes `out` now as far as the socket takes it, keeping the rest in
    /// `unsent` (behind anything already there); empties `out`.
    fn write_now(&mut self, cx: &mut Context<'_>, out: &mut Vec<u8>) -> io::Result<()> {
        let written = if self.unsent.is_empty() {
            write_some(&mut self.io, cx, out)?
        } else {
            0
        };
        if written < out.len() {
            self.unsent.extend_from_slice(&out[written..]);
        } else {
            let _ = Pin::new(&mut self.io).poll_flush(cx);
        }
        out.clear();
        Ok(())
    }
}

/// Writes `buf` until the socket has taken all of it or would block (its
/// waker is then registered); returns how many bytes it took.
fn write_some<S: AsyncWrite + Unpin>(
    io: &mut S,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> io::Result<usize> {
    let mut written = 0;
    while written < buf.len() {
        match Pin::new(&mut *io).poll_write(cx, &buf[written..]) {
            Poll::Ready(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
            Poll::Ready(Ok(n)) => written += n,
            Poll::Ready(Err(e)) => return Err(e),
            Poll::Pending => break,
        }
    }
    Ok(written)
}

/// Encodes one frame, compressed (RSV1 set) when `permessage-deflate` was
/// agreed and the frame qualifies; a binary frame gets `binary_prefix`
/// before its payload (Engine.IO v3's type byte).
fn encode(
    out: &mut Vec<u8>,
    frame: &Frame,
    binary_prefix: Option<u8>,
    deflate: Option<&mut Deflate>,
) {
    // The payload is borrowed, not cloned: a clone of a frame's bytes made
    // from a `String` allocates their shared header.
    let prefixed: bytes::Bytes;
    let (opcode, payload): (u8, &bytes::Bytes) = match (frame, binary_prefix) {
        (Frame::Text(text), _) => (OP_TEXT, text.as_bytes()),
        (Frame::Binary(bytes), None) => (OP_BINARY, bytes),
        (Frame::Binary(bytes), Some(prefix)) => {
            if deflate.is_none() {
                wire::put_header(out, OP_BINARY, bytes.len() + 1);
                out.push(prefix);
                out.extend_from_slice(bytes);
                return;
            }
            let mut with_prefix = Vec::with_capacity(bytes.len() + 1);
            with_prefix.push(prefix);
            with_prefix.extend_from_slice(bytes);
            prefixed = bytes::Bytes::from(with_prefix);
            (OP_BINARY, &prefixed)
        }
    };
    if let Some(deflated) = deflate.and_then(|d| d.deflate(payload, frame.compress())) {
        wire::put_header_rsv(out, opcode, true, deflated.len());
        out.extend_from_slice(&deflated);
        return;
    }
    wire::put_frame(out, opcode, payload);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binary_prefix_goes_before_the_payload_and_counts_in_the_length() {
        let mut out = Vec::new();
        encode(&mut out, &Frame::binary(vec![1, 2]), Some(4), None);
        encode(&mut out, &Frame::text("4a"), Some(4), None);
        assert_eq!(out, [0x82, 3, 4, 1, 2, 0x81, 2, b'4', b'a']);
        out.clear();
        encode(&mut out, &Frame::binary(vec![1, 2]), None, None);
        assert_eq!(out, [0x82, 2, 1, 2]);
    }
}
