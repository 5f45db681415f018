//! The connect path of the default `socket.io-client`: the Engine.IO
//! handshake over HTTP long-polling, the Socket.IO CONNECT over polling,
//! then the WebSocket probe and the upgrade.
//!
//! In the order engine.io-client 6 / socket.io-client 4 take it:
//!
//! 1. `GET ?EIO=4&transport=polling` on a fresh HTTP/1 connection: the
//!    open packet and its `sid`;
//! 2. at once, side by side:
//!    - polling: `POST 40`, then one `GET` after another (the CONNECT reply
//!      `40{..}` comes in one of them, or later over the WebSocket) until
//!      the probe has succeeded; the `GET` then in flight is let finish
//!      (the server answers it, with a noop if nothing else, once the probe
//!      runs): the client's *pause*;
//!    - a WebSocket to `?EIO=4&transport=websocket&sid=…` sends `2probe`
//!      and waits for `3probe`;
//! 3. with no `GET` pending any more, `5` (upgrade) over the WebSocket,
//!    and, if it has not come over polling, the CONNECT reply over it.
//!
//! The session then lives on the WebSocket; the polling connection is
//! closed. Pings that come during the set-up are answered on the transport
//! they came on.

use std::cell::Cell;
use std::io;

use bytes::Bytes;
use futures_util::SinkExt;
use http_body_util::Full;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::Message;

use crate::cli::Common;
use crate::client::{self, io_err, Ws, SETUP_TIMEOUT};
use crate::proto::{self, Incoming};

/// The Engine.IO packet separator of polling payloads.
const SEPARATOR: char = '\u{1e}';

/// One HTTP/1 connection for the polling requests.
struct Polling {
    send: SendRequest<Full<Bytes>>,
    host: String,
}

impl Polling {
    async fn open(common: &Common) -> io::Result<Polling> {
        let stream = client::dial(common).await?;
        let (send, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(io_err)?;
        // Ends when `send` is dropped: that closes the connection.
        tokio::task::spawn_local(async move {
            let _ = conn.await;
        });
        Ok(Polling {
            send,
            host: common.addr.to_string(),
        })
    }

    async fn request(
        &mut self,
        method: Method,
        uri: &str,
        body: &'static str,
    ) -> io::Result<Bytes> {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", &self.host)
            .header("content-type", "text/plain;charset=UTF-8")
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .map_err(io_err)?;
        self.send.ready().await.map_err(io_err)?;
        let res = self.send.send_request(req).await.map_err(io_err)?;
        client::ok_body(res).await
    }
}

/// The `sid` of an open packet in a polling payload.
fn sid_of(payload: &[u8]) -> io::Result<String> {
    let text = std::str::from_utf8(payload).map_err(io_err)?;
    text.split(SEPARATOR)
        .find_map(|p| match proto::parse(p) {
            Incoming::Open(json) => serde_json::from_str::<serde_json::Value>(json).ok(),
            _ => None,
        })
        .and_then(|v| v.get("sid").and_then(|s| s.as_str()).map(str::to_string))
        .ok_or_else(|| io_err(format!("no open packet in {text:?}")))
}

/// Polling side: CONNECT, then `GET`s until the probe has succeeded (the
/// `GET` in flight then is let finish: that is the client's pause).
async fn polling_side(
    http: &mut Polling,
    uri: &str,
    connected: &Cell<bool>,
    probed: &Cell<bool>,
) -> io::Result<()> {
    http.request(Method::POST, uri, proto::CONNECT).await?;
    while !probed.get() {
        let body = http.request(Method::GET, uri, "").await?;
        let body = std::str::from_utf8(&body).map_err(io_err)?;
        for p in body.split(SEPARATOR) {
            match proto::parse(p) {
                Incoming::Connected => connected.set(true),
                Incoming::Ping => {
                    http.request(Method::POST, uri, proto::PONG).await?;
                }
                Incoming::ConnectError(e) => return Err(io_err(format!("connect error: {e}"))),
                Incoming::Close => return Err(io_err("closed during connect")),
                _ => {}
            }
        }
    }
    Ok(())
}

/// WebSocket side: the probe.
async fn probe(common: &Common, sid: &str, probed: &Cell<bool>) -> io::Result<Ws> {
    let query = format!("EIO=4&transport=websocket&sid={sid}");
    let mut ws = client::open_ws_query(common, &query).await?;
    ws.send(Message::text("2probe")).await.map_err(io_err)?;
    loop {
        let text = client::next_text(&mut ws).await?;
        match text.as_str() {
            "3probe" => break,
            "2" => ws.send(Message::text(proto::PONG)).await.map_err(io_err)?,
            other => return Err(io_err(format!("unexpected {other:?} during the probe"))),
        }
    }
    probed.set(true);
    Ok(ws)
}

/// A connection set up as the default client does it, ending on the
/// upgraded WebSocket (namespace `/` connected); within
/// [`SETUP_TIMEOUT`].
pub async fn connect(common: &Common) -> io::Result<Ws> {
    let setup = async {
        let mut http = Polling::open(common).await?;
        // Origin-form request targets, as a browser sends them.
        let base = format!("{}?EIO=4&transport=polling", common.path);
        let sid = sid_of(&http.request(Method::GET, &base, "").await?)?;
        let uri = format!("{base}&sid={sid}");
        let (connected, probed) = (Cell::new(false), Cell::new(false));
        let (polled, ws) = tokio::join!(
            polling_side(&mut http, &uri, &connected, &probed),
            probe(common, &sid, &probed)
        );
        polled?;
        let mut ws = ws?;
        ws.send(Message::text("5")).await.map_err(io_err)?;
        drop(http);
        if !connected.get() {
            // The CONNECT reply comes over the WebSocket.
            client::socketio_connected(&mut ws).await?;
        }
        Ok(ws)
    };
    tokio::time::timeout(SETUP_TIMEOUT, setup)
        .await
        .map_err(|_| io_err("connection setup timed out"))?
}
