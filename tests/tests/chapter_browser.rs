//! The chapter example (`cargo run -p roomcast-examples --bin chapter`) end
//! to end: the real binary, its page in headless chromium
//! (`js/chapter/browser.mjs`), the browser console and the server's stdout
//! checked against the tutorial chapter; plus its HTTP side (the client
//! bundle, compression, the CDN fallback).
//!
//! The binary runs as a child process (see `chapter/mod.rs`).

mod chapter;

use std::time::{Duration, Instant};

use chapter::{chapter_dir, get, require_chapter_client, Chapter};
use roomcast_testkit::js::{require_chromium, require_js_deps, run_node_file, CHROMIUM_ARGS};

/// What the chapter's client logs, in order.
const CONSOLE: [&str; 4] = [
    "[socket.io] Connected.",
    "[socket.io] Server: Hello everyone!",
    "[socket.io] Server: Hello clients of room hello-1234!",
    "[socket.io] Server: Hello you!",
];

/// What the chapter's server logs for one page visit, in order.
const SERVER: [&str; 4] = [
    "[socket.io] A client connected.",
    "[socket.io] A client joined room hello-1234.",
    "[socket.io] Client: Hello!",
    "[socket.io] A client disconnected.",
];

/// Opens the page in chromium and checks both consoles. `close_with`:
/// `page` closes the page; `disconnect` calls `socket.disconnect()` first.
async fn visit(query: &str, transport: &str, close_with: &str) {
    let Some(_) = require_js_deps() else { return };
    let Some(chromium) = require_chromium() else {
        return;
    };
    let Some(()) = require_chapter_client() else {
        return;
    };
    let server = Chapter::start(None).await;
    let started = Instant::now();
    let url = format!("http://localhost:{}/{query}", server.port);
    let args = serde_json::to_string(CHROMIUM_ARGS).unwrap();
    let env = [
        ("CHAPTER_URL", url.clone()),
        ("EXPECT_TRANSPORT", transport.to_string()),
        ("CLOSE_WITH", close_with.to_string()),
        ("ROOMCAST_CHROMIUM", chromium.display().to_string()),
        ("CHROMIUM_ARGS", args),
    ];
    let run = run_node_file("chapter/browser.mjs", &env, Duration::from_secs(90)).await;
    let context = || format!("{}\n--- server ---\n{}", run.describe(), server.dump());
    assert!(run.success(), "browser run failed: {}", context());

    let lines = run.json_lines();
    let console: Vec<&str> = lines.iter().filter_map(|l| l["console"].as_str()).collect();
    let mut expected = CONSOLE.to_vec();
    if close_with == "disconnect" {
        expected.push("[socket.io] Disconnected.");
    }
    assert_eq!(console, expected, "browser console of {url}: {}", context());

    let summary = lines
        .iter()
        .find(|l| l.get("transport").is_some())
        .unwrap_or_else(|| panic!("no transport report: {}", context()));
    assert_eq!(summary["transport"], transport, "{}", context());
    assert_eq!(summary["errors"], serde_json::json!([]), "{}", context());
    let websockets = summary["websockets"].as_array().unwrap().len();
    match transport {
        "polling" => assert_eq!(websockets, 0, "a WebSocket was opened: {}", context()),
        _ => assert_eq!(websockets, 1, "expected one WebSocket: {}", context()),
    }
    assert!(lines.iter().any(|l| l["closed"] == true), "{}", context());

    let disconnected = server
        .wait_until(Duration::from_secs(5), |out| {
            out.iter().any(|l| l == SERVER[3]).then_some(())
        })
        .await;
    assert!(
        disconnected.is_some(),
        "the server saw no disconnect within 5 s of the page closing: {}",
        context()
    );
    assert_eq!(
        server.socket_io_lines(),
        SERVER,
        "server stdout: {}",
        context()
    );
    eprintln!(
        "chapter page {url} ({transport}, close with {close_with}): {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn chapter_page_in_chromium_with_default_transports() {
    visit("", "websocket", "page").await;
}

#[tokio::test]
async fn chapter_page_in_chromium_with_polling_only() {
    visit("?transports=polling", "polling", "disconnect").await;
}

/// Closing a tab whose client long-polls: the pending GET is aborted, and
/// the server disconnects the client at once ("poll connection closed
/// prematurely" in the reference server), not at the next missed heartbeat.
#[tokio::test]
async fn chapter_page_closed_while_long_polling() {
    visit("?transports=polling", "polling", "page").await;
}

#[tokio::test]
async fn chapter_serves_the_client_bundle_and_compresses_static_files() {
    let Some(()) = require_chapter_client() else {
        return;
    };
    let server = Chapter::start(None).await;
    let port = server.port;
    let package = std::fs::read(chapter_dir().join("node_modules/socket.io-client/package.json"))
        .expect("socket.io-client's package.json");
    let package: serde_json::Value = serde_json::from_slice(&package).unwrap();
    let version = package["version"].as_str().unwrap();
    assert!(
        server
            .dump()
            .contains(&format!("Serving socket.io-client {version}")),
        "{}",
        server.dump()
    );

    let js = get(port, "/socket.io/socket.io.js", &[]).await;
    assert_eq!(js.status, 200);
    assert_eq!(
        js.header("content-type"),
        Some("application/javascript; charset=utf-8")
    );
    let on_disk =
        std::fs::read(chapter_dir().join("node_modules/socket.io-client/dist/socket.io.js"))
            .unwrap();
    assert_eq!(
        js.body, on_disk,
        "/socket.io/socket.io.js is the npm package's build"
    );
    assert!(String::from_utf8_lossy(&js.body).contains(&format!("Socket.IO v{version}")));
    let etag = js.header("etag").expect("an ETag").to_string();
    let cached = get(port, "/socket.io/socket.io.js", &[("If-None-Match", &etag)]).await;
    assert_eq!(cached.status, 304);
    let min = get(port, "/socket.io/socket.io.min.js", &[]).await;
    assert_eq!(min.status, 200);

    const GZIP: &[(&str, &str)] = &[("Accept-Encoding", "gzip")];
    for path in ["/", "/client.js", "/socket.io/socket.io.js"] {
        let plain = get(port, path, &[]).await;
        assert_eq!(plain.status, 200, "{path}");
        assert_eq!(plain.header("content-encoding"), None, "{path}");
        let gz = get(port, path, GZIP).await;
        assert_eq!(gz.status, 200, "{path}");
        assert_eq!(gz.header("content-encoding"), Some("gzip"), "{path}");
        assert_eq!(&gz.body[..2], &[0x1f, 0x8b], "{path}: a gzip stream");
        assert!(gz.body.len() < plain.body.len(), "{path}: compressed");
    }
    let page = String::from_utf8(get(port, "/", &[]).await.body).unwrap();
    assert!(page.contains(r#"<script src="/socket.io/socket.io.js"></script>"#));

    // The engine is still behind /socket.io/, uncompressed.
    let open = get(port, "/socket.io/?EIO=4&transport=polling", GZIP).await;
    assert_eq!(open.status, 200);
    assert_eq!(open.header("content-encoding"), None);
    assert!(
        open.body.starts_with(b"0{\"sid\":"),
        "{:?}",
        String::from_utf8_lossy(&open.body)
    );
}

#[tokio::test]
async fn chapter_without_the_client_bundle_falls_back_to_the_cdn() {
    let dir = std::env::temp_dir().join(format!("roomcast-chapter-{}", std::process::id()));
    let public = dir.join("public");
    std::fs::create_dir_all(&public).unwrap();
    for entry in std::fs::read_dir(chapter_dir().join("public")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), public.join(entry.file_name())).unwrap();
    }
    let server = Chapter::start(Some(&dir)).await;
    assert!(
        server.dump().contains("is not installed"),
        "{}",
        server.dump()
    );
    let js = get(server.port, "/socket.io/socket.io.js", &[]).await;
    assert_eq!(js.status, 404);
    let page = String::from_utf8(get(server.port, "/", &[]).await.body).unwrap();
    assert!(page.contains("if (!window.io)"));
    assert!(page.contains("https://cdn.socket.io/4.8."));
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
