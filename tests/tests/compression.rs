//! Compression as Node users have it, against real clients: WebSocket
//! `permessage-deflate` with npm's `ws` (negotiation, the parameters, RSV1
//! on the wire, the threshold, `compress(false)`, context takeover),
//! `socket.io-client` on Node and headless chromium (compressed traffic
//! both ways), and gzip/deflate of long-polling answers per
//! `Accept-Encoding` (raw HTTP, and the browser).
//!
//! Scripts: `tests/js/compression/{ws,client,browser}.mjs`; the last two
//! run the same exchange (`exchange.mjs`).

mod socketio_common;

use std::io::Read;
use std::net::SocketAddr;
use std::time::Duration;

use roomcast_socketio::engineio::PerMessageDeflate;
use roomcast_socketio::{AckSender, Server, Socket};
use roomcast_testkit::get;
use roomcast_testkit::http::http;
use roomcast_testkit::js::{require_chromium, require_js_deps, run_node_file, CHROMIUM_ARGS};
use serde_json::Value;
use socketio_common::{serve, step, steps};

/// "0 1 2 3 …" cut to `n` characters (the scripts make the same).
fn numbers(n: usize) -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < n {
        s.push_str(&format!("{i} "));
        i += 1;
    }
    s.truncate(n);
    s
}

/// `big` n → "big" with n characters; `plain` n → the same, sent with
/// `compress(false)`; `echo` x → x.
fn server(deflate: Option<PerMessageDeflate>) -> Server {
    let mut builder = Server::builder();
    if let Some(d) = deflate {
        builder = builder.per_message_deflate(d);
    }
    let io = builder.build();
    io.on_connect(|socket: Socket| async move {
        socket.on("big", |s: Socket, n: usize, _: AckSender| async move {
            s.emit("big", &numbers(n)).unwrap();
        });
        socket.on("plain", |s: Socket, n: usize, _: AckSender| async move {
            s.compress(false).emit("plain", &numbers(n)).unwrap();
        });
        socket.on("echo", |s: Socket, text: String, _: AckSender| async move {
            s.emit("echo", &text).unwrap();
        });
    });
    io
}

async fn ws_client(deflate: Option<PerMessageDeflate>, ws_opts: &str) -> Option<Vec<Value>> {
    require_js_deps()?;
    let io = server(deflate);
    let port = serve(&io).await;
    let env = [("PORT", port.to_string()), ("WS_OPTS", ws_opts.to_string())];
    let out = run_node_file("compression/ws.mjs", &env, Duration::from_secs(30)).await;
    out.assert_success();
    Some(out.json_lines())
}

/// (rsv1, wire length, content right) of each reply, in order: big 3000,
/// big 3000 again, big 100, plain 3000.
fn replies(lines: &[Value]) -> Vec<(bool, u64, bool)> {
    steps(lines, "frame")
        .iter()
        .map(|f| {
            (
                f["rsv1"].as_bool().unwrap(),
                f["len"].as_u64().unwrap(),
                f["ok"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn ws_negotiates_and_compresses_above_the_threshold() {
    let Some(lines) = ws_client(Some(PerMessageDeflate::default()), "{}").await else {
        return;
    };
    let ext = step(&lines, "ext");
    assert_eq!(ext["extensions"], "permessage-deflate", "{lines:?}");
    // ws offers client_max_window_bits; we answer it with 15.
    assert_eq!(ext["params"]["client_max_window_bits"], 15, "{lines:?}");
    assert!(ext["params"].get("server_no_context_takeover").is_none());
    let r = replies(&lines);
    assert!(r.iter().all(|&(_, _, ok)| ok), "{r:?}");
    let [(z1, len1, _), (z2, len2, _), (small, _, _), (plain, plain_len, _)] = r[..] else {
        panic!("{r:?}")
    };
    assert!(z1 && z2, "3000 bytes are compressed: {r:?}");
    assert!(len1 < 1500, "{r:?}");
    // Context takeover: the second refers back to the first.
    assert!(len2 < len1 / 4, "{r:?}");
    assert!(!small, "under the 1024-byte threshold: RSV1 clear");
    assert!(!plain && plain_len > 3000, "compress(false): sent as it is");
    assert_eq!(
        step(&lines, "echo")["ok"],
        true,
        "the client's compressed message"
    );
}

#[tokio::test]
async fn ws_without_context_takeover_and_with_window_bits() {
    let server_side = PerMessageDeflate {
        server_no_context_takeover: true,
        ..PerMessageDeflate::default()
    };
    let opts = r#"{"clientNoContextTakeover":true,"serverMaxWindowBits":10}"#;
    let Some(lines) = ws_client(Some(server_side), opts).await else {
        return;
    };
    let params = &step(&lines, "ext")["params"];
    assert_eq!(params["server_no_context_takeover"], true, "{lines:?}");
    assert_eq!(params["client_no_context_takeover"], true, "{lines:?}");
    assert_eq!(params["server_max_window_bits"], 10, "{lines:?}");
    let r = replies(&lines);
    assert!(r.iter().all(|&(_, _, ok)| ok), "{r:?}");
    // Each message on its own: the same payload compresses the same.
    assert!(r[0].0 && r[1].0, "{r:?}");
    assert_eq!(r[0].1, r[1].1, "{r:?}");
    assert_eq!(step(&lines, "echo")["ok"], true);
}

#[tokio::test]
async fn ws_stays_uncompressed_unless_the_server_enables_it() {
    let Some(lines) = ws_client(None, "{}").await else {
        return;
    };
    assert_eq!(step(&lines, "ext")["extensions"], "", "{lines:?}");
    let r = replies(&lines);
    assert!(r.iter().all(|&(rsv1, _, ok)| ok && !rsv1), "{r:?}");
    assert_eq!(step(&lines, "echo")["ok"], true);
}

#[tokio::test]
async fn socketio_client_on_node_both_transports() {
    let Some(_) = require_js_deps() else { return };
    let io = server(Some(PerMessageDeflate::default()));
    let port = serve(&io).await;
    for transport in ["websocket", "polling"] {
        let lines = exchange("compression/client.mjs", port, transport, Vec::new()).await;
        if transport == "websocket" {
            assert_eq!(
                step(&lines, "ext")["extensions"],
                "permessage-deflate",
                "{lines:?}"
            );
        }
    }
}

#[tokio::test]
async fn chromium_both_transports() {
    let Some(_) = require_js_deps() else { return };
    let Some(chromium) = require_chromium() else {
        return;
    };
    let io = server(Some(PerMessageDeflate::default()));
    let port = serve(&io).await;
    for transport in ["websocket", "polling"] {
        let env = vec![
            ("ROOMCAST_CHROMIUM", chromium.display().to_string()),
            (
                "CHROMIUM_ARGS",
                serde_json::to_string(CHROMIUM_ARGS).unwrap(),
            ),
        ];
        let lines = exchange("compression/browser.mjs", port, transport, env).await;
        if transport == "websocket" {
            let ext = step(&lines, "handshake")["extensions"]
                .as_str()
                .unwrap_or("");
            assert!(ext.starts_with("permessage-deflate"), "{lines:?}");
        } else {
            // The GET that carried the 20 000-character event was gzipped
            // (chromium accepts gzip, deflate, br, zstd); the one with the
            // compress(false) event was not.
            let polls = steps(&lines, "poll");
            assert!(
                polls
                    .iter()
                    .any(|p| p["encoding"] == "gzip" && p["vary"] == "Accept-Encoding"),
                "{lines:?}"
            );
            assert!(
                polls
                    .iter()
                    .any(|p| p["encoding"].is_null() && p["length"].as_u64() > Some(20_000)),
                "{lines:?}"
            );
        }
    }
}

/// Runs `script` (`client.mjs` or `browser.mjs`: `exchange.mjs` over
/// `transport`) against the server on `port`, `env` added; asserts that it
/// succeeded and that every event came back intact over that transport.
/// Returns its JSON lines.
async fn exchange(
    script: &str,
    port: u16,
    transport: &str,
    mut env: Vec<(&str, String)>,
) -> Vec<Value> {
    env.push(("PORT", port.to_string()));
    env.push(("TRANSPORT", transport.to_string()));
    let out = run_node_file(script, &env, Duration::from_secs(60)).await;
    out.assert_success();
    let lines = out.json_lines();
    let done = step(&lines, "done");
    for k in ["big", "plain", "echo"] {
        assert_eq!(done[k], true, "{transport} {k}: {lines:?}");
    }
    assert_eq!(done["transport"], transport);
    lines
}

/// A polling session on the main namespace; returns its sid.
async fn polling_session(addr: SocketAddr) -> String {
    let open = get(addr, "/socket.io/?EIO=4&transport=polling").await;
    let text = open.text();
    let open: Value = serde_json::from_str(&text[1..]).unwrap();
    let sid = open["sid"].as_str().unwrap().to_string();
    let url = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    assert_eq!(http(addr, "POST", &url, &[], b"40").await.status, 200);
    assert!(get(addr, &url).await.text().starts_with("40"));
    sid
}

/// POSTs `packet`, then GETs the answer with `accept` as Accept-Encoding.
async fn poll_answer(
    addr: SocketAddr,
    sid: &str,
    packet: &str,
    accept: Option<&str>,
) -> roomcast_testkit::HttpResponse {
    let url = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    assert_eq!(
        http(addr, "POST", &url, &[], packet.as_bytes())
            .await
            .status,
        200
    );
    let headers: Vec<(&str, &str)> = accept.map(|a| ("Accept-Encoding", a)).into_iter().collect();
    http(addr, "GET", &url, &headers, b"").await
}

#[tokio::test]
async fn polling_answers_are_compressed_per_accept_encoding() {
    let io = server(None);
    let port = serve(&io).await;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let sid = polling_session(addr).await;
    let expected = format!("42{}", serde_json::json!(["big", numbers(5000)]));

    let res = poll_answer(addr, &sid, r#"42["big",5000]"#, Some("gzip, deflate")).await;
    assert_eq!(res.header("content-encoding"), Some("gzip"));
    assert_eq!(res.header("vary"), Some("Accept-Encoding"));
    assert!(res.body.len() < 3000, "{}", res.body.len());
    let mut body = String::new();
    flate2::read::GzDecoder::new(&res.body[..])
        .read_to_string(&mut body)
        .unwrap();
    assert_eq!(body, expected);

    let res = poll_answer(addr, &sid, r#"42["big",5000]"#, Some("deflate")).await;
    assert_eq!(res.header("content-encoding"), Some("deflate"));
    let mut body = String::new();
    flate2::read::ZlibDecoder::new(&res.body[..])
        .read_to_string(&mut body)
        .unwrap();
    assert_eq!(body, expected);

    // No Accept-Encoding, or one with neither: as it is, Vary still set.
    for accept in [None, Some("br, identity")] {
        let res = poll_answer(addr, &sid, r#"42["big",5000]"#, accept).await;
        assert_eq!(res.header("content-encoding"), None, "{accept:?}");
        assert_eq!(res.header("vary"), Some("Accept-Encoding"));
        assert_eq!(res.text(), expected);
    }

    // Under the threshold, and compress(false): as it is.
    let res = poll_answer(addr, &sid, r#"42["big",500]"#, Some("gzip")).await;
    assert_eq!(res.header("content-encoding"), None);
    assert_eq!(res.header("vary"), None);
    let res = poll_answer(addr, &sid, r#"42["plain",5000]"#, Some("gzip")).await;
    assert_eq!(res.header("content-encoding"), None);
    assert_eq!(
        res.text(),
        format!("42{}", serde_json::json!(["plain", numbers(5000)]))
    );
}

#[tokio::test]
async fn polling_compression_can_be_turned_off() {
    let io = Server::builder().http_compression(None).build();
    io.on_connect(|socket: Socket| async move {
        socket.on("big", |s: Socket, n: usize, _: AckSender| async move {
            s.emit("big", &numbers(n)).unwrap();
        });
    });
    let port = serve(&io).await;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let sid = polling_session(addr).await;
    let res = poll_answer(addr, &sid, r#"42["big",5000]"#, Some("gzip")).await;
    assert_eq!(res.header("content-encoding"), None);
    assert_eq!(res.header("vary"), None);
    assert!(res.text().ends_with(&format!("{}\"]", numbers(5000))));
}
