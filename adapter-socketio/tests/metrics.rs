//! The Prometheus scrape (`metrics` feature): gauges read from the server
//! (sockets per namespace and transport, rooms, sessions) and the
//! process's counters moving with the traffic (events in and out, bytes,
//! broadcasts and deliveries, handshake errors by code).

#![cfg(feature = "metrics")]

mod common;

use common::{eventually, serve, Raw};
use roomcast_socketio::{metrics, AckSender, Server, Socket};

/// The value of the sample line starting with `series` (name and labels).
fn sample(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

#[tokio::test]
async fn the_scrape_counts_sockets_rooms_events_and_errors() {
    let io = Server::new();
    let io2 = io.clone();
    io.on_connect(move |socket: Socket| {
        let io = io2.clone();
        async move {
            socket.join(["lobby"]);
            socket.on("shout", move |_: Socket, text: String, _: AckSender| {
                let io = io.clone();
                async move {
                    io.to(["lobby"]).emit("shout", &text).ok();
                }
            });
        }
    });
    let addr = serve(&io).await;
    let before = metrics::render(&io);

    let (mut a, _) = Raw::connect(addr, "/").await;
    let (mut b, _) = Raw::connect(addr, "/").await;
    a.send("42[\"shout\",\"hi\"]").await;
    for c in [&mut a, &mut b] {
        assert_eq!(c.text().await, "42[\"shout\",\"hi\"]");
    }
    // An unknown session id: error code 1.
    let bad =
        roomcast_testkit::http::get(addr, "/socket.io/?EIO=4&transport=polling&sid=nope").await;
    assert_eq!(bad.status, 400);

    let io3 = io.clone();
    eventually("the sockets in the scrape", move || {
        sample(
            &metrics::render(&io3),
            "roomcast_sockets{namespace=\"/\",transport=\"websocket\"}",
        ) == 2
    })
    .await;
    let after = metrics::render(&io);
    let grew = |series: &str, by: u64| {
        let (was, now) = (sample(&before, series), sample(&after, series));
        assert!(now >= was + by, "{series}: {was} -> {now}\n{after}");
    };
    assert_eq!(
        sample(&after, "roomcast_rooms{namespace=\"/\"}"),
        3,
        "lobby and two own rooms"
    );
    assert_eq!(sample(&after, "roomcast_engine_sessions"), 2);
    grew("roomcast_events_received_total", 1);
    grew("roomcast_broadcasts_total", 1);
    grew("roomcast_broadcast_deliveries_total", 2);
    grew("roomcast_events_sent_total", 2);
    grew(
        "roomcast_bytes_received_total",
        "42[\"shout\",\"hi\"]".len() as u64,
    );
    grew(
        "roomcast_bytes_sent_total",
        2 * "42[\"shout\",\"hi\"]".len() as u64,
    );
    grew("roomcast_engine_sessions_opened_total", 2);
    grew("roomcast_handshake_errors_total{code=\"1\"}", 1);
    assert!(after.contains("# TYPE roomcast_sockets gauge"));
    assert!(after.contains("# TYPE roomcast_broadcasts_total counter"));
}
