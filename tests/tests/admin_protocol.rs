//! The admin namespace (`roomcast_socketio::admin`) speaks the protocol of
//! Node's `@socket.io/admin-ui` `instrument()`: the same scenario
//! (`js/admin/protocol.mjs`: a refused login, clients connecting, a join,
//! an emit, a leave and a disconnect done by the admin client) runs
//! against a Node socket.io 4.8 server with `instrument()` and against
//! roomcast, and every admin event must have the same shape (keys and
//! value types; header, query and data maps compared as maps).

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use roomcast_socketio::admin::{self, AdminOptions};
use roomcast_socketio::Server;
use roomcast_testkit::js::{first_value, js_dir, require_js_deps, require_node, run_node_file};
use serde_json::{json, Map, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

const PASSWORD: &str = "s3cret";

/// Keys and value types; maps whose keys depend on the client or the
/// application are compared as "object".
fn shape(v: &Value, key: &str) -> Value {
    match v {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("boolean"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        // Counts per second, in whatever order they happened.
        Value::Array(a) if key == "aggregatedEvents" => {
            for e in a {
                let keys: Vec<&String> = e.as_object().expect("an event").keys().collect();
                assert!(
                    keys.iter()
                        .all(|k| ["timestamp", "type", "subType", "count"].contains(&k.as_str())),
                    "{e}"
                );
                assert!(
                    e["timestamp"].is_u64() && e["count"].is_u64() && e["type"].is_string(),
                    "{e}"
                );
            }
            json!("events")
        }
        Value::Array(a) => Value::Array(a.first().map(|f| shape(f, "")).into_iter().collect()),
        Value::Object(_) if matches!(key, "headers" | "query" | "data") => json!("object"),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), shape(v, k)))
                .collect::<Map<_, _>>(),
        ),
    }
}

/// The scenario's output: the first args of each admin event, and the rest.
async fn scenario(port: u16) -> (BTreeMap<String, Value>, Vec<Value>) {
    let env = [
        ("PORT", port.to_string()),
        ("ADMIN_PASSWORD", PASSWORD.to_string()),
    ];
    let out = run_node_file("admin/protocol.mjs", &env, Duration::from_secs(60)).await;
    out.assert_success();
    let lines = out.json_lines();
    let events = lines
        .iter()
        .filter_map(|l| Some((l["event"].as_str()?.to_string(), l["args"].clone())))
        .collect();
    (events, lines)
}

/// A Node socket.io server with instrument(); killed when dropped.
async fn node_server(hash: &str) -> (tokio::process::Child, u16) {
    let node = require_node().expect("node");
    let mut child = tokio::process::Command::new(node)
        .arg(js_dir().join("admin/node-server.mjs"))
        .current_dir(js_dir())
        .env("ADMIN_HASH", hash)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node server");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let port = roomcast_testkit::within("the node server's port", async {
        loop {
            let line = lines
                .next_line()
                .await
                .expect("read")
                .expect("node server exited");
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if let Some(port) = v["port"].as_u64() {
                    return port as u16;
                }
            }
        }
    })
    .await;
    (child, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_events_have_the_shapes_node_sends() {
    let Some(_) = require_js_deps() else { return };
    let hash = bcrypt::hash(PASSWORD, 4).expect("hash");

    let io = Server::new();
    admin::instrument(&io, AdminOptions::basic_auth("admin", hash.clone())).expect("instrument");
    let io2 = io.clone();
    let (addr, _) = roomcast_testkit::spawn_server(|l| async move { io2.serve(l).await }).await;
    let (ours, our_lines) = scenario(addr.port()).await;

    let (_node, node_port) = node_server(&hash).await;
    let (theirs, their_lines) = scenario(node_port).await;

    for lines in [&our_lines, &their_lines] {
        assert_eq!(first_value(lines, "refused"), "invalid credentials");
        assert_eq!(first_value(lines, "pinged"), &json!([1, "two"]));
        assert_eq!(first_value(lines, "disconnected"), "io server disconnect");
        assert_eq!(first_value(lines, "session_login"), true);
    }
    let names: Vec<&String> = theirs.keys().collect();
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        names,
        "the same admin events"
    );
    for (event, args) in &theirs {
        let (want, got) = (shape(args, ""), shape(&ours[event], ""));
        assert_eq!(
            got, want,
            "shape of {event}: ours {:#} vs node {:#}",
            ours[event], args
        );
    }
    assert_eq!(ours["config"], theirs["config"], "the same features");
}
