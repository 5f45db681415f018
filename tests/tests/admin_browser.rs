//! The Socket.IO Admin UI in a real browser against the chapter example
//! with `ADMIN=1` (`js/admin/browser.mjs`): the UI is served by the server
//! at `/admin/`, refuses a wrong password, logs in, shows the clients'
//! sockets, their room and this server; a join and a disconnect done from
//! the UI reach the real socket.io-client. Its `/metrics` scrape counts
//! what happened.

#[allow(dead_code)]
mod chapter;

use std::time::Duration;

use chapter::Chapter;
use roomcast_testkit::js::{first_value, require_chromium, require_js_deps, run_node_file};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_ui_shows_and_operates_the_chapter_server() {
    let Some(_) = require_js_deps() else { return };
    let Some(chromium) = require_chromium() else {
        return;
    };
    let env = [
        ("ADMIN", "1"),
        ("ADMIN_USER", "operator"),
        ("ADMIN_PASSWORD", "open sesame"),
    ];
    let server = Chapter::start_with(None, &env).await;
    assert!(
        server.dump().contains("Admin UI: login as \"operator\"."),
        "{}",
        server.dump()
    );
    let vars = [
        ("PORT", server.port.to_string()),
        ("ADMIN_USER", "operator".to_string()),
        ("ADMIN_PASSWORD", "open sesame".to_string()),
        ("ROOMCAST_CHROMIUM", chromium.display().to_string()),
    ];
    let out = run_node_file("admin/browser.mjs", &vars, Duration::from_secs(90)).await;
    assert!(
        out.success(),
        "{}\n--- server ---\n{}",
        out.describe(),
        server.dump()
    );
    let lines = out.json_lines();
    assert_eq!(first_value(&lines, "refused"), "Invalid credentials");
    assert_eq!(first_value(&lines, "sockets_page"), true);
    assert_eq!(first_value(&lines, "rooms_page"), true);
    assert_eq!(first_value(&lines, "servers_page"), true);
    assert_eq!(first_value(&lines, "joined"), &json!(["hi"]));
    assert_eq!(first_value(&lines, "disconnected"), "io server disconnect");

    // The same server's Prometheus scrape.
    let scrape = chapter::get(server.port, "/metrics", &[]).await;
    assert_eq!(scrape.status, 200);
    assert!(scrape
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")));
    let text = scrape.text();
    for series in [
        "roomcast_sockets{namespace=\"/admin\",transport=\"websocket\"}",
        "roomcast_rooms{namespace=\"/\"}",
        "roomcast_engine_sessions_opened_total",
    ] {
        assert!(text.contains(series), "{series} missing in\n{text}");
    }
    let received: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("roomcast_events_received_total "))
        .and_then(|v| v.parse().ok())
        .expect("events received");
    assert!(received >= 2, "the clients' joins were counted:\n{text}");
}
