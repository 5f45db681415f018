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
//! Any path is accepted for the upgrade. Like the roomcast bench server it
//! runs on tokio's `current_thread` runtime (one core); per-connection
//! buffers: 4 KiB read, 8 KiB write.
//! Drive it with `roomcast-bench <scenario> --raw`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{accept_async_with_config, WebSocketStream};

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
            let config = WebSocketConfig::default()
                .read_buffer_size(4 * 1024)
                .write_buffer_size(8 * 1024);
            let Ok(ws) = accept_async_with_config(stream, Some(config)).await else {
                return;
            };
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
