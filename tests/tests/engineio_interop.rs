//! Interop with the real npm `engine.io-client` 6.6.8 (scripts in
//! `tests/js/engineio/`): a roomcast Engine with an echo handler on
//! 127.0.0.1:0, and node clients that
//! (a) open on polling, upgrade to websocket, echo text and binary, close;
//! (b) use websocket only; (c) use polling only, without upgrade, with a
//! burst of messages; (d) see the server close their session, on every
//! transport mode. Each script prints JSON lines that are checked here;
//! the server's view (handler events, close reasons) is checked too.
//!
//! Without node or the npm packages the tests print a SKIP line, except
//! under `CI=true`, where they fail (see `roomcast_testkit::js`).

use std::sync::Arc;
use std::time::Duration;

use roomcast_core::{ClientId, CloseReason, Frame, Message};
use roomcast_engineio::{message_frame, Engine, EngineConfig, Handler, Socket};
use roomcast_testkit::js::{require_js_deps, run_node_file, NodeOutput};
use roomcast_testkit::{eventually, within};
use serde_json::{json, Value};
use tokio::sync::mpsc;

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);

/// What the server saw.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Open(ClientId),
    Close(ClientId, CloseReason),
}

/// Echoes every message (text as text, binary as binary); closes the
/// session on the text message "close me".
struct Echo {
    events: mpsc::UnboundedSender<Event>,
}

impl Handler for Echo {
    type Session = ();

    fn on_open(&self, socket: &Arc<Socket>) {
        let _ = self.events.send(Event::Open(socket.id()));
    }

    fn on_message(&self, socket: &Arc<Socket>, _: &(), message: Frame) -> Result<(), CloseReason> {
        if matches!(&message, Frame::Text(t) if t.as_str() == "close me") {
            socket.close(CloseReason::Forced);
            return Ok(());
        }
        let _ = socket.send(Message::from(message_frame(message)));
        Ok(())
    }

    fn on_close(&self, socket: &Arc<Socket>, _: &(), reason: CloseReason) {
        let _ = self.events.send(Event::Close(socket.id(), reason));
    }
}

struct Server {
    engine: Engine,
    url: String,
    events: mpsc::UnboundedReceiver<Event>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn start() -> Server {
    let (tx, events) = mpsc::unbounded_channel();
    let config = EngineConfig {
        // Short enough that heartbeats happen during the scripts.
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(2000),
        ..EngineConfig::default()
    };
    let engine = Engine::new(config, Echo { events: tx });
    let (addr, task) = roomcast_testkit::spawn_server(|l| engine.clone().serve(l)).await;
    Server {
        engine,
        url: format!("http://{addr}"),
        events,
        task,
    }
}

impl Server {
    async fn run(&self, script: &str, extra: &[(&str, String)]) -> (NodeOutput, Vec<Value>) {
        let mut env = vec![("EIO_URL", self.url.clone())];
        env.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
        let out = run_node_file(&format!("engineio/{script}"), &env, SCRIPT_TIMEOUT).await;
        out.assert_success();
        let lines = out.json_lines();
        assert!(
            lines.iter().all(|l| l["event"] != "error"),
            "{}",
            out.describe()
        );
        (out, lines)
    }

    /// Every handler event until the session `sid` has closed.
    async fn events_until_closed(&mut self, sid: ClientId) -> Vec<Event> {
        let mut seen = Vec::new();
        within(&format!("the close of {sid} on the server"), async {
            while let Some(e) = self.events.recv().await {
                let done = matches!(e, Event::Close(id, _) if id == sid);
                seen.push(e);
                if done {
                    return;
                }
            }
        })
        .await;
        seen
    }

    /// Waits for the close of the session that `open` (a script's open
    /// line) reported; asserts it closed with `reason` and that no session
    /// is left on the server. Returns the session's handler events.
    async fn assert_closed(&mut self, open: &Value, reason: CloseReason, what: &str) -> Vec<Event> {
        let sid: ClientId = open["sid"].as_str().unwrap().parse().expect("sid");
        let events = self.events_until_closed(sid).await;
        assert_eq!(events.last(), Some(&Event::Close(sid, reason)), "{what}");
        eventually("no session left on the server", || {
            self.engine.session_count() == 0
        })
        .await;
        events
    }
}

fn find<'a>(lines: &'a [Value], event: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["event"] == event).collect()
}

fn one<'a>(lines: &'a [Value], event: &str, out: &NodeOutput) -> &'a Value {
    let found = find(lines, event);
    assert_eq!(found.len(), 1, "one {event:?} line: {}", out.describe());
    found[0]
}

/// Every echo line has what was sent.
fn assert_echoes(lines: &[Value], labels: &[&str], out: &NodeOutput) {
    let echoes = find(lines, "echo");
    assert_eq!(echoes.len(), 2 * labels.len(), "{}", out.describe());
    for label in labels {
        for kind in ["text", "binary"] {
            let e = echoes
                .iter()
                .find(|e| e["label"] == *label && e["kind"] == kind)
                .unwrap_or_else(|| panic!("no {kind} echo for {label}: {}", out.describe()));
            assert_eq!(e["got"], e["sent"], "{kind} echo for {label}");
            if kind == "binary" {
                assert_eq!(e["isString"], false, "binary stays binary");
            }
        }
    }
}

#[tokio::test]
async fn default_transports_open_on_polling_and_upgrade() {
    let Some(_) = require_js_deps() else { return };
    let mut server = start().await;
    let (out, lines) = server.run("default.mjs", &[]).await;

    let open = one(&lines, "open", &out);
    assert_eq!(open["transport"], "polling", "{}", out.describe());
    assert_eq!(open["upgrades"], json!(["websocket"]));
    assert_eq!(open["pingInterval"], 300);
    assert_eq!(one(&lines, "upgrade", &out)["transport"], "websocket");
    assert_echoes(&lines, &["early", "upgraded"], &out);
    for e in find(&lines, "echo")
        .into_iter()
        .filter(|e| e["label"] == "upgraded")
    {
        assert_eq!(e["transport"], "websocket");
    }
    assert_eq!(one(&lines, "close", &out)["reason"], "forced close");

    let events = server
        .assert_closed(open, CloseReason::TransportClose, "default")
        .await;
    let id: ClientId = open["sid"].as_str().unwrap().parse().unwrap();
    assert_eq!(events.first(), Some(&Event::Open(id)));
}

#[tokio::test]
async fn websocket_only() {
    let Some(_) = require_js_deps() else { return };
    let mut server = start().await;
    let (out, lines) = server.run("websocket.mjs", &[]).await;

    let open = one(&lines, "open", &out);
    assert_eq!(open["transport"], "websocket", "{}", out.describe());
    assert_eq!(open["upgrades"], json!([]));
    assert_echoes(&lines, &["ws"], &out);
    assert!(find(&lines, "echo")
        .iter()
        .all(|e| e["transport"] == "websocket"));
    assert_eq!(one(&lines, "close", &out)["reason"], "forced close");

    server
        .assert_closed(open, CloseReason::TransportClose, "websocket")
        .await;
}

#[tokio::test]
async fn polling_only_without_upgrade() {
    let Some(_) = require_js_deps() else { return };
    let mut server = start().await;
    let (out, lines) = server.run("polling.mjs", &[]).await;

    let open = one(&lines, "open", &out);
    assert_eq!(open["transport"], "polling", "{}", out.describe());
    // The server offers the upgrade; the client is told not to take it.
    assert_eq!(open["upgrades"], json!(["websocket"]));
    assert_echoes(&lines, &["polling"], &out);
    let burst = one(&lines, "burst", &out);
    assert_eq!(burst["got"], burst["sent"], "burst echoed in order");
    assert_eq!(burst["transport"], "polling");
    assert!(find(&lines, "echo")
        .iter()
        .all(|e| e["transport"] == "polling"));
    assert_eq!(one(&lines, "close", &out)["reason"], "forced close");

    server
        .assert_closed(open, CloseReason::TransportClose, "polling")
        .await;
}

#[tokio::test]
async fn server_close_is_seen_by_the_client() {
    let Some(_) = require_js_deps() else { return };
    let mut server = start().await;
    for transports in ["polling,websocket", "websocket", "polling"] {
        let env = [("EIO_TRANSPORTS", transports.to_string())];
        let (out, lines) = server.run("server_close.mjs", &env).await;
        let open = one(&lines, "open", &out);
        let close = one(&lines, "close", &out);
        assert_eq!(
            close["reason"],
            "transport close",
            "{transports}: {}",
            out.describe()
        );
        if transports.contains(',') {
            assert_eq!(one(&lines, "upgrade", &out)["transport"], "websocket");
        }
        server
            .assert_closed(open, CloseReason::Forced, transports)
            .await;
    }
}
