//! A raw HTTP/1.1 client: one request per connection (`Connection:
//! close`), read until the server closes it, so a test sees exactly the
//! bytes the server sent. A server that answers and closes before reading
//! the whole request (a 413, say) still has its answer read. Every exchange
//! is bounded by [`STEP`]; the `try_` forms return what went wrong instead
//! of failing the test.

use std::io;
use std::net::SocketAddr;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::STEP;

/// A response, as read off the wire.
///
/// ```no_run
/// # async fn demo(addr: std::net::SocketAddr) {
/// let res = roomcast_testkit::get(addr, "/health").await;
/// assert_eq!((res.status, res.text().as_str()), (200, "healthy"));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The headers in order; names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked when it came chunked).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of a header (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_all(name).into_iter().next()
    }

    /// Every value of a header (name in any case).
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics with the body when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.text()))
    }

    /// Asserts an Engine.IO error response: `status`, a JSON content type
    /// and the body `{"code":code,"message":message}` exactly.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: u8, message: &str) {
        assert_eq!(self.status, status, "status of {self:?}");
        assert_eq!(
            self.json(),
            serde_json::json!({ "code": code, "message": message }),
            "error body"
        );
        assert_eq!(self.header("content-type"), Some("application/json"));
    }
}

/// Writes `bytes` on a new connection and reads until the server closes
/// it. Write errors are ignored: the server may answer and close before
/// reading everything. Panics when the connection fails or after
/// [`STEP`].
pub async fn raw_exchange(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    try_exchange(addr, bytes)
        .await
        .unwrap_or_else(|e| panic!("raw exchange with {addr}: {e}"))
}

/// [`raw_exchange`], with a failed connection or a timeout as an error.
pub async fn try_exchange(addr: SocketAddr, bytes: &[u8]) -> io::Result<Vec<u8>> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        let _ = stream.write_all(bytes).await;
        let mut raw = Vec::new();
        // Whatever came before a reset is still the answer.
        let _ = stream.read_to_end(&mut raw).await;
        Ok(raw)
    };
    tokio::time::timeout(STEP, exchange)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, format!("no answer in {STEP:?}")))?
}

/// Sends one HTTP/1.1 request on a new connection and reads the response.
/// A `Content-Length` is added for a body or a POST, unless `headers` has a
/// `Transfer-Encoding`. Panics when there is no answer within
/// [`STEP`].
pub async fn http(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    try_http(addr, method, target, headers, body)
        .await
        .unwrap_or_else(|e| panic!("{method} {target}: {e}"))
}

/// [`http`], with a failed connection, a timeout or an answer that is not
/// HTTP as an error.
pub async fn try_http(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<HttpResponse> {
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    let chunked = headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"));
    if !chunked && (!body.is_empty() || method == "POST") {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    let raw = try_exchange(addr, &bytes).await?;
    try_parse_response(&raw).ok_or_else(|| {
        let raw = String::from_utf8_lossy(&raw);
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("no HTTP answer: {raw:?}"),
        )
    })
}

/// `GET target`.
pub async fn get(addr: SocketAddr, target: &str) -> HttpResponse {
    http(addr, "GET", target, &[], b"").await
}

/// `POST target` with `body`.
pub async fn post(addr: SocketAddr, target: &str, body: &[u8]) -> HttpResponse {
    http(addr, "POST", target, &[], body).await
}

/// Parses a raw response; panics when there is no HTTP head.
pub fn parse_response(raw: &[u8]) -> HttpResponse {
    try_parse_response(raw)
        .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(raw)))
}

/// Parses a raw response; `None` without a head and a status line.
pub fn try_parse_response(raw: &[u8]) -> Option<HttpResponse> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut res = HttpResponse {
        status,
        headers,
        body: Vec::new(),
    };
    let rest = &raw[split + 4..];
    res.body = if let Some(len) = res.header("content-length") {
        let len: usize = len.parse().ok()?;
        rest[..len.min(rest.len())].to_vec()
    } else if res
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Some(res)
}

/// The data of a chunked body (as much as there is).
fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = std::str::from_utf8(&rest[..eol]).unwrap_or("0");
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = eol + 2;
        let end = (start + size).min(rest.len());
        out.extend_from_slice(&rest[start..end]);
        rest = &rest[(end + 2).min(rest.len())..];
    }
}
