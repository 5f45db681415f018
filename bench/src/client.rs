//! Client connections: TCP + WebSocket upgrade, the Engine.IO handshake
//! (the server's open packet) and the Socket.IO CONNECT to `/`.

use std::io;
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{client_async_with_config, WebSocketStream};

use crate::cli::Common;
use crate::proto::{self, Incoming};

/// A client WebSocket.
pub type Ws = WebSocketStream<TcpStream>;

/// How long setting up one connection may take.
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Small buffers: 10k connections in one process must stay cheap.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(16 * 1024)
}

/// An `io::Error` from anything printable.
pub fn io_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// The body of an HTTP answer (a polling request's); an error with the
/// body's text unless the status is `200 OK`.
pub async fn ok_body(res: hyper::Response<hyper::body::Incoming>) -> io::Result<bytes::Bytes> {
    use http_body_util::BodyExt;
    let status = res.status();
    let body = res.into_body().collect().await.map_err(io_err)?.to_bytes();
    if status != hyper::StatusCode::OK {
        return Err(io_err(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&body)
        )));
    }
    Ok(body)
}

/// Connects and upgrades: to `<path>?EIO=4&transport=websocket`, or to `/`
/// in raw mode.
pub async fn open_ws(common: &Common) -> io::Result<Ws> {
    if common.raw {
        open_url(common, format!("ws://{}/", common.addr)).await
    } else {
        open_ws_query(common, "EIO=4&transport=websocket").await
    }
}

/// The raw counterpart of a Socket.IO connect, for the ceiling: a
/// WebSocket to `/connect`, on which the ceiling sends one text frame the
/// size of an Engine.IO open packet after its `101`; then one frame each
/// way (`40` and its echo), as the Socket.IO CONNECT and its reply.
pub async fn raw_connect(common: &Common) -> io::Result<Ws> {
    let setup = async {
        let mut ws = open_url(common, format!("ws://{}/connect", common.addr)).await?;
        next_text(&mut ws).await?;
        ws.send(Message::text(proto::CONNECT))
            .await
            .map_err(io_err)?;
        next_text(&mut ws).await?;
        Ok(ws)
    };
    tokio::time::timeout(SETUP_TIMEOUT, setup)
        .await
        .map_err(|_| io_err("connection setup timed out"))?
}

/// Connects and upgrades to `<path>?<query>`.
pub async fn open_ws_query(common: &Common, query: &str) -> io::Result<Ws> {
    let url = format!("ws://{}{}?{query}", common.addr, common.path);
    open_url(common, url).await
}

async fn open_url(common: &Common, url: String) -> io::Result<Ws> {
    let stream = dial(common).await?;
    let (ws, _) = client_async_with_config(url, stream, Some(ws_config()))
        .await
        .map_err(io_err)?;
    Ok(ws)
}

/// A TCP connection to the server (`TCP_NODELAY` on), from
/// `common.source` if set. The kernel then picks the source port at
/// `connect` among those free for that address and the server's
/// (`IP_BIND_ADDRESS_NO_PORT`), so each source address has the whole
/// ephemeral port range to itself: one address alone has too few ports for
/// 10k clients each holding a polling connection beside its WebSocket.
pub async fn dial(common: &Common) -> io::Result<TcpStream> {
    let stream = match common.source {
        None => TcpStream::connect(common.addr).await?,
        Some(ip) => {
            let socket = if ip.is_ipv4() {
                TcpSocket::new_v4()?
            } else {
                TcpSocket::new_v6()?
            };
            bind_address_no_port(&socket)?;
            socket.bind(std::net::SocketAddr::new(ip, 0))?;
            socket.connect(common.addr).await?
        }
    };
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Client `i`'s source address among `sources` loopback addresses from
/// 127.0.0.2 (none if `sources` is 0).
pub fn loopback_source(i: usize, sources: u8) -> Option<std::net::IpAddr> {
    let n = i % usize::from(sources.min(250)).max(1);
    (sources > 0).then(|| std::net::Ipv4Addr::new(127, 0, 0, 2 + n as u8).into())
}

/// `IP_BIND_ADDRESS_NO_PORT`: `bind` with port 0 leaves the port to
/// `connect`.
fn bind_address_no_port(socket: &TcpSocket) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: a valid socket descriptor and a c_int option value of the
    // size passed.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Waits for the Engine.IO open packet, sends CONNECT to `/` and waits for
/// the reply, answering pings meanwhile.
pub async fn socketio_connect(ws: &mut Ws) -> io::Result<()> {
    socketio_handshake(ws, true).await
}

/// Waits for the Socket.IO CONNECT reply (the CONNECT went out already),
/// answering pings meanwhile.
pub async fn socketio_connected(ws: &mut Ws) -> io::Result<()> {
    socketio_handshake(ws, false).await
}

async fn socketio_handshake(ws: &mut Ws, connect_on_open: bool) -> io::Result<()> {
    loop {
        let text = next_text(ws).await?;
        match proto::parse(&text) {
            Incoming::Open(_) if connect_on_open => ws
                .send(Message::text(proto::CONNECT))
                .await
                .map_err(io_err)?,
            Incoming::Ping => ws.send(Message::text(proto::PONG)).await.map_err(io_err)?,
            Incoming::Connected => return Ok(()),
            Incoming::ConnectError(e) => return Err(io_err(format!("connect error: {e}"))),
            Incoming::Close | Incoming::Disconnect => return Err(io_err("closed during connect")),
            _ => {}
        }
    }
}

/// A connection ready for events: WebSocket, then (unless raw) Engine.IO
/// open and Socket.IO CONNECT; within [`SETUP_TIMEOUT`].
pub async fn connect(common: &Common) -> io::Result<Ws> {
    let setup = async {
        let mut ws = open_ws(common).await?;
        if !common.raw {
            socketio_connect(&mut ws).await?;
        }
        Ok(ws)
    };
    tokio::time::timeout(SETUP_TIMEOUT, setup)
        .await
        .map_err(|_| io_err("connection setup timed out"))?
}

/// The next text frame (binary frames and WebSocket pings are skipped);
/// an error once the connection is closed.
pub async fn next_text(ws: &mut Ws) -> io::Result<Utf8Bytes> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(t),
            Some(Ok(Message::Close(_))) | None => {
                return Err(io::Error::from(io::ErrorKind::ConnectionReset))
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(io_err(e)),
        }
    }
}

/// Sends a Socket.IO packet that asks for an ack and waits for the ack,
/// answering pings meanwhile.
pub async fn request(ws: &mut Ws, packet: String, id: u64) -> io::Result<()> {
    ws.send(Message::text(packet)).await.map_err(io_err)?;
    loop {
        let text = next_text(ws).await?;
        match proto::parse(&text) {
            Incoming::Ack { id: got, .. } if got == id => return Ok(()),
            Incoming::Ping => ws.send(Message::text(proto::PONG)).await.map_err(io_err)?,
            Incoming::Close | Incoming::Disconnect => return Err(io_err("closed")),
            _ => {}
        }
    }
}

/// One read turn: waits for a frame, then takes every frame already
/// readable without waiting; `on_text` sees each text frame and may queue
/// frames to send, which are written with one flush at the end. Engine.IO
/// pings are answered here unless `raw`.
pub async fn pump(
    ws: &mut Ws,
    raw: bool,
    out: &mut Vec<Message>,
    mut on_text: impl FnMut(&str, &mut Vec<Message>),
) -> io::Result<()> {
    let mut handle = |msg: Message, out: &mut Vec<Message>| -> io::Result<()> {
        match msg {
            Message::Text(t) => {
                if !raw && t.as_str() == "2" {
                    out.push(Message::text(proto::PONG));
                } else {
                    on_text(t.as_str(), out);
                }
                Ok(())
            }
            Message::Close(_) => Err(io::Error::from(io::ErrorKind::ConnectionReset)),
            _ => Ok(()),
        }
    };
    match ws.next().await {
        Some(Ok(msg)) => handle(msg, out)?,
        Some(Err(e)) => return Err(io_err(e)),
        None => return Err(io::Error::from(io::ErrorKind::ConnectionReset)),
    }
    while let Some(next) = ws.next().now_or_never() {
        match next {
            Some(Ok(msg)) => handle(msg, out)?,
            Some(Err(e)) => return Err(io_err(e)),
            None => return Err(io::Error::from(io::ErrorKind::ConnectionReset)),
        }
    }
    send_all(ws, out).await
}

/// Writes every queued frame with one flush.
pub async fn send_all(ws: &mut Ws, out: &mut Vec<Message>) -> io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    for msg in out.drain(..) {
        ws.feed(msg).await.map_err(io_err)?;
    }
    ws.flush().await.map_err(io_err)
}
