//! A WebSocket client written by hand for `echo --compress on|off`: the
//! upgrade (offering `permessage-deflate; client_max_window_bits` when
//! `on`, as browsers and Node's `ws` do), masked frames out, frames in,
//! RFC 7692 compression both ways (messages of 1024 bytes or more are
//! compressed, as Node's `ws` client), and a count of the bytes on the
//! wire in both directions. tungstenite, which the other scenarios use,
//! has no `permessage-deflate`.

use std::cell::Cell;
use std::io;
use std::rc::Rc;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use roomcast_testkit::frame::put_client_frame;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::cli::Common;
use crate::client::io_err;
use crate::proto::{self, Incoming};

/// Client messages this long or longer are compressed.
const THRESHOLD: usize = 1024;
const TAIL: [u8; 4] = [0, 0, 0xff, 0xff];

/// Bytes on the wire, every connection of a run together.
#[derive(Default)]
pub struct Wire {
    /// Bytes read from the server.
    pub bytes_in: Cell<u64>,
    /// Bytes written to the server.
    pub bytes_out: Cell<u64>,
}

impl Wire {
    /// Both directions.
    pub fn total(&self) -> u64 {
        self.bytes_in.get() + self.bytes_out.get()
    }
}

struct Codec {
    compress: Compress,
    decompress: Decompress,
    /// The server said `server_no_context_takeover`: each message on its own.
    server_resets: bool,
    client_resets: bool,
}

/// One connection.
pub struct DeflateWs {
    io: TcpStream,
    buf: Vec<u8>,
    codec: Option<Codec>,
    wire: Rc<Wire>,
    /// Whether the server agreed to `permessage-deflate`.
    pub compressed: bool,
}

impl DeflateWs {
    /// Upgrades, then the Engine.IO open and Socket.IO CONNECT.
    pub async fn connect(common: &Common, offer: bool, wire: Rc<Wire>) -> io::Result<Self> {
        let mut io = TcpStream::connect(common.addr).await?;
        io.set_nodelay(true)?;
        let ext = if offer {
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        } else {
            ""
        };
        let req = format!(
            "GET {}?EIO=4&transport=websocket HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n{ext}\r\n",
            common.path, common.addr
        );
        io.write_all(req.as_bytes()).await?;
        wire.bytes_out.set(wire.bytes_out.get() + req.len() as u64);
        let mut buf = Vec::with_capacity(8192);
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if read_more(&mut io, &mut buf, &wire).await? == 0 {
                return Err(io_err("closed during the upgrade"));
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        if !head.starts_with("http/1.1 101") {
            return Err(io_err(format!("upgrade refused: {head}")));
        }
        let agreed = head
            .lines()
            .find_map(|l| l.strip_prefix("sec-websocket-extensions:"))
            .filter(|v| v.contains("permessage-deflate"));
        let codec = agreed.map(|v| Codec {
            compress: Compress::new(Compression::default(), false),
            decompress: Decompress::new(false),
            server_resets: v.contains("server_no_context_takeover"),
            client_resets: v.contains("client_no_context_takeover"),
        });
        buf.drain(..head_end);
        let mut ws = DeflateWs {
            io,
            buf,
            compressed: codec.is_some(),
            codec,
            wire,
        };
        let mut connected = false;
        while !connected {
            let mut out = Vec::new();
            ws.read_turn(&mut out, |text, out| match proto::parse(text) {
                Incoming::Open(_) => out.push(proto::CONNECT.to_string()),
                Incoming::Connected => connected = true,
                _ => {}
            })
            .await?;
            ws.send_all(&mut out).await?;
        }
        Ok(ws)
    }

    /// Writes every queued text message (emptying `out`) with one write.
    pub async fn send_all(&mut self, out: &mut Vec<String>) -> io::Result<()> {
        if out.is_empty() {
            return Ok(());
        }
        let mut bytes = Vec::new();
        for text in out.drain(..) {
            let payload = text.as_bytes();
            match self.codec.as_mut() {
                Some(c) if payload.len() >= THRESHOLD => {
                    if c.client_resets {
                        c.compress.reset();
                    }
                    let z = deflate(&mut c.compress, payload)?;
                    put_frame(&mut bytes, true, &z);
                }
                _ => put_frame(&mut bytes, false, payload),
            }
        }
        self.io.write_all(&bytes).await?;
        let w = &self.wire.bytes_out;
        w.set(w.get() + bytes.len() as u64);
        Ok(())
    }

    /// Waits for at least one message, then handles every complete one
    /// read; `on_text` may queue answers in `out`. Pings are answered.
    pub async fn read_turn(
        &mut self,
        out: &mut Vec<String>,
        mut on_text: impl FnMut(&str, &mut Vec<String>),
    ) -> io::Result<()> {
        let mut got = false;
        loop {
            while let Some((rsv1, opcode, start, end)) = frame_at(&self.buf)? {
                let text = match (rsv1, self.codec.as_mut()) {
                    (true, Some(c)) => {
                        let t = inflate(&mut c.decompress, &self.buf[start..end])?;
                        if c.server_resets {
                            c.decompress.reset(false);
                        }
                        t
                    }
                    _ => self.buf[start..end].to_vec(),
                };
                self.buf.drain(..end);
                match opcode {
                    0x1 => {
                        let text = String::from_utf8(text).map_err(io_err)?;
                        if text == "2" {
                            out.push(proto::PONG.to_string());
                        } else {
                            on_text(&text, out);
                        }
                        got = true;
                    }
                    0x8 => return Err(io::Error::from(io::ErrorKind::ConnectionReset)),
                    _ => {}
                }
            }
            if got {
                return Ok(());
            }
            if read_more(&mut self.io, &mut self.buf, &self.wire).await? == 0 {
                return Err(io::Error::from(io::ErrorKind::ConnectionReset));
            }
        }
    }
}

async fn read_more(io: &mut TcpStream, buf: &mut Vec<u8>, wire: &Wire) -> io::Result<usize> {
    let mut chunk = [0u8; 16 * 1024];
    let n = io.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    wire.bytes_in.set(wire.bytes_in.get() + n as u64);
    Ok(n)
}

/// The first complete server frame in `buf`: (rsv1, opcode, payload range).
fn frame_at(buf: &[u8]) -> io::Result<Option<(bool, u8, usize, usize)>> {
    let [b0, b1, ..] = *buf else { return Ok(None) };
    if b0 & 0x80 == 0 {
        return Err(io_err("fragmented server frames are not expected"));
    }
    let (len, at) = match b1 & 0x7f {
        126 if buf.len() >= 4 => (usize::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
        127 if buf.len() >= 10 => {
            let mut n = [0u8; 8];
            n.copy_from_slice(&buf[2..10]);
            (u64::from_be_bytes(n) as usize, 10)
        }
        126 | 127 => return Ok(None),
        n => (usize::from(n), 2),
    };
    if buf.len() < at + len {
        return Ok(None);
    }
    Ok(Some((b0 & 0x40 != 0, b0 & 0x0f, at, at + len)))
}

/// A masked text frame (the mask is fixed: this is a load generator).
fn put_frame(out: &mut Vec<u8>, rsv1: bool, payload: &[u8]) {
    let first = 0x81 | if rsv1 { 0x40 } else { 0 };
    put_client_frame(out, first, [0x5a, 0x17, 0xc3, 0x88], payload);
}

fn deflate(c: &mut Compress, input: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() + 64);
    let start = c.total_in();
    loop {
        let used = (c.total_in() - start) as usize;
        c.compress_vec(&input[used..], &mut out, FlushCompress::Sync)
            .map_err(io_err)?;
        if (c.total_in() - start) as usize == input.len() && out.len() < out.capacity() {
            break;
        }
        out.reserve(out.capacity());
    }
    if out.ends_with(&TAIL) {
        out.truncate(out.len() - 4);
    }
    Ok(out)
}

fn inflate(d: &mut Decompress, input: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 4 + 64);
    for part in [input, &TAIL[..]] {
        let start = d.total_in();
        loop {
            let used = (d.total_in() - start) as usize;
            d.decompress_vec(&part[used..], &mut out, FlushDecompress::Sync)
                .map_err(io_err)?;
            if (d.total_in() - start) as usize == part.len() && out.len() < out.capacity() {
                break;
            }
            out.reserve(out.capacity());
        }
    }
    Ok(out)
}
