//! Interop with the real npm `socket.io-client` 4.8.4 on each transport: websocket
//! only (`transports: ["websocket"]`), polling only (`["polling"]`, never upgraded),
//! and the default polling → websocket upgrade with events flowing both ways the whole
//! time: every client event reaches the server once and in order (the server sees the
//! socket's transport change mid-stream), every echo and every server "tick" reaches
//! the client once and in order, and `engine.transport.name` ends as "websocket".
//!
//! Script: `tests/js/socketio/transports.mjs`.

mod socketio_common;

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use roomcast_socketio::{AckSender, Server, Socket};
use roomcast_testkit::js::require_js_deps;
use serde_json::{json, Value};
use socketio_common::{node_ok, serve, step, Log};

/// Per socket: whether "stop" came, and the last tick sent.
#[derive(Default)]
struct Ticker {
    stopped: bool,
    last: Option<u64>,
}

/// `n` is logged with the transport it arrived on and echoed; a ticker task
/// emits "tick" every 2 ms until "stop", which acks the last tick sent.
fn server(log: Log<(u64, &'static str)>, handshake: Log<&'static str>) -> Server {
    let io = Server::new();
    io.on_connect(move |socket: Socket| {
        let log = log.clone();
        handshake.push(socket.handshake().transport());
        async move {
            socket.on("n", move |s: Socket, n: u64, _: AckSender| {
                log.push((n, s.transport().as_str()));
                async move {
                    s.emit("echo", &n).unwrap();
                }
            });
            let ticker = Arc::new(Mutex::new(Ticker::default()));
            let t = ticker.clone();
            socket.on("stop", move |_: Socket, (): (), ack: AckSender| {
                let mut t = t.lock();
                t.stopped = true;
                // Under the lock: no tick can follow the ack.
                ack.send(&t.last).unwrap();
                async {}
            });
            let s = socket.clone();
            tokio::spawn(async move {
                for i in 0u64.. {
                    {
                        let mut t = ticker.lock();
                        if t.stopped || s.emit("tick", &i).is_err() {
                            return;
                        }
                        t.last = Some(i);
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            });
        }
    });
    io
}

/// Runs the script with `transports` ("websocket", "polling" or
/// "polling,websocket") and `upgrade` ("auto" or "held"); returns its report,
/// the server's log and the transport the connection opened on.
async fn traffic(
    transports: &str,
    upgrade: &str,
) -> Option<(Value, Vec<(u64, &'static str)>, &'static str)> {
    require_js_deps()?;
    let log = Log::default();
    let handshake = Log::default();
    let io = server(log.clone(), handshake.clone());
    let port = serve(&io).await;
    let lines = node_ok(
        "transports.mjs",
        port,
        &[("TRANSPORTS", transports), ("UPGRADE", upgrade)],
        Duration::from_secs(40),
    )
    .await;
    let done = step(&lines, "done").clone();
    let sent = done["sent"].as_u64().unwrap();
    let seen = log.all();

    // Every event once, in order, both ways.
    let received: Vec<u64> = seen.iter().map(|(n, _)| *n).collect();
    assert_eq!(received, (0..sent).collect::<Vec<_>>(), "server received");
    assert_eq!(
        done["echoes"],
        json!((0..sent).collect::<Vec<_>>()),
        "echoes"
    );
    let last_tick = done["lastTick"].as_u64().expect("some ticks were sent");
    assert_eq!(
        done["ticks"],
        json!((0..=last_tick).collect::<Vec<_>>()),
        "ticks"
    );
    let opened_on = handshake.all();
    assert_eq!(opened_on.len(), 1);
    Some((done, seen, opened_on[0]))
}

#[tokio::test]
async fn websocket_only() {
    let Some((done, seen, opened_on)) = traffic("websocket", "auto").await else {
        return;
    };
    assert_eq!(opened_on, "websocket");
    assert!(seen.iter().all(|(_, t)| *t == "websocket"));
    assert_eq!(done["transport"], "websocket");
    assert_eq!(done["upgrades"], json!([]));
}

#[tokio::test]
async fn polling_only() {
    let Some((done, seen, opened_on)) = traffic("polling", "auto").await else {
        return;
    };
    assert_eq!(opened_on, "polling");
    assert!(seen.iter().all(|(_, t)| *t == "polling"));
    assert_eq!(done["transport"], "polling");
    assert_eq!(
        done["upgrades"],
        json!([]),
        "no upgrade was offered or made"
    );
}

#[tokio::test]
async fn automatic_upgrade_to_websocket() {
    let Some((done, seen, opened_on)) = traffic("polling,websocket", "auto").await else {
        return;
    };
    // The client may finish the upgrade before it even joins `/`: then no
    // event travels over polling. Order and completeness are checked anyway.
    assert_eq!(opened_on, "polling");
    assert_eq!(done["upgrades"], json!(["websocket"]));
    assert_eq!(done["transport"], "websocket");
    assert_eq!(seen.last().unwrap().1, "websocket");
}

#[tokio::test]
async fn upgrade_with_events_in_flight_keeps_order() {
    let Some((done, seen, opened_on)) = traffic("polling,websocket", "held").await else {
        return;
    };
    assert_eq!(opened_on, "polling");
    assert_eq!(done["upgrades"], json!(["websocket"]));
    assert_eq!(done["transport"], "websocket");
    let sent_on: Vec<&str> = done["sentOn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let on_polling = sent_on.iter().take_while(|t| **t == "polling").count();
    assert!(
        on_polling >= 50,
        "events were sent before the upgrade: {on_polling}"
    );
    assert!(
        sent_on[on_polling..].iter().all(|t| *t == "websocket"),
        "one switch, polling then websocket: {sent_on:?}"
    );
    // The server saw the same switch, once.
    let switch = seen.iter().take_while(|(_, t)| *t == "polling").count();
    assert!(switch >= 50, "events arrived over polling: {switch}");
    assert!(
        seen[switch..].iter().all(|(_, t)| *t == "websocket"),
        "{seen:?}"
    );
    assert!(switch < seen.len(), "events arrived over websocket");
}
