//! The socketioxide server of the load benchmarks (`scripts/bench.sh`,
//! `BENCHMARKS.md`): socketioxide 0.18 with the same event contract as the
//! roomcast bench server (`examples/src/bin/bench-server.rs`) and the Node
//! one (`bench/node/server.js`), namespace `/`:
//!
//! - `echo`: emits `echo` back to the sender with the same arguments;
//! - `echo-ack`: acks with the same arguments;
//! - `join`: joins the room named by the first argument, then acks;
//! - `fanout` `{"room","count","payload"}`: emits `count` events `fanout`
//!   carrying `payload` to that room, then acks.
//!
//! `cargo run --release --manifest-path bench/socketioxide/Cargo.toml -- [port] [--polling]`
//!
//! WebSocket only unless `--polling` (then long-polling too), on 127.0.0.1,
//! over hyper's HTTP/1 server with upgrades (socketioxide is a hyper /
//! tower service and brings no listener of its own). One thread: tokio's
//! `current_thread` runtime, as the roomcast bench server, so with
//! `taskset` the whole server runs on one core.
//!
//! The arguments of `echo` and `echo-ack` are relayed whatever their
//! number: [`Args`] reads and writes them as a serde *tuple*, which
//! socketioxide spreads into the packet's argument list (a `Vec` or a
//! `serde_json::Value` array would be one argument).

use std::fmt;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use serde::de::{SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::{SocketIo, TransportType};

/// Every argument of an event, in order.
struct Args(Vec<Value>);

impl Serialize for Args {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for value in &self.0 {
            tuple.serialize_element(value)?;
        }
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for Args {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ArgsVisitor;
        impl<'de> Visitor<'de> for ArgsVisitor {
            type Value = Args;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("event arguments")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Args, A::Error> {
                let mut args = Vec::with_capacity(seq.size_hint().unwrap_or(2));
                while let Some(value) = seq.next_element()? {
                    args.push(value);
                }
                Ok(Args(args))
            }
        }
        deserializer.deserialize_tuple(usize::MAX, ArgsVisitor)
    }
}

#[derive(Deserialize)]
struct Fanout {
    room: String,
    count: u32,
    payload: Value,
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = args.iter().find_map(|a| a.parse().ok()).unwrap_or(3000);
    let polling = args.iter().any(|a| a == "--polling");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(serve(port, polling))
}

async fn serve(port: u16, polling: bool) -> std::io::Result<()> {
    let builder = SocketIo::builder();
    let builder = if polling {
        builder.transports([TransportType::Polling, TransportType::Websocket])
    } else {
        builder.transports([TransportType::Websocket])
    };
    let (svc, io) = builder.build_svc();
    let io2 = io.clone();
    io.ns("/", async move |s: SocketRef| {
        s.on("echo", async |s: SocketRef, Data(args): Data<Args>| {
            s.emit("echo", &args).ok();
        });
        s.on(
            "echo-ack",
            async |Data(args): Data<Args>, ack: AckSender| {
                ack.send(&args).ok();
            },
        );
        s.on(
            "join",
            async |s: SocketRef, Data(room): Data<String>, ack: AckSender| {
                s.join(room);
                ack.send(&()).ok();
            },
        );
        let io = io2.clone();
        s.on(
            "fanout",
            async move |Data(req): Data<Fanout>, ack: AckSender| {
                let to = io.to(req.room);
                for _ in 0..req.count {
                    to.clone().emit("fanout", &req.payload).await.ok();
                }
                ack.send(&()).ok();
            },
        );
    });

    // A backlog of 4096, as the roomcast bench server (tokio's `bind` asks
    // for 1024): the reconnect storm overflows a short accept queue.
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(([127, 0, 0, 1], port).into())?;
    let listener = socket.listen(4096)?;
    println!(
        "socketioxide 0.18 bench server listening on 127.0.0.1:{port} ({})",
        if polling {
            "polling+websocket"
        } else {
            "websocket"
        }
    );
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of descriptors (EMFILE) or a connection reset before it
            // was accepted: that connection is lost, the server goes on.
            Err(e) => {
                eprintln!("accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let svc = svc.clone();
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .with_upgrades()
                .await;
        });
    }
}
