//! One WebSocket connection. See the [crate docs](crate) for its semantics.

use std::cell::Cell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use roomcast_core::{CloseReason, Frame, Text};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::wire::{self, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT};

/// Limits of a WebSocket connection.
///
/// ```
/// use roomcast_transport_ws::WsConfig;
/// let c = WsConfig { max_message_size: 1_000_000, ..WsConfig::default() };
/// assert_eq!(c.close_grace, std::time::Duration::from_secs(20));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WsConfig {
    /// The largest message accepted from the peer; bigger ones close with 1009.
    pub max_message_size: usize,
    /// Once the session has closed, how long the peer has to take the last
    /// frames before the connection is dropped.
    pub close_grace: Duration,
}

impl Default for WsConfig {
    fn default() -> Self {
        WsConfig {
            max_message_size: 1_000_000,
            close_grace: Duration::from_secs(20),
        }
    }
}

/// Why a WebSocket read or write failed.
#[derive(Debug, thiserror::Error)]
pub enum WsError {
    /// The peer sent a message over [`WsConfig::max_message_size`].
    #[error("message over the size limit")]
    TooBig,
    /// The peer closed the connection (close frame or end of stream).
    #[error("connection closed by the peer")]
    Closed,
    /// The peer broke the WebSocket protocol.
    #[error("websocket protocol violation: {0}")]
    Protocol(&'static str),
    /// A text message that is not UTF-8.
    #[error("text message is not valid UTF-8")]
    InvalidUtf8,
    /// The socket failed.
    #[error("websocket i/o failure: {0}")]
    Io(#[from] io::Error),
}

impl WsError {
    /// The close code this error is answered with, if any.
    pub(crate) fn close_code(&self) -> Option<u16> {
        match self {
            WsError::TooBig => Some(1009),
            WsError::Protocol(_) => Some(1002),
            WsError::InvalidUtf8 => Some(1007),
            WsError::Closed | WsError::Io(_) => None,
        }
    }
}

/// Bytes read from a socket at a time, into a buffer each thread shares
/// between its connections.
const READ_CHUNK: usize = 64 * 1024;
/// Encoded frames are written to the socket once this many bytes wait.
const WRITE_CHUNK: usize = 64 * 1024;

thread_local! {
    static READ_SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    static WRITE_SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// One WebSocket connection (server side), after the handshake.
///
/// It holds no buffer while idle: reads go through a per-thread buffer,
/// and only an incomplete frame, a fragmented message or bytes the socket
/// did not take are kept per connection.
pub struct WsConnection<S> {
    pub(crate) io: S,
    pub(crate) config: WsConfig,
    /// The start of a frame whose end has not arrived.
    partial: Vec<u8>,
    /// A fragmented message being put together: its opcode and payload.
    fragments: Option<(u8, Vec<u8>)>,
    /// Messages read by [`WsConnection::recv`] but not handed out yet.
    pub(crate) backlog: VecDeque<Frame>,
    /// Encoded bytes the socket has not taken yet.
    pub(crate) unsent: Vec<u8>,
    close_sent: bool,
}

impl<S> std::fmt::Debug for WsConnection<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsConnection")
            .field("partial", &self.partial.len())
            .field("unsent", &self.unsent.len())
            .finish_non_exhaustive()
    }
}

/// Why reading stopped.
pub(crate) enum Stop {
    /// The peer or the socket.
    Ws(WsError),
    /// The endpoint refused a message (it has closed the session).
    Endpoint(CloseReason),
}

impl From<WsError> for Stop {
    fn from(e: WsError) -> Self {
        Stop::Ws(e)
    }
}

fn message(opcode: u8, payload: Bytes) -> Result<Frame, WsError> {
    if opcode == OP_TEXT {
        Text::from_utf8(payload)
            .map(Frame::Text)
            .map_err(|_| WsError::InvalidUtf8)
    } else {
        Ok(Frame::Binary(payload))
    }
}

fn take_scratch(slot: &'static std::thread::LocalKey<Cell<Vec<u8>>>) -> Vec<u8> {
    slot.with(Cell::take)
}

fn give_back(slot: &'static std::thread::LocalKey<Cell<Vec<u8>>>, buf: Vec<u8>) {
    slot.with(|c| c.set(buf));
}

impl<S> WsConnection<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    /// Wraps a stream on which the WebSocket handshake already happened.
    pub fn new(io: S, config: WsConfig) -> Self {
        WsConnection {
            io,
            config,
            partial: Vec::new(),
            fragments: None,
            backlog: VecDeque::new(),
            unsent: Vec::new(),
            close_sent: false,
        }
    }

    /// The next data message from the peer; pings are answered, pongs
    /// skipped. `Ok(None)` when the peer closed cleanly.
    pub async fn recv(&mut self) -> Result<Option<Frame>, WsError> {
        poll_fn(|cx| {
            loop {
                if let Some(frame) = self.backlog.pop_front() {
                    return Poll::Ready(Ok(Some(frame)));
                }
                // A pong owed to the peer goes out as soon as we can.
                if let Poll::Ready(Err(e)) = self.poll_flush_unsent(cx) {
                    return Poll::Ready(Err(WsError::Io(e)));
                }
                let mut backlog = std::mem::take(&mut self.backlog);
                let read = self.poll_read_messages(cx, &mut |f| {
                    backlog.push_back(f);
                    Ok(())
                });
                self.backlog = backlog;
                match ready!(read) {
                    Ok(()) => continue,
                    Err(Stop::Ws(WsError::Closed)) => return Poll::Ready(Ok(None)),
                    Err(Stop::Ws(e)) => return Poll::Ready(Err(e)),
                    Err(Stop::Endpoint(_)) => return Poll::Ready(Err(WsError::Closed)),
                }
            }
        })
        .await
    }

    /// Writes one frame and waits until the socket has taken it.
    pub async fn send(&mut self, frame: Frame) -> Result<(), WsError> {
        encode(&mut self.unsent, &frame);
        poll_fn(|cx| self.poll_flush_unsent(cx)).await?;
        Ok(())
    }

    /// Sends a close frame (with a code when given) and ends the connection.
    pub async fn close(mut self, code: Option<u16>) {
        self.queue_close(code);
        if poll_fn(|cx| self.poll_flush_unsent(cx)).await.is_ok() {
            let _ = poll_fn(|cx| Pin::new(&mut self.io).poll_shutdown(cx)).await;
        }
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
    ) -> Poll<Result<(), Stop>> {
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
                give_back(&READ_SCRATCH, buf);
                return Poll::Pending;
            }
            Poll::Ready(Err(e)) => Err(Stop::Ws(WsError::Io(e))),
            Poll::Ready(Ok(())) if n == 0 => Err(Stop::Ws(WsError::Closed)),
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
        give_back(&READ_SCRATCH, buf);
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
    ) -> Poll<Result<(), Stop>> {
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
            Poll::Ready(Err(e)) => Err(Stop::Ws(WsError::Io(e))),
            Poll::Ready(Ok(())) if n == 0 => Err(Stop::Ws(WsError::Closed)),
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
    ) -> Result<usize, Stop> {
        let mut pos = 0;
        while let Some(h) = wire::parse(&buf[pos..], self.config.max_message_size)? {
            let end = pos + h.size + h.len;
            if end > buf.len() {
                break;
            }
            let payload = &mut buf[pos + h.size..end];
            wire::unmask(payload, h.mask);
            pos = end;
            self.on_frame(h.opcode, h.fin, payload, deliver)?;
        }
        Ok(pos)
    }

    fn on_frame(
        &mut self,
        opcode: u8,
        fin: bool,
        payload: &[u8],
        deliver: &mut dyn FnMut(Frame) -> Result<(), CloseReason>,
    ) -> Result<(), Stop> {
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
                return Err(Stop::Ws(WsError::Closed));
            }
            OP_TEXT | OP_BINARY => {
                if self.fragments.is_some() {
                    return Err(WsError::Protocol("new message inside a fragmented one").into());
                }
                if fin {
                    let frame = message(opcode, Bytes::copy_from_slice(payload))?;
                    deliver(frame).map_err(Stop::Endpoint)?;
                } else {
                    self.fragments = Some((opcode, payload.to_vec()));
                }
            }
            OP_CONTINUATION => {
                let Some((first, mut data)) = self.fragments.take() else {
                    return Err(WsError::Protocol("continuation without a message").into());
                };
                if data.len() + payload.len() > max {
                    return Err(WsError::TooBig.into());
                }
                data.extend_from_slice(payload);
                if fin {
                    let frame = message(first, Bytes::from(data))?;
                    deliver(frame).map_err(Stop::Endpoint)?;
                } else {
                    self.fragments = Some((first, data));
                }
            }
            // `wire::parse` lets no other opcode through.
            _ => return Err(WsError::Protocol("unknown opcode").into()),
        }
        Ok(())
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
        for frame in frames.drain(..) {
            encode(&mut out, &frame);
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
        give_back(&WRITE_SCRATCH, out);
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

fn encode(out: &mut Vec<u8>, frame: &Frame) {
    match frame {
        Frame::Text(text) => wire::put_frame(out, OP_TEXT, text.as_bytes()),
        Frame::Binary(bytes) => wire::put_frame(out, OP_BINARY, bytes),
    }
}
