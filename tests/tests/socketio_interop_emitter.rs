//! Node's EventEmitter semantics on a socket, driven by the real npm
//! `socket.io-client` 4.8.4 (`tests/js/socketio/emitter.mjs`): two connect
//! handlers run in order; two listeners of one event both run, in order,
//! and share its ack (the first answer wins); `once` runs once; a listener
//! removed by its id no longer runs (`listener_count` says 0); catch-alls run
//! before the listeners, a prepended one first, and outgoing catch-alls see
//! the emits; the handshake's `xdomain` (the client sends an Origin) and
//! `secure` (plain HTTP); `socket.use`-style middlewares change an event (`double`:
//! 21 → 42) or reject it, the rejection reaching the socket's error hook.

mod socketio_common;

use std::time::Duration;

use parking_lot::Mutex;
use roomcast_socketio::{AckSender, ListenerId, Server, Socket, SocketError};
use roomcast_testkit::js::require_js_deps;
use serde_json::{json, Value};
use socketio_common::{node_ok, serve, step};

/// What the server saw, in order (the app state).
#[derive(Default)]
struct Seen(Mutex<Vec<String>>);

impl Seen {
    fn push(&self, what: impl Into<String>) {
        self.0.lock().push(what.into());
    }
}

/// The id of the `temp` listener (per socket: socket data).
#[derive(Clone)]
struct Temp(ListenerId);

fn server() -> Server {
    let io = Server::builder().state(Seen::default()).build();
    io.on_connect(|socket: Socket| async move {
        socket.state::<Seen>().push("connect 1");
        socket.use_middleware(|_, packet| {
            if packet[0] == "forbidden" {
                return Err(SocketError::new("forbidden event"));
            }
            if packet[0] == "double" {
                let n = packet.get(1).and_then(Value::as_i64).unwrap_or(0);
                packet[1] = json!(n * 2);
            }
            Ok(())
        });
        socket.on_error(|socket: Socket, e: SocketError| async move {
            socket.state::<Seen>().push(format!("error {}", e.message));
            socket.emit("error-seen", &e.message).ok();
        });
        socket.on_any(|s, event, _| s.state::<Seen>().push(format!("any {event}")));
        socket.prepend_any(|s, event, _| s.state::<Seen>().push(format!("first-any {event}")));
        socket.on_any_outgoing(|s, event, _| s.state::<Seen>().push(format!("out {event}")));
    });
    io.on_connect(|socket: Socket| async move {
        socket.state::<Seen>().push("connect 2");
        socket.on("multi", |s: Socket, (): (), ack: AckSender| async move {
            s.state::<Seen>().push("multi a");
            ack.send(&"a").ok();
        });
        socket.on("multi", |s: Socket, (): (), ack: AckSender| async move {
            s.state::<Seen>().push("multi b");
            ack.send(&"b").ok();
        });
        socket.once(
            "once",
            |s: Socket| async move { s.state::<Seen>().push("once") },
        );
        socket.on(
            "count",
            |s: Socket, event: String, ack: AckSender| async move {
                let n = match event.as_str() {
                    "once" => s
                        .state::<Seen>()
                        .0
                        .lock()
                        .iter()
                        .filter(|e| *e == "once")
                        .count(),
                    other => s.listener_count(other),
                };
                ack.send(&n).ok();
            },
        );
        socket.on("double", |_: Socket, n: i64, ack: AckSender| async move {
            ack.send(&n).ok();
        });
        socket.on("forbidden", |s: Socket| async move {
            s.state::<Seen>().push("forbidden handled");
        });
        let temp = socket.on("temp", |_: Socket, (): (), ack: AckSender| async move {
            ack.send(&"temp").ok();
        });
        socket.extensions().insert(Temp(temp));
        socket.on("drop-temp", |s: Socket| async move {
            if let Some(Temp(id)) = s.extensions().get::<Temp>() {
                s.state::<Seen>()
                    .push(format!("removed {}", s.remove_listener(id)));
            }
        });
        socket.on("log", |s: Socket, (): (), ack: AckSender| async move {
            let log = s.state::<Seen>().0.lock().clone();
            ack.send(&log).ok();
        });
        let count = socket.listener_count("multi");
        let handshake = socket.handshake();
        socket
            .emit("hello", &(count, handshake.xdomain(), handshake.secure()))
            .ok();
    });
    io
}

#[tokio::test]
async fn listeners_middlewares_and_hooks_as_in_node() {
    let Some(_) = require_js_deps() else { return };
    for transport in ["websocket", "polling"] {
        let io = server();
        let port = serve(&io).await;
        let lines = node_ok(
            "emitter.mjs",
            port,
            &[("TRANSPORT", transport)],
            Duration::from_secs(30),
        )
        .await;
        assert_eq!(
            step(&lines, "hello")["args"],
            json!([2, true, false]),
            "{transport}"
        );
        assert_eq!(step(&lines, "multi")["ack"], json!("a"), "{transport}");
        assert_eq!(step(&lines, "once")["ack"], json!(1), "{transport}");
        assert_eq!(step(&lines, "double")["ack"], json!(42), "{transport}");
        assert_eq!(
            step(&lines, "error")["args"],
            json!(["forbidden event"]),
            "{transport}"
        );
        assert_eq!(step(&lines, "temp")["ack"], json!("temp"), "{transport}");
        assert_eq!(step(&lines, "dropped")["ack"], json!(0), "{transport}");
        let log: Vec<String> = serde_json::from_value(step(&lines, "log")["ack"].clone()).unwrap();
        let expected = [
            "connect 1",
            "connect 2",
            "out hello",
            "first-any multi",
            "any multi",
            "multi a",
            "multi b",
            "first-any once",
            "any once",
            "once",
            "first-any once",
            "any once",
            "first-any count",
            "any count",
            "first-any double",
            "any double",
            "error forbidden event",
            "out error-seen",
            "first-any temp",
            "any temp",
            "first-any drop-temp",
            "any drop-temp",
            "removed true",
            "first-any count",
            "any count",
            "first-any log",
            "any log",
        ];
        assert_eq!(log, expected, "{transport}");
    }
}
