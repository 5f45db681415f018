//! The first request of each connection of the standalone server
//! ([`Engine::serve`]): a WebSocket handshake is answered without hyper.
//!
//! - The connection's first bytes are read and parsed once. When they are a
//!   complete HTTP/1.1 `GET` under the engine's path asking for
//!   `Upgrade: websocket`, with nothing after the head, the engine answers
//!   the request as it answers any other (the same checks, hooks, CORS and
//!   errors), and the connection's task goes on as the WebSocket: the
//!   `101` goes out in the same write as the first frames (the open packet
//!   of a new session).
//! - An error answer to such a request is written with `Connection:
//!   close` and the connection is closed, as the reference server does for
//!   a refused upgrade.
//! - Anything else (polling, static files, other paths, a malformed or
//!   incomplete head, HTTP/1.0, bytes after the head) goes to hyper with
//!   the bytes already read in front of the stream: hyper then sees the
//!   connection exactly as if it had read it first.
//! - A connection whose first head is not complete [`HEAD_TIMEOUT`] after
//!   it was accepted is closed (hyper then limits the heads after it).

use std::cell::RefCell;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::future::Either;
use futures_util::FutureExt;
use http::header::{HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, UPGRADE};
use http::{HeaderMap, Method, Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Empty};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use crate::engine::Engine;
use crate::response::Body;
use crate::service::HEAD_TIMEOUT;
use crate::websocket::Takeover;

/// A head longer than this goes to hyper (which applies its own limits).
const MAX_HEAD: usize = 16 * 1024;
/// Headers parsed here at most; a request with more goes to hyper.
const MAX_HEADERS: usize = 64;

/// What the first bytes of a connection are. Returned and matched at once,
/// never kept: boxing the request would be one more allocation per
/// connection.
#[allow(clippy::large_enum_variant)]
enum First {
    /// A WebSocket handshake for the engine, taken here.
    WebSocket(Request<Empty<Bytes>>),
    /// Not complete yet.
    Partial,
    /// For hyper.
    Other,
}

/// Serves one connection: its first request here if it is a WebSocket
/// handshake for the engine, else everything through `hyper`, given the
/// stream with the bytes read so far in front.
///
/// One task per connection: the handshake runs boxed, and its box is freed
/// when the WebSocket takes the connection over, so what stays allocated
/// for an idle WebSocket is the session's state alone (the handshake's
/// state beside it made each idle connection 300 to 700 bytes larger). A
/// second task for the WebSocket cost a second aligned task allocation and
/// several copies of the handshake's future per connection.
pub(crate) fn serve_connection<H, HFut>(
    engine: Engine,
    stream: TcpStream,
    addr: SocketAddr,
    hyper: H,
) -> impl std::future::Future<Output = ()>
where
    H: FnOnce(Prefixed<TcpStream>) -> HFut,
    HFut: std::future::Future<Output = ()>,
{
    Box::pin(handshake(engine, stream, addr, hyper)).then(|taken| match taken {
        Some((takeover, stream, preface)) => Either::Left(takeover.run(stream, preface)),
        None => Either::Right(std::future::ready(())),
    })
}

/// Everything up to the `101`: the WebSocket's takeover, its stream and
/// the `101` to write first; `None` when the connection went to hyper or
/// was answered and closed here.
async fn handshake<H, HFut>(
    engine: Engine,
    mut stream: TcpStream,
    addr: SocketAddr,
    hyper: H,
) -> Option<(Takeover, TcpStream, Vec<u8>)>
where
    H: FnOnce(Prefixed<TcpStream>) -> HFut,
    HFut: std::future::Future<Output = ()>,
{
    // Bytes of a head that came in several reads (rare).
    let mut pending = Vec::new();
    let deadline = tokio::time::Instant::now() + HEAD_TIMEOUT;
    let req = loop {
        let read = poll_fn(|cx| read_first(&engine, &mut stream, &mut pending, cx));
        match tokio::time::timeout_at(deadline, read).await {
            Ok(Step::WebSocket(req)) => break req,
            Ok(Step::Partial) => {}
            Ok(Step::Closed) => return None,
            Ok(Step::Other) => {
                hyper(Prefixed::new(pending, stream)).await;
                return None;
            }
            Err(_) => {
                tracing::debug!(peer = %addr, "no request head in time; closing");
                return None;
            }
        }
    };
    let mut takeover = None;
    let res = engine
        .handle_from(req, Some(addr), Some(&mut takeover))
        .await;
    match taken_over(res, takeover) {
        Ok((takeover, preface)) => Some((takeover, stream, preface)),
        Err(res) => {
            let _ = write_answer(&mut stream, res).await;
            None
        }
    }
}

/// What one read of the first bytes gave.
#[allow(clippy::large_enum_variant)]
enum Step {
    WebSocket(Request<Empty<Bytes>>),
    /// More bytes are needed (kept in `pending`).
    Partial,
    /// For hyper, with the bytes read in `pending`.
    Other,
    Closed,
}

thread_local! {
    /// The first bytes of a connection are read here: a connection keeps
    /// (and allocates) none of them unless they go to hyper.
    static FIRST_READ: RefCell<Box<[u8]>> = RefCell::new(vec![0; MAX_HEAD].into_boxed_slice());
}

/// Reads once into the thread's buffer, behind `pending`, and looks at
/// what has come.
fn read_first(
    engine: &Engine,
    stream: &mut TcpStream,
    pending: &mut Vec<u8>,
    cx: &mut Context<'_>,
) -> Poll<Step> {
    FIRST_READ.with_borrow_mut(|buf| {
        let have = pending.len();
        buf[..have].copy_from_slice(pending);
        let mut read = ReadBuf::new(&mut buf[have..]);
        match Pin::new(&mut *stream).poll_read(cx, &mut read) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(_)) => return Poll::Ready(Step::Closed),
            Poll::Ready(Ok(())) if read.filled().is_empty() => return Poll::Ready(Step::Closed),
            Poll::Ready(Ok(())) => {}
        }
        let len = have + read.filled().len();
        let bytes = &buf[..len];
        Poll::Ready(match first(engine, bytes) {
            First::WebSocket(req) => Step::WebSocket(req),
            First::Partial if len < MAX_HEAD => {
                *pending = bytes.to_vec();
                Step::Partial
            }
            _ => {
                *pending = bytes.to_vec();
                Step::Other
            }
        })
    })
}

/// The connection's takeover and the `101` to write first, or the answer
/// to write (with `Connection: close`) when there is none. Matched at
/// once by the caller, so the size of the error is no concern.
#[allow(clippy::result_large_err)]
fn taken_over(
    res: Response<Body>,
    takeover: Option<Takeover>,
) -> Result<(Takeover, Vec<u8>), Response<Body>> {
    let (mut parts, body) = res.into_parts();
    match takeover {
        Some(takeover) if parts.status == StatusCode::SWITCHING_PROTOCOLS => {
            Ok((takeover, response_head(&parts)))
        }
        other => {
            if let Some(takeover) = other {
                takeover.abandon();
            }
            parts
                .headers
                .insert(CONNECTION, HeaderValue::from_static("close"));
            Err(Response::from_parts(parts, body))
        }
    }
}

/// Parses the first bytes; a request is built only for a WebSocket
/// handshake the engine takes.
fn first(engine: &Engine, buf: &[u8]) -> First {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return First::Partial,
        Err(_) => return First::Other,
    };
    let (Some("GET"), Some(path), Some(1)) = (parsed.method, parsed.path, parsed.version) else {
        return First::Other;
    };
    let asks_websocket = parsed.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case(UPGRADE.as_str())
            && h.value
                .split(|&b| b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"websocket"))
    });
    if len != buf.len() || !asks_websocket {
        return First::Other;
    }
    // The head is copied once, and the URI and header values share that
    // copy (one allocation, not one per value); the engine copies what the
    // session keeps out of them, and the copy is freed with the request.
    let head = Bytes::copy_from_slice(&buf[..len]);
    // httparse's slices all lie in `buf`; one that did not would make the
    // request go to hyper, never a panic.
    let part = |s: &[u8]| {
        let start = (s.as_ptr() as usize).checked_sub(buf.as_ptr() as usize)?;
        let end = start
            .checked_add(s.len())
            .filter(|end| *end <= head.len())?;
        Some(head.slice(start..end))
    };
    let Some(Ok(uri)) = part(path.as_bytes()).map(http::Uri::from_maybe_shared) else {
        return First::Other;
    };
    if !engine.config().matches_path(uri.path()) {
        return First::Other;
    }
    let mut map = HeaderMap::with_capacity(parsed.headers.len());
    for h in parsed.headers.iter() {
        let (Ok(name), Some(Ok(value))) = (
            HeaderName::from_bytes(h.name.as_bytes()),
            part(h.value).map(HeaderValue::from_maybe_shared),
        ) else {
            return First::Other;
        };
        map.append(name, value);
    }
    let mut req = Request::new(Empty::new());
    *req.method_mut() = Method::GET;
    *req.uri_mut() = uri;
    *req.version_mut() = Version::HTTP_11;
    *req.headers_mut() = map;
    First::WebSocket(req)
}

/// The status line and headers of a response, as written on the wire.
fn response_head(parts: &http::response::Parts) -> Vec<u8> {
    let status = parts.status;
    let reason = status.canonical_reason().unwrap_or("");
    let headers: usize = parts
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    // Sized exactly: one allocation (a `101` with its headers is longer
    // than any fixed guess that would not waste most of it).
    let mut out = Vec::with_capacity(9 + 3 + 1 + reason.len() + 2 + headers + 2);
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in &parts.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Writes a whole (error) answer.
async fn write_answer(stream: &mut TcpStream, res: Response<Body>) -> io::Result<()> {
    let (mut parts, body) = res.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    };
    parts
        .headers
        .insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    let mut out = response_head(&parts);
    out.extend_from_slice(&body);
    stream.write_all(&out).await?;
    stream.shutdown().await
}

/// A stream with bytes already read from it in front.
#[derive(Debug)]
pub(crate) struct Prefixed<S> {
    prefix: Vec<u8>,
    at: usize,
    io: S,
}

impl<S> Prefixed<S> {
    fn new(prefix: Vec<u8>, io: S) -> Self {
        Prefixed { prefix, at: 0, io }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.at < this.prefix.len() {
            let rest = &this.prefix[this.at..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.at += n;
            if this.at == this.prefix.len() {
                this.prefix = Vec::new();
                this.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.io).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_head_is_written_in_one_allocation_of_its_size() {
        let mut res = Response::new(());
        *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        res.headers_mut()
            .insert(UPGRADE, HeaderValue::from_static("websocket"));
        res.headers_mut()
            .insert("sec-websocket-accept", HeaderValue::from_static("abc="));
        let (parts, ()) = res.into_parts();
        let head = response_head(&parts);
        assert_eq!(
            head,
            b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nsec-websocket-accept: abc=\r\n\r\n"
        );
        assert_eq!(head.capacity(), head.len());
    }
}
