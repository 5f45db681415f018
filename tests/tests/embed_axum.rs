//! The embed-axum example in-process (`roomcast_examples::embed_axum::app`):
//! REST routes and Socket.IO on one listener; a message posted over REST
//! reaches the real socket.io-client in that room, and only it.

use std::net::SocketAddr;
use std::time::Duration;

use roomcast_examples::embed_axum;
use roomcast_socketio::Server;
use roomcast_testkit::http::http;
use roomcast_testkit::js::{require_js_deps, run_node_file};
use roomcast_testkit::within;
use serde_json::{json, Value};

/// One HTTP exchange: status and JSON body (`null` when not JSON).
async fn call(addr: SocketAddr, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let headers = [("Content-Type", "application/json")];
    let res = http(addr, method, path, &headers, body.as_bytes()).await;
    (
        res.status,
        serde_json::from_slice(&res.body).unwrap_or(Value::Null),
    )
}

async fn start() -> (Server, SocketAddr) {
    let io = Server::new();
    embed_axum::set_up_socket(&io);
    let app = embed_axum::app(io.clone());
    let (addr, _) = roomcast_testkit::spawn_server(|listener| async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    })
    .await;
    (io, addr)
}

#[tokio::test]
async fn rest_routes_answer_beside_socket_io() {
    let (_io, addr) = start().await;
    let (status, health) = call(addr, "GET", "/health", None).await;
    assert_eq!(
        (status, health),
        (200, json!({"status": "ok", "sockets": 0, "posted": 0}))
    );
    let (status, count) = call(addr, "GET", "/rooms/lobby/count", None).await;
    assert_eq!(
        (status, count),
        (200, json!({"room": "lobby", "sockets": 0}))
    );
    let text = Some(json!({"text": "nobody here"}));
    let (status, posted) = call(addr, "POST", "/rooms/lobby/messages", text).await;
    assert_eq!(
        (status, posted),
        (202, json!({"room": "lobby", "targeted": 0}))
    );
    let (status, _) = call(addr, "POST", "/rooms/lobby/messages", Some(json!({"x": 1}))).await;
    assert_eq!(status, 422, "a body without text is rejected");
    let (status, _) = call(addr, "GET", "/nothing", None).await;
    assert_eq!(status, 404);
    // The engine answers its own path.
    let (status, _) = call(addr, "GET", "/socket.io/?EIO=4&transport=polling", None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_posted_message_reaches_the_room_through_socket_io() {
    let Some(_) = require_js_deps() else { return };
    let (io, addr) = start().await;
    let env = vec![
        ("URL", format!("http://{addr}")),
        ("ROOM", "lobby".to_string()),
    ];
    let client = tokio::spawn(async move {
        run_node_file("chapter/embed_axum.mjs", &env, Duration::from_secs(60)).await
    });

    // Wait until both clients joined their rooms (seen through REST).
    within("both clients joined their rooms", async {
        loop {
            let (_, count) = call(addr, "GET", "/rooms/lobby/count", None).await;
            let (_, other) = call(addr, "GET", "/rooms/lobby-other/count", None).await;
            if count["sockets"] == 1 && other["sockets"] == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    })
    .await;
    let (status, health) = call(addr, "GET", "/health", None).await;
    assert_eq!((status, &health["sockets"]), (200, &json!(2)));
    // Socket.IO handshakes carry the client's address (from ConnectInfo).
    for socket in io.fetch_sockets().await {
        let socket = socket.as_local().expect("one server: every socket is here");
        let address = socket.handshake().address().expect("a remote address");
        assert!(address.ip().is_loopback(), "{address}");
    }

    let text = Some(json!({"text": "hello from REST"}));
    let (status, posted) = call(addr, "POST", "/rooms/lobby/messages", text).await;
    assert_eq!(
        (status, posted),
        (202, json!({"room": "lobby", "targeted": 1}))
    );

    let out = client.await.unwrap();
    out.assert_success();
    let lines = out.json_lines();
    let joined: Vec<&Value> = lines.iter().filter_map(|l| l.get("joined")).collect();
    assert_eq!(joined, [&json!(1), &json!(1)], "{}", out.describe());
    let got = lines
        .iter()
        .find(|l| l.get("message").is_some())
        .unwrap_or_else(|| panic!("no message: {}", out.describe()));
    assert_eq!(
        got["message"],
        json!({"room": "lobby", "text": "hello from REST"})
    );
    assert_eq!(
        got["outsider"],
        json!([]),
        "the other room got it: {}",
        out.describe()
    );

    let (_, health) = call(addr, "GET", "/health", None).await;
    assert_eq!(health["posted"], 1);
}
