//! The standalone server's request-head timeout (30 s, on tokio's paused
//! clock here): a connection that sends nothing, or part of a head, is
//! closed when it runs out, and so is a keep-alive connection idle after
//! its request; a long-polling `GET` whose head has arrived is held past
//! it.

mod common;

use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads until the server closes the connection (for 10 minutes at
/// most); returns what came and when the close did (on the paused clock).
async fn read_to_close(stream: &mut TcpStream) -> (Vec<u8>, Instant) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return Instant::now(),
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    match tokio::time::timeout(Duration::from_secs(600), read).await {
        Ok(closed) => (got, closed),
        Err(_) => panic!("not closed: {:?}", String::from_utf8_lossy(&got)),
    }
}

#[tokio::test(start_paused = true)]
async fn a_connection_that_sends_nothing_is_closed() {
    let server = TestServer::start_default().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let start = Instant::now();
    let (got, closed) = read_to_close(&mut stream).await;
    assert!(got.is_empty(), "{:?}", String::from_utf8_lossy(&got));
    let waited = closed - start;
    assert!(waited >= HEAD_TIMEOUT, "closed after {waited:?}");
    assert!(waited < HEAD_TIMEOUT * 2, "closed after {waited:?}");
}

#[tokio::test(start_paused = true)]
async fn a_head_that_never_ends_is_closed() {
    let server = TestServer::start_default().await;
    for head in [
        // A WebSocket handshake (the server's own reader).
        "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nUpgrade: websocket\r\n",
        // Anything else (hyper's).
        "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n",
    ] {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let start = Instant::now();
        stream.write_all(head.as_bytes()).await.unwrap();
        let (got, closed) = read_to_close(&mut stream).await;
        let waited = closed - start;
        assert!(waited >= HEAD_TIMEOUT, "{head:?}: closed after {waited:?}");
        // Bytes seen first only by the server's reader may cost hyper's
        // timeout again after its own; never more.
        assert!(
            waited <= HEAD_TIMEOUT * 2,
            "{head:?}: closed after {waited:?}"
        );
        assert!(
            got.is_empty() || got.starts_with(b"HTTP/1.1 408"),
            "{head:?}: {:?}",
            String::from_utf8_lossy(&got)
        );
    }
}

#[tokio::test(start_paused = true)]
async fn an_idle_keep_alive_connection_is_closed() {
    let server = TestServer::start_default().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /elsewhere HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 404"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    let answered = Instant::now();
    let (got, closed) = read_to_close(&mut stream).await;
    assert!(got.is_empty(), "{:?}", String::from_utf8_lossy(&got));
    let waited = closed - answered;
    assert!(waited >= HEAD_TIMEOUT, "closed after {waited:?}");
    assert!(waited < HEAD_TIMEOUT * 2, "closed after {waited:?}");
}

/// The timeout is for heads only: a `GET` held for 90 s (the ping
/// interval is longer) is answered when a packet comes.
#[cfg(feature = "polling")]
#[tokio::test(start_paused = true)]
async fn a_held_polling_get_outlives_it() {
    let server = TestServer::start(roomcast_engineio::EngineConfig {
        ping_interval: Duration::from_secs(300),
        ping_timeout: Duration::from_secs(60),
        ..Default::default()
    })
    .await;
    let (id, _) = polling_handshake(server.addr).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let head = format!("GET {} HTTP/1.1\r\nHost: x\r\n\r\n", polling(id));
    stream.write_all(head.as_bytes()).await.unwrap();
    let reading = tokio::spawn(async move {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.ends_with(b"4late") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        got
    });
    tokio::time::sleep(HEAD_TIMEOUT * 3).await;
    assert!(!reading.is_finished(), "the held GET ended early");
    server.socket(id).send(msg("late")).unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), reading)
        .await
        .expect("the held GET was not answered")
        .unwrap();
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("4late"), "{text}");
}
