//! `serve_client` (Node's `serveClient`): the npm socket.io-client builds
//! under `/socket.io/`, with the package version as ETag, 304 for a
//! matching `If-None-Match` (strong or weak), the reference server's
//! content types, HEAD without a body; other names stay the engine's.

mod common;

use roomcast_socketio::Server;
use roomcast_testkit::http::{parse_response, raw_exchange};
use roomcast_testkit::js::require_js_deps;

async fn get(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    extra: &str,
) -> roomcast_testkit::http::HttpResponse {
    let request =
        format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{extra}\r\n");
    parse_response(&raw_exchange(addr, request.as_bytes()).await)
}

fn header<'a>(res: &'a roomcast_testkit::http::HttpResponse, name: &str) -> Option<&'a str> {
    res.headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn client_builds_with_etag_and_304() {
    let Some(js) = require_js_deps() else { return };
    let package = js.join("node_modules/socket.io-client");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(package.join("package.json")).unwrap()).unwrap();
    let etag = format!("\"{}\"", manifest["version"].as_str().unwrap());
    let io = Server::builder()
        .serve_client(package.join("dist"))
        .unwrap()
        .build();
    let addr = common::serve(&io).await;

    for (name, content_type) in [
        ("socket.io.js", "application/javascript; charset=utf-8"),
        ("socket.io.min.js", "application/javascript; charset=utf-8"),
        (
            "socket.io.esm.min.js",
            "application/javascript; charset=utf-8",
        ),
        ("socket.io.min.js.map", "application/json; charset=utf-8"),
    ] {
        let res = get(addr, "GET", &format!("/socket.io/{name}"), "").await;
        assert_eq!(res.status, 200, "{name}");
        assert_eq!(header(&res, "content-type"), Some(content_type), "{name}");
        assert_eq!(header(&res, "etag"), Some(etag.as_str()), "{name}");
        assert_eq!(header(&res, "cache-control"), Some("public, max-age=0"));
        let on_disk = std::fs::read(package.join("dist").join(name)).unwrap();
        assert_eq!(res.body, on_disk, "{name}");
    }
    for sent in [etag.clone(), format!("W/{etag}")] {
        let res = get(
            addr,
            "GET",
            "/socket.io/socket.io.js",
            &format!("If-None-Match: {sent}\r\n"),
        )
        .await;
        assert_eq!(res.status, 304, "{sent}");
        assert!(res.body.is_empty());
    }
    let res = get(
        addr,
        "GET",
        "/socket.io/socket.io.js",
        "If-None-Match: \"0.0.0\"\r\n",
    )
    .await;
    assert_eq!(res.status, 200);
    let res = get(addr, "HEAD", "/socket.io/socket.io.min.js", "").await;
    assert_eq!((res.status, res.body.len()), (200, 0));
    // Not a client file: still 404, and the engine still answers its path.
    assert_eq!(
        get(addr, "GET", "/socket.io/other.js", "").await.status,
        404
    );
    let res = get(addr, "GET", "/socket.io/?EIO=4&transport=polling", "").await;
    assert_eq!(res.status, 200);
    assert!(res.body.starts_with(b"0{"));
}

#[test]
fn a_directory_without_builds_is_an_error() {
    match Server::builder().serve_client("/nonexistent") {
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::NotFound),
        Ok(_) => panic!("a directory without builds was accepted"),
    }
}
