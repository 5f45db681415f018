//! The roomcast server of the load benchmarks (`scripts/bench.sh`,
//! `BENCHMARKS.md`): the same behaviour as the Node reference server in
//! `bench/node/server.js`, namespace `/`, driven only by these events:
//!
//! - `echo`: emits `echo` back to the sender with the same arguments;
//! - `echo-ack`: acks with the same arguments;
//! - `join`: joins the room named by the first argument, then acks;
//! - `fanout` `{"room","count","payload"}`: emits `count` events `fanout`
//!   carrying `payload` to that room, then acks.
//!
//! `cargo run --release -p roomcast-examples --bin bench-server [port] [--polling] [--deflate] [--recovery]`
//!
//! WebSocket only unless `--polling` (then long-polling too), on
//! 127.0.0.1, logging off. `--deflate` turns `permessage-deflate` on (the
//! defaults: 1024-byte threshold, context takeover), for
//! `roomcast-bench echo --compress on|off`. `--recovery` (or `RECOVERY=1`)
//! turns connection state recovery on with its defaults (2 min, 64 MiB),
//! for `roomcast-bench recovery`: every `fanout` event then carries its
//! offset and is stored; the steady broadcast is the generator's trigger
//! asking for `fanout` with a count of 1 at its rate.
//!
//! With `REDIS_URL` set (`redis://127.0.0.1:6379`), the server joins the
//! cluster on that Redis (Node's redis-adapter protocol, key `KEY`, default
//! `socket.io`): `fanout` then reaches the room on every node, as the Node
//! server does with the same variables (the `cluster-fanout` scenario).
//!
//! Runtime: tokio's `current_thread` runtime, so the whole server (accept
//! loop, every connection task, heartbeats) runs on the one thread that
//! calls `block_on`: that is what "one core" means once the process is
//! pinned with `taskset`. A `multi_thread` runtime with `worker_threads(1)`
//! would also run tasks on one worker, but it keeps the `main` thread
//! blocked aside, wakes the worker across threads and pays the work-stealing
//! scheduler's atomics for nothing.
//!
//! Handlers use the raw-argument path (`on_raw` / `emit_raw` /
//! `AckSender::send_raw`) for `echo` and `echo-ack`: the arguments are
//! relayed unchanged whatever their number and type (binary included), as
//! the Node server does (without binary, their JSON text is checked and
//! copied back, not decoded: `RawArgs`); `fanout` decodes its one object argument into a
//! typed struct whose `payload` is kept as a `serde_json::Value`.

use roomcast_cluster_redis::RedisCluster;
use roomcast_examples::echo;
use roomcast_socketio::engineio::TransportKind;
use roomcast_socketio::{AckSender, RecoveryConfig, Server, Socket};
use serde::Deserialize;
use serde_json::Value;

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
    let deflate = args.iter().any(|a| a == "--deflate");
    let recovery =
        args.iter().any(|a| a == "--recovery") || std::env::var("RECOVERY").is_ok_and(|v| v == "1");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(serve(port, polling, deflate, recovery))
}

async fn serve(port: u16, polling: bool, deflate: bool, recovery: bool) -> std::io::Result<()> {
    let mut builder = Server::builder().engine(|e| {
        e.transports = if polling {
            vec![TransportKind::Polling, TransportKind::WebSocket]
        } else {
            vec![TransportKind::WebSocket]
        };
    });
    if let Ok(url) = std::env::var("REDIS_URL") {
        let key = std::env::var("KEY").unwrap_or_else(|_| "socket.io".to_string());
        let cluster = RedisCluster::builder(url)
            .key(key)
            .build()
            .await
            .map_err(std::io::Error::other)?;
        builder = builder.cluster(cluster);
    }
    if deflate {
        builder = builder.per_message_deflate(Default::default());
    }
    if recovery {
        builder = builder.recovery(RecoveryConfig::default());
    }
    let io = builder.build();
    io.on_connect(|socket: Socket| async move {
        echo::emit_back(&socket, "echo", "echo");
        echo::ack_back(&socket, "echo-ack");
        socket.on(
            "join",
            |socket: Socket, room: String, ack: AckSender| async move {
                socket.join([room.as_str()]);
                ack.send(&()).ok();
            },
        );
        socket.on(
            "fanout",
            |socket: Socket, req: Fanout, ack: AckSender| async move {
                let to = socket.ns().to([req.room.as_str()]);
                for _ in 0..req.count {
                    to.emit("fanout", &req.payload).ok();
                }
                ack.send(&()).ok();
            },
        );
    });
    let listener = listen(port)?;
    println!(
        "roomcast bench-server listening on 127.0.0.1:{port} ({}{}{})",
        if polling {
            "polling+websocket"
        } else {
            "websocket"
        },
        if io.main().hub().cluster().forwards() {
            ", redis cluster"
        } else {
            ""
        },
        if recovery { ", recovery" } else { "" }
    );
    io.serve(listener).await
}

/// Listens on 127.0.0.1 with a backlog of 4096 (tokio's `bind` asks for
/// 1024): 10k clients reconnecting at once overflow a short accept queue
/// (the `reconnect-storm` scenario).
fn listen(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(([127, 0, 0, 1], port).into())?;
    socket.listen(4096)
}
