//! One WebSocket connection: its state, and the calls for a handshake-time
//! exchange ([`WsConnection::recv`], [`WsConnection::send`]) before
//! [`WsConnection::serve`] takes over. See the [crate docs](crate) for the
//! semantics; reading is in `read.rs`, encoding and writing in `write.rs`.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{ready, Poll};

use roomcast_core::Frame;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::deflate::{Deflate, Negotiated};
use crate::error::ReadEnd;
use crate::{WsConfig, WsError};

/// One WebSocket connection (server side), after the handshake.
///
/// It holds no buffer while idle: reads go through a per-thread buffer,
/// and only an incomplete frame, a fragmented message or bytes the socket
/// did not take are kept per connection.
pub struct WsConnection<S> {
    pub(crate) io: S,
    pub(crate) config: WsConfig,
    /// The start of a frame whose end has not arrived.
    pub(crate) partial: Vec<u8>,
    /// A fragmented message being put together: its opcode, whether it is
    /// compressed, and its payload (boxed, as the backlog: both are rare,
    /// and the connection lives in its task for as long as it is open).
    pub(crate) fragments: Option<Box<(u8, bool, Vec<u8>)>>,
    /// Messages read by [`WsConnection::recv`] but not handed out yet
    /// (`None` when there are none; a box is 8 bytes inline where a queue
    /// is 32, and only the handshake-time `recv` ever fills it).
    #[allow(clippy::box_collection)]
    pub(crate) backlog: Option<Box<VecDeque<Frame>>>,
    /// Encoded bytes the socket has not taken yet.
    pub(crate) unsent: Vec<u8>,
    pub(crate) close_sent: bool,
    /// `permessage-deflate`, when negotiated (its zlib state is allocated
    /// with the first message that needs it).
    pub(crate) deflate: Option<Box<Deflate>>,
}

impl<S> std::fmt::Debug for WsConnection<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsConnection")
            .field("partial", &self.partial.len())
            .field("unsent", &self.unsent.len())
            .finish_non_exhaustive()
    }
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
            backlog: None,
            unsent: Vec::new(),
            close_sent: false,
            deflate: None,
        }
    }

    /// Compresses and inflates messages with the `permessage-deflate`
    /// parameters agreed in the handshake
    /// ([`handshake::accept_with`](crate::handshake::accept_with)); `None`
    /// leaves the connection uncompressed.
    pub fn with_deflate(mut self, agreed: Option<Negotiated>) -> Self {
        self.deflate = agreed.map(|a| Box::new(Deflate::new(a)));
        self
    }

    /// Bytes to write before any frame: the handshake's `101` answer, when
    /// the server writes it itself ([`handshake::answer`](crate::handshake::answer)),
    /// so that it goes out in the same write as the first frames.
    pub fn with_preface(mut self, preface: Vec<u8>) -> Self {
        self.unsent = preface;
        self
    }

    /// Queues a frame behind what is not written yet; it goes out with the
    /// next write ([`WsConnection::send`], [`WsConnection::recv`] or
    /// [`WsConnection::serve`]).
    pub fn queue(&mut self, frame: &Frame) {
        self.queue_frame(frame);
    }

    /// The next data message from the peer; pings are answered, pongs
    /// skipped. `Ok(None)` when the peer closed cleanly.
    pub async fn recv(&mut self) -> Result<Option<Frame>, WsError> {
        poll_fn(|cx| {
            loop {
                if let Some(frame) = self.backlog.as_mut().and_then(|b| b.pop_front()) {
                    return Poll::Ready(Ok(Some(frame)));
                }
                // A pong owed to the peer goes out as soon as we can.
                if let Poll::Ready(Err(e)) = self.poll_flush_unsent(cx) {
                    return Poll::Ready(Err(WsError::Io(e)));
                }
                let mut backlog = VecDeque::new();
                let read = self.poll_read_messages(cx, &mut |f| {
                    backlog.push_back(f);
                    Ok(())
                });
                self.backlog = (!backlog.is_empty()).then(|| Box::new(backlog));
                match ready!(read) {
                    Ok(()) => continue,
                    Err(ReadEnd::Connection(WsError::Closed)) => return Poll::Ready(Ok(None)),
                    Err(ReadEnd::Connection(e)) => return Poll::Ready(Err(e)),
                    Err(ReadEnd::Refused(_)) => return Poll::Ready(Err(WsError::Closed)),
                }
            }
        })
        .await
    }

    /// Writes one frame and waits until the socket has taken it.
    pub async fn send(&mut self, frame: Frame) -> Result<(), WsError> {
        self.queue_frame(&frame);
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
}
