//! One WebSocket connection. See the [crate docs](crate) for its semantics.

use bytes::Bytes;
use futures_util::{FutureExt, SinkExt, StreamExt};
use roomcast_core::{CloseReason, Endpoint, Frame, Text};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

/// Buffer sizes and limits of a WebSocket connection.
///
/// ```
/// use roomcast_transport_ws::WsConfig;
/// let c = WsConfig { max_message_size: 1_000_000, ..WsConfig::default() };
/// assert_eq!(c.read_buffer_size, 1024);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WsConfig {
    /// Bytes read from the socket at a time (allocated per connection).
    pub read_buffer_size: usize,
    /// Bytes buffered before a write reaches the socket (a flush always writes).
    pub write_buffer_size: usize,
    /// The largest message accepted from the peer; bigger ones close with 1009.
    pub max_message_size: usize,
}

impl Default for WsConfig {
    fn default() -> Self {
        WsConfig {
            read_buffer_size: 1024,
            write_buffer_size: 8 * 1024,
            max_message_size: 1_000_000,
        }
    }
}

impl WsConfig {
    fn tungstenite(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(self.read_buffer_size)
            .write_buffer_size(self.write_buffer_size)
            .max_message_size(Some(self.max_message_size))
            .max_frame_size(Some(self.max_message_size))
    }
}

/// Why a WebSocket read or write failed.
#[derive(Debug, thiserror::Error)]
pub enum WsError {
    /// The peer sent a message over [`WsConfig::max_message_size`].
    #[error("message over the size limit")]
    TooBig,
    /// The peer closed the connection.
    #[error("connection closed by the peer")]
    Closed,
    /// A WebSocket protocol violation or an I/O error.
    #[error("websocket failure: {0}")]
    Protocol(#[from] tungstenite::Error),
}

/// One WebSocket connection (server side).
pub struct WsConnection<S> {
    ws: WebSocketStream<S>,
}

impl<S> std::fmt::Debug for WsConnection<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsConnection").finish_non_exhaustive()
    }
}

fn to_message(frame: Frame) -> Message {
    match frame {
        // SAFETY: `Text` is valid UTF-8 by construction (roomcast_core::Text
        // checks or takes a `str` in every constructor), so skipping
        // tungstenite's re-validation per recipient is sound.
        Frame::Text(text) => {
            Message::Text(unsafe { Utf8Bytes::from_bytes_unchecked(text.into_bytes()) })
        }
        Frame::Binary(bytes) => Message::Binary(bytes),
    }
}

impl<S> WsConnection<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    /// Wraps a stream on which the WebSocket handshake already happened.
    pub async fn from_upgraded(stream: S, config: WsConfig) -> Self {
        let ws = WebSocketStream::from_raw_socket(stream, Role::Server, Some(config.tungstenite()))
            .await;
        WsConnection { ws }
    }

    /// The next data frame from the peer; pings and pongs are skipped.
    /// `Ok(None)` when the peer closed cleanly.
    pub async fn recv(&mut self) -> Result<Option<Frame>, WsError> {
        loop {
            match self.ws.next().await {
                None => return Ok(None),
                Some(Ok(msg)) => match msg {
                    Message::Text(t) => return Ok(Some(text_frame(t))),
                    Message::Binary(b) => return Ok(Some(Frame::Binary(b))),
                    Message::Close(_) => return Ok(None),
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
                },
                Some(Err(e)) => return Err(classify(e)),
            }
        }
    }

    /// Writes and flushes one frame.
    pub async fn send(&mut self, frame: Frame) -> Result<(), WsError> {
        self.ws.send(to_message(frame)).await.map_err(classify)
    }

    /// Sends a close frame (with a code when given) and ends the connection.
    pub async fn close(mut self, code: Option<u16>) {
        let _ = self.ws.close(code.map(close_frame)).await;
    }

    /// Carries frames both ways between the peer and `endpoint` until either
    /// side closes. Returns why the connection ended; the endpoint has been
    /// told through [`Endpoint::transport_closed`] when the end came from the
    /// peer or the socket.
    pub async fn carry(mut self, endpoint: &dyn Endpoint) -> CloseReason {
        let mut batch: Vec<Frame> = Vec::new();
        loop {
            tokio::select! {
                biased;
                _ = endpoint.outbox().ready() => {
                    let closed = endpoint.outbox().drain(&mut batch);
                    let written = self.write_batch(&mut batch).await;
                    if batch.capacity() > 256 {
                        batch = Vec::new();
                    }
                    if let Err(e) = written {
                        tracing::debug!(error = %e, "websocket write failed");
                        endpoint.transport_closed(CloseReason::TransportError);
                        return CloseReason::TransportError;
                    }
                    if let Some(reason) = closed {
                        self.close(None).await;
                        return reason;
                    }
                }
                received = self.recv() => {
                    // Deliver what has already arrived before writing the
                    // answers, so a burst of requests costs one write: up to
                    // READ_BURST frames, then the outbox gets its turn.
                    let mut next = Some(received);
                    let mut read = 0;
                    while let Some(received) = next.take() {
                        if let Some(reason) = self.deliver(received, endpoint).await {
                            return reason;
                        }
                        read += 1;
                        if read < READ_BURST {
                            next = self.recv().now_or_never();
                        }
                    }
                }
            }
        }
    }

    /// Hands one read result to the endpoint; `Some(reason)` ends the
    /// connection.
    async fn deliver(
        &mut self,
        received: Result<Option<Frame>, WsError>,
        endpoint: &dyn Endpoint,
    ) -> Option<CloseReason> {
        let reason = match received {
            Ok(Some(frame)) => match endpoint.receive(frame) {
                Ok(()) => return None,
                Err(reason) => {
                    // The session layer decided; it knows already.
                    let code = if reason == CloseReason::ParseError {
                        1002
                    } else {
                        1000
                    };
                    let _ = self.ws.close(Some(close_frame(code))).await;
                    return Some(reason);
                }
            },
            Ok(None) | Err(WsError::Closed) => CloseReason::TransportClose,
            Err(WsError::TooBig) => {
                tracing::info!("closing connection: websocket message over the size limit");
                let _ = self.ws.close(Some(close_frame(1009))).await;
                CloseReason::TransportError
            }
            Err(WsError::Protocol(tungstenite::Error::Io(e))) => {
                tracing::debug!(error = %e, "websocket read failed");
                CloseReason::TransportError
            }
            Err(e) => {
                // The peer broke the protocol (bad frame, invalid UTF-8…).
                tracing::info!(error = %e, "closing connection: invalid websocket data");
                CloseReason::TransportError
            }
        };
        endpoint.transport_closed(reason);
        Some(reason)
    }

    async fn write_batch(&mut self, batch: &mut Vec<Frame>) -> Result<(), WsError> {
        for frame in batch.drain(..) {
            self.ws.feed(to_message(frame)).await.map_err(classify)?;
        }
        self.ws.flush().await.map_err(classify)
    }
}

fn close_frame(code: u16) -> CloseFrame {
    CloseFrame {
        code: CloseCode::from(code),
        reason: Utf8Bytes::default(),
    }
}

/// How many frames one turn reads before the outbox is written.
const READ_BURST: usize = 64;

fn text_frame(t: Utf8Bytes) -> Frame {
    let bytes = Bytes::from(t);
    // Already validated by tungstenite; `from_utf8` re-checks (cheap, inbound only).
    Frame::Text(Text::from_utf8(bytes).unwrap_or_default())
}

fn classify(e: tungstenite::Error) -> WsError {
    match e {
        tungstenite::Error::Capacity(_) => WsError::TooBig,
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => WsError::Closed,
        // TCP FIN without a close frame: the peer closed (as the reference
        // server sees it: "transport close"), not a protocol failure.
        tungstenite::Error::Protocol(
            tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
        ) => WsError::Closed,
        other => WsError::Protocol(other),
    }
}
