//! Engine events with the real npm `socket.io-client` 4.8.4
//! (`tests/js/socketio/engine-events.mjs`): a handshake refused by
//! `allow_request` reaches `on_connection_error` with code 4 on polling and
//! on websocket, and the client gets its `connect_error`; the
//! `initial_headers` cookie reaches the client's cookie jar on the
//! handshake and comes back on every later request, the upgrade's
//! WebSocket included; the `headers` cookie is renewed on later answers;
//! `socket.conn().on_upgrade` fires once when the client upgrades (a held
//! upgrade started by hand, then the default client's own).

mod socketio_common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use roomcast_socketio::{AckSender, Server, Socket};
use roomcast_testkit::js::require_js_deps;
use serde_json::json;
use socketio_common::{node_ok, serve, steps, Log};

#[tokio::test]
async fn connection_error_headers_and_upgrade_with_the_real_client() {
    if require_js_deps().is_none() {
        return;
    }
    let refused: Log<(u8, String)> = Log::default();
    let cookies: Log<(String, String, Option<String>)> = Log::default();
    let answers = Arc::new(AtomicUsize::new(0));
    let (r, c, n) = (refused.clone(), cookies.clone(), answers.clone());
    let io = Server::builder()
        .engine(|e| {
            e.allow_request = Some(roomcast_socketio::engineio::allow_request(|req| match req
                .query("token")
                .as_deref()
            {
                Some("bad") => Err("bad token".into()),
                _ => Ok(()),
            }))
        })
        .on_connection_error(move |err| r.push((err.code as u8, err.message.to_string())))
        .initial_headers(|h, _req, sid| {
            h.insert("set-cookie", format!("io={sid}; Path=/").parse().unwrap());
        })
        .headers(move |h, req, sid| {
            let cookie = req
                .headers
                .get("cookie")
                .map(|v| v.to_str().unwrap().to_string());
            c.push((sid.to_string(), req.uri.to_string(), cookie));
            let i = n.fetch_add(1, Ordering::Relaxed);
            h.append("set-cookie", format!("seen={i}; Path=/").parse().unwrap());
        })
        .build();
    let upgrades: Log<&'static str> = Log::default();
    let u = upgrades.clone();
    io.on_connect(move |socket: Socket| {
        let (u, mine, listener) = (u.clone(), Log::default(), Log::default());
        let both = (u.clone(), listener.clone());
        socket.conn().on_upgrade(move |t| {
            both.0.push(t.as_str());
            both.1.push(t.as_str());
        });
        // Read after the listener is in: on polling now, the upgrade is
        // still to come, so the listener must hear it.
        mine.push(socket.transport().as_str());
        socket.on("report", move |s: Socket, (): (), ack: AckSender| {
            let report = json!({
                "upgrades": listener.all(),
                "transport": s.transport().as_str(),
                "registered_on": mine.all()[0],
            });
            ack.send(&report).unwrap();
            async {}
        });
        async {}
    });
    let port = serve(&io).await;
    let lines = node_ok("engine-events.mjs", port, &[], Duration::from_secs(30)).await;

    let refusals = steps(&lines, "refused");
    assert_eq!(refusals.len(), 2);
    // The client does not read the answer's body: its `connect_error`
    // names the transport that failed.
    assert_eq!(refusals[0]["message"], "xhr poll error");
    assert_eq!(refusals[1]["message"], "websocket error");
    assert_eq!(
        refused.all(),
        vec![(4, "Forbidden".to_string()), (4, "Forbidden".to_string())]
    );

    let done = steps(&lines, "upgraded")[0];
    let sid = done["sid"].as_str().unwrap();
    assert_eq!(done["opened"], "polling");
    assert_eq!(done["jar"]["io"], sid, "{done}");
    assert_eq!(
        done["report"],
        json!({ "upgrades": ["websocket"], "transport": "websocket", "registered_on": "polling" })
    );
    // The first answer had `seen=0`; later answers renewed it.
    let last_seen: usize = done["jar"]["seen"].as_str().unwrap().parse().unwrap();
    assert!(last_seen >= 1, "{done}");
    // Every request of the session after the handshake carried the cookie,
    // the WebSocket upgrade's included.
    let seen: Vec<_> = cookies
        .all()
        .into_iter()
        .filter(|(id, _, _)| id == sid)
        .map(|(_, uri, cookie)| (uri, cookie))
        .collect();
    let (first, later) = seen.split_first().expect("requests");
    assert!(!first.0.contains("sid="), "{first:?}");
    assert!(first.1.is_none(), "{first:?}");
    assert!(later
        .iter()
        .any(|(uri, _)| uri.contains("transport=websocket")));
    for (uri, cookie) in later {
        let cookie = cookie.as_deref().unwrap_or_default();
        assert!(cookie.contains(&format!("io={sid}")), "{uri}: {cookie}");
    }

    // The default client upgrades by itself, maybe before the connect
    // handler ran: once if the listener came first, else never.
    let report = &steps(&lines, "default")[0]["report"];
    eprintln!("default client: {report}");
    assert_eq!(report["transport"], "websocket");
    let expected = if report["registered_on"] == "polling" {
        json!(["websocket"])
    } else {
        json!([])
    };
    assert_eq!(report["upgrades"], expected, "{report}");
    assert!(upgrades.all().len() <= 2);
}
