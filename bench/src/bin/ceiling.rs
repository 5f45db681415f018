//! The ceiling of the benchmarks: a bare tokio-tungstenite server with no
//! protocol on top, so roomcast's and Node's figures can be read as a
//! fraction of what this machine allows over WebSocket.
//!
//! `ceiling [port] [--mode echo|broadcast]` (127.0.0.1, default 3000, echo)
//!
//! - `echo`: every text or binary frame is sent back to its sender. Frames
//!   already readable are answered together, with one flush.
//! - `broadcast`: every frame is written to every other socket. Each socket
//!   has a queue; its task takes everything queued at once, writes it and
//!   flushes once (write coalescing, like roomcast's outbox). Frames already
//!   readable are read before any write.
//!
//! Any path is accepted for the upgrade. The handshake is answered by hand
//! (the request read once, `101` written at once). On the path `/connect`
//! (`roomcast-bench connect --raw`) a text frame the size of roomcast's
//! Engine.IO open packet goes out in the same write as the `101`, and the
//! echo then answers the client's one frame: the wire traffic of a
//! Socket.IO connect (open packet, CONNECT, its reply) without parsing any
//! of it. A close frame is answered before the socket is dropped. Like the
//! roomcast bench server it runs on tokio's `current_thread` runtime (one
//! core); per-connection buffers: 4 KiB read, 8 KiB write.
//! Drive it with `roomcast-bench <scenario> --raw`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// What the ceiling sends after the `101` on `/connect`: as long as
/// roomcast's Engine.IO open packet (107–109 bytes with its sid).
const OPEN_SIZED: &str = "0{\"sid\":\"AAAAAAAAAAAAAAAAAAAA\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}";

/// Reads the upgrade request and answers it: `101`, and on `/connect` the
/// open-sized text frame, in one write. `None` for anything else.
async fn handshake(stream: &mut TcpStream) -> Option<()> {
    let mut buf = Vec::with_capacity(1024);
    let end = loop {
        if stream.read_buf(&mut buf).await.ok()? == 0 || buf.len() > 8192 {
            return None;
        }
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
    };
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?;
    let key = lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("sec-websocket-key")
            .then(|| value.trim())
    })?;
    let mut out = format!(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    )
    .into_bytes();
    if path == "/connect" {
        out.extend_from_slice(&[0x81, OPEN_SIZED.len() as u8]);
        out.extend_from_slice(OPEN_SIZED.as_bytes());
    }
    stream.write_all(&out).await.ok()
}

/// A socket's queue: frames waiting for its writer, which takes them all.
#[derive(Default)]
struct Peer {
    queue: RefCell<Vec<Message>>,
    wake: Notify,
}

impl Peer {
    fn push(&self, msg: &Message) {
        let mut queue = self.queue.borrow_mut();
        if queue.is_empty() {
            self.wake.notify_one();
        }
        queue.push(msg.clone());
    }
}

type Peers = Rc<RefCell<Vec<(u64, Rc<Peer>)>>>;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = args.iter().find_map(|a| a.parse().ok()).unwrap_or(3000);
    let broadcast = args
        .windows(2)
        .any(|w| w[0] == "--mode" && w[1] == "broadcast")
        || args.iter().any(|a| a == "--mode=broadcast");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, serve(port, broadcast))
}

async fn serve(port: u16, broadcast: bool) -> std::io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "ceiling listening on 127.0.0.1:{port} ({})",
        if broadcast { "broadcast" } else { "echo" }
    );
    let peers: Peers = Rc::default();
    let next_id = Cell::new(0u64);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let id = next_id.get();
        next_id.set(id + 1);
        let peers = peers.clone();
        tokio::task::spawn_local(async move {
            let mut stream = stream;
            if handshake(&mut stream).await.is_none() {
                return;
            }
            let config = WebSocketConfig::default()
                .read_buffer_size(4 * 1024)
                .write_buffer_size(8 * 1024);
            let ws = WebSocketStream::from_raw_socket(stream, Role::Server, Some(config)).await;
            if broadcast {
                fan(ws, id, peers).await;
            } else {
                echo(ws).await;
            }
        });
    }
}

fn is_data(msg: &Message) -> bool {
    matches!(msg, Message::Text(_) | Message::Binary(_))
}

async fn echo(mut ws: WebSocketStream<TcpStream>) {
    while let Some(Ok(msg)) = ws.next().await {
        if msg.is_close() {
            // The close reply tungstenite queued.
            let _ = ws.flush().await;
            return;
        }
        let mut wrote = false;
        if is_data(&msg) {
            if ws.feed(msg).await.is_err() {
                return;
            }
            wrote = true;
        }
        while let Some(Some(Ok(msg))) = ws.next().now_or_never() {
            if is_data(&msg) {
                if ws.feed(msg).await.is_err() {
                    return;
                }
                wrote = true;
            }
        }
        if wrote && ws.flush().await.is_err() {
            return;
        }
    }
}

async fn fan(mut ws: WebSocketStream<TcpStream>, id: u64, peers: Peers) {
    let me = Rc::new(Peer::default());
    peers.borrow_mut().push((id, me.clone()));
    let mut batch = Vec::new();
    loop {
        tokio::select! {
            biased;
            msg = ws.next() => match msg {
                Some(Ok(msg)) if is_data(&msg) => {
                    for (other, peer) in peers.borrow().iter() {
                        if *other != id {
                            peer.push(&msg);
                        }
                    }
                }
                Some(Ok(msg)) if !msg.is_close() => {}
                _ => break,
            },
            _ = me.wake.notified() => {
                std::mem::swap(&mut batch, &mut *me.queue.borrow_mut());
                let mut failed = false;
                for msg in batch.drain(..) {
                    if ws.feed(msg).await.is_err() {
                        failed = true;
                        break;
                    }
                }
                if failed || ws.flush().await.is_err() {
                    break;
                }
            }
        }
    }
    peers.borrow_mut().retain(|(other, _)| *other != id);
}
