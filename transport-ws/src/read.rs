//! Reading: bytes from the socket into frames, fragments into messages,
//! pings answered and close frames echoed on the way.
//!
//! Reads go into the thread's scratch buffer; only the start of an
//! incomplete frame (at most one read chunk, whatever its header announces)
//! or a fragmented message is kept per connection.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use roomcast_core::{CloseReason, Frame, Text};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::ReadEnd;
use crate::received;
use crate::scratch::{return_scratch, take_scratch, READ_SCRATCH};
use crate::wire::{self, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT};
use crate::{WsConnection, WsError};

/// Bytes read from a socket at a time, into a buffer each thread shares
/// between its connections.
const READ_CHUNK: usize = 64 * 1024;

fn message(opcode: u8, payload: Bytes) -> Result<Frame, WsError> {
    if opcode == OP_TEXT {
        Text::from_utf8(payload)
            .map(Frame::Text)
            .map_err(|_| WsError::InvalidUtf8)
    } else {
        Ok(Frame::Binary(payload))
    }
}

impl<S> WsConnection<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    /// Reads once from the socket and hands every complete message to
    /// `deliver`, in order. `Ready(Ok(()))` after a read (which may have
    /// brought only part of a frame); `Pending` when there is nothing to
    /// read.
    ///
    /// Reads go into the thread's buffer, after the carried start of an
    /// incomplete frame; only a frame bigger than that buffer is read into
    /// a buffer of its own.
    pub(crate) fn poll_read_messages(
        &mut self,
        cx: &mut Context<'_>,
        deliver: &mut dyn FnMut(Frame) -> Result<(), CloseReason>,
    ) -> Poll<Result<(), ReadEnd>> {
        let carried = self.partial.len();
        if carried > 0 && self.frame_len(&self.partial) > READ_CHUNK {
            return self.poll_read_large(cx, deliver);
        }
        let mut buf = take_scratch(&READ_SCRATCH);
        if buf.len() < READ_CHUNK {
            buf = vec![0; READ_CHUNK];
        }
        buf[..carried].copy_from_slice(&self.partial);
        let mut read = ReadBuf::new(&mut buf[carried..]);
        let polled = Pin::new(&mut self.io).poll_read(cx, &mut read);
        let n = read.filled().len();
        let result = match polled {
            Poll::Pending => {
                return_scratch(&READ_SCRATCH, buf);
                return Poll::Pending;
            }
            Poll::Ready(Err(e)) => Err(ReadEnd::Connection(WsError::Io(e))),
            Poll::Ready(Ok(())) if n == 0 => Err(ReadEnd::Connection(WsError::Closed)),
            Poll::Ready(Ok(())) => {
                self.partial = Vec::new();
                let end = carried + n;
                self.parse_frames(&mut buf[..end], deliver).map(|used| {
                    if used < end {
                        self.keep_partial(&buf[used..end]);
                    }
                })
            }
        };
        return_scratch(&READ_SCRATCH, buf);
        Poll::Ready(result)
    }

    /// The whole size of the frame `buf` starts with (header and payload),
    /// or a header's worth when the header is incomplete or invalid.
    fn frame_len(&self, buf: &[u8]) -> usize {
        match wire::parse(buf, self.config.max_message_size) {
            Ok(Some(h)) => h.size + h.len,
            _ => 14,
        }
    }

    /// Keeps the start of an incomplete frame.
    fn keep_partial(&mut self, rest: &[u8]) {
        // Room for the whole frame, up to one read chunk: a peer that
        // announces a large frame and stalls holds only what it sent.
        let whole = self.frame_len(rest);
        self.partial = Vec::with_capacity(whole.min(READ_CHUNK).max(rest.len()));
        self.partial.extend_from_slice(rest);
    }

    /// Reads a frame bigger than the thread's buffer into a buffer of its
    /// own, so that its bytes are copied once; the buffer grows with what
    /// the peer sends, not with what its header announces.
    fn poll_read_large(
        &mut self,
        cx: &mut Context<'_>,
        deliver: &mut dyn FnMut(Frame) -> Result<(), CloseReason>,
    ) -> Poll<Result<(), ReadEnd>> {
        let whole = self.frame_len(&self.partial);
        let mut buf = std::mem::take(&mut self.partial);
        let old = buf.len();
        let room = whole.saturating_sub(old).clamp(1, READ_CHUNK);
        buf.resize(old + room, 0);
        let mut read = ReadBuf::new(&mut buf[old..]);
        let polled = Pin::new(&mut self.io).poll_read(cx, &mut read);
        let n = read.filled().len();
        buf.truncate(old + n);
        let result = match polled {
            Poll::Pending => {
                self.partial = buf;
                return Poll::Pending;
            }
            Poll::Ready(Err(e)) => Err(ReadEnd::Connection(WsError::Io(e))),
            Poll::Ready(Ok(())) if n == 0 => Err(ReadEnd::Connection(WsError::Closed)),
            Poll::Ready(Ok(())) => self.parse_frames(&mut buf, deliver).map(|used| {
                if used == 0 {
                    self.partial = buf;
                } else if used < buf.len() {
                    self.keep_partial(&buf[used..]);
                }
            }),
        };
        Poll::Ready(result)
    }

    /// Handles every complete frame at the start of `buf`; returns how many
    /// bytes they took.
    fn parse_frames(
        &mut self,
        buf: &mut [u8],
        deliver: &mut dyn FnMut(Frame) -> Result<(), CloseReason>,
    ) -> Result<usize, ReadEnd> {
        let mut pos = 0;
        while let Some(h) = wire::parse(&buf[pos..], self.config.max_message_size)? {
            let end = pos + h.size + h.len;
            if end > buf.len() {
                break;
            }
            let payload = &mut buf[pos + h.size..end];
            wire::unmask(payload, h.mask);
            pos = end;
            if h.rsv1 && self.deflate.is_none() {
                return Err(WsError::Protocol("RSV1 set without permessage-deflate").into());
            }
            self.on_frame(h.opcode, h.fin, h.rsv1, payload, deliver)?;
        }
        Ok(pos)
    }

    fn on_frame(
        &mut self,
        opcode: u8,
        fin: bool,
        compressed: bool,
        payload: &[u8],
        deliver: &mut dyn FnMut(Frame) -> Result<(), CloseReason>,
    ) -> Result<(), ReadEnd> {
        let max = self.config.max_message_size;
        match opcode {
            OP_PING => wire::put_frame(&mut self.unsent, OP_PONG, payload),
            OP_PONG => {}
            OP_CLOSE => {
                // Echo the peer's code (none if it sent none).
                if !self.close_sent {
                    self.close_sent = true;
                    wire::put_frame(&mut self.unsent, OP_CLOSE, payload.get(..2).unwrap_or(&[]));
                }
                return Err(ReadEnd::Connection(WsError::Closed));
            }
            OP_TEXT | OP_BINARY => {
                if self.fragments.is_some() {
                    return Err(WsError::Protocol("new message inside a fragmented one").into());
                }
                if fin {
                    let data = match (compressed, self.deflate.as_deref_mut()) {
                        (true, Some(d)) => Bytes::from(d.inflate(payload, max)?),
                        _ => received::copy(payload),
                    };
                    deliver(message(opcode, data)?).map_err(ReadEnd::Refused)?;
                } else {
                    self.fragments = Some(Box::new((opcode, compressed, payload.to_vec())));
                }
            }
            OP_CONTINUATION => {
                let Some(mut pending) = self.fragments.take() else {
                    return Err(WsError::Protocol("continuation without a message").into());
                };
                let (first, compressed, data) = &mut *pending;
                if data.len() + payload.len() > max {
                    return Err(WsError::TooBig.into());
                }
                data.extend_from_slice(payload);
                if fin {
                    let (first, compressed) = (*first, *compressed);
                    let mut data = std::mem::take(data);
                    if let (true, Some(d)) = (compressed, self.deflate.as_deref_mut()) {
                        data = d.inflate(&data, max)?;
                    }
                    deliver(message(first, Bytes::from(data))?).map_err(ReadEnd::Refused)?;
                } else {
                    self.fragments = Some(pending);
                }
            }
            // `wire::parse` lets no other opcode through.
            _ => return Err(WsError::Protocol("unknown opcode").into()),
        }
        Ok(())
    }
}
