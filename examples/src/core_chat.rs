//! roomcast-core alone, without Socket.IO: a chat over plain TCP whose
//! transport is written here, in ~150 lines. Each connection is a core
//! client (a [`ClientId`] and an [`Outbox`] registered with the [`Hub`]);
//! a writer task drains the outbox in batches and flushes once per batch.
//!
//! Run `cargo run -p roomcast-examples --bin core-chat` (127.0.0.1:7000;
//! `PORT` and `HOST` change it), then chat from two terminals with
//! `nc 127.0.0.1 7000`.
//!
//! # Line protocol
//!
//! One message per line (UTF-8, at most [`MAX_LINE`] bytes), both ways.
//!
//! Client → server:
//! - `{"join":"room"}`: join a room; answered `{"joined":"room"}`.
//! - `{"leave":"room"}`: leave a room; answered `{"left":"room"}`.
//! - `{"say":"text","to":"room"}`: send `text` to the others in `room`
//!   (without `"to"`: to every other client).
//! - any line that does not start with `{`: said to every other client.
//! - blank lines are ignored; anything else is answered `{"error":"…"}`.
//!
//! Server → client:
//! - `{"welcome":"<id>"}` on connect (`id` is the client's own).
//! - `{"from":"<id>","to":"room","text":"…"}` for a message to a room, and
//!   `{"from":"<id>","text":"…"}` for one to everyone.
//!
//! A client that reads too slowly overflows its outbox and is disconnected
//! (roomcast-core's default policy); the others are not slowed down.

use std::io;
use std::sync::Arc;

use roomcast_core::{
    ClientId, CloseReason, Flags, Frame, Hub, Message, Outbox, OutboxConfig, Target,
};
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

/// The longest line a client may send; a longer one ends its connection.
pub const MAX_LINE: usize = 64 * 1024;

/// A command line (see the [module docs](self)).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Command {
    join: Option<String>,
    leave: Option<String>,
    say: Option<String>,
    to: Option<String>,
}

/// Accepts chat clients on `listener` until it fails.
pub async fn serve(listener: TcpListener) -> io::Result<()> {
    let hub = Arc::new(Hub::new("core-chat"));
    loop {
        let (stream, peer) = listener.accept().await?;
        let hub = hub.clone();
        tokio::spawn(async move {
            if let Err(e) = client(&hub, stream).await {
                tracing::debug!(%peer, error = %e, "chat connection ended with an error");
            }
        });
    }
}

/// One connection: registered with the hub while it lasts.
async fn client(hub: &Hub, stream: TcpStream) -> io::Result<()> {
    let _ = stream.set_nodelay(true);
    let me = ClientId::random();
    let outbox = Arc::new(Outbox::new(OutboxConfig::default()));
    hub.connect(me, outbox.clone()).map_err(io::Error::other)?;
    let (read, write) = stream.into_split();
    let mut writer = tokio::spawn(write_loop(outbox.clone(), write));
    reply(&outbox, json!({ "welcome": me.as_str() }));

    let mut reader = BufReader::new(read);
    let mut buf = Vec::new();
    let ended = loop {
        tokio::select! {
            line = read_line(&mut reader, &mut buf) => match line {
                Ok(Some(line)) => on_line(hub, me, &outbox, &line),
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            },
            // The writer stops when the outbox overflowed or the peer is gone.
            _ = &mut writer => {
                hub.disconnect(me);
                return Ok(());
            }
        }
    };
    // Leave every room first: nothing new is queued, then flush what was.
    hub.disconnect(me);
    outbox.close(CloseReason::TransportClose);
    let _ = writer.await;
    ended
}

/// The next line without its `\n` (and `\r`), `None` at end of stream.
async fn read_line(
    reader: &mut BufReader<OwnedReadHalf>,
    buf: &mut Vec<u8>,
) -> io::Result<Option<String>> {
    buf.clear();
    let limit = MAX_LINE as u64 + 1;
    let n = (&mut *reader).take(limit).read_until(b'\n', buf).await?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    } else if buf.len() > MAX_LINE {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
    }
    String::from_utf8(std::mem::take(buf))
        .map(Some)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8"))
}

/// Acts on one line from client `me`.
fn on_line(hub: &Hub, me: ClientId, outbox: &Outbox, line: &str) {
    let line = line.trim();
    if line.is_empty() {
        return;
    }
    if !line.starts_with('{') {
        return say(hub, me, line, None);
    }
    match serde_json::from_str::<Command>(line) {
        Ok(Command {
            join: Some(room), ..
        }) => {
            let _ = hub.join(me, [room.as_str()]);
            reply(outbox, json!({ "joined": room }));
        }
        Ok(Command {
            leave: Some(room), ..
        }) => {
            let _ = hub.leave(me, [room.as_str()]);
            reply(outbox, json!({ "left": room }));
        }
        Ok(Command {
            say: Some(text),
            to,
            ..
        }) => say(hub, me, &text, to.as_deref()),
        Ok(_) => reply(outbox, json!({ "error": "expected join, leave or say" })),
        Err(e) => reply(outbox, json!({ "error": e.to_string() })),
    }
}

/// Sends `text` from `me` to the others in `room`, or to every other client.
fn say(hub: &Hub, me: ClientId, text: &str, room: Option<&str>) {
    let (target, line) = match room {
        Some(room) => (
            Target::to([room]),
            json!({ "from": me.as_str(), "to": room, "text": text }),
        ),
        None => (Target::all(), json!({ "from": me.as_str(), "text": text })),
    };
    // Encoded once; the hub queues the same bytes for every recipient.
    let message = Message::from(Frame::text(line.to_string()));
    hub.broadcast(&target.except_client(me), &message, Flags::default());
}

/// Queues a line for this client only.
fn reply(outbox: &Outbox, line: serde_json::Value) {
    let _ = outbox.push(Message::from(Frame::text(line.to_string())));
}

/// Writes what the outbox holds, one line per frame, flushing once per
/// batch, until the outbox is closed and drained or the peer is gone.
async fn write_loop(outbox: Arc<Outbox>, mut write: OwnedWriteHalf) -> io::Result<()> {
    let mut batch = Vec::new();
    let mut bytes = Vec::new();
    loop {
        outbox.ready().await;
        let closed = outbox.drain(&mut batch);
        for frame in batch.drain(..) {
            if let Frame::Text(text) = frame {
                bytes.extend_from_slice(text.as_bytes());
                bytes.push(b'\n');
            }
        }
        if !bytes.is_empty() {
            write.write_all(&bytes).await?;
            write.flush().await?;
            bytes.clear();
        }
        if closed.is_some() {
            return write.shutdown().await;
        }
    }
}
