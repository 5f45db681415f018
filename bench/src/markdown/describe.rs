//! The sentence above each case's table: what it measures.

use crate::report::Report;

/// A sentence on what a case measures.
pub(super) fn describe(r: &Report) -> String {
    let p = |k: &str| r.params.get(k).map(|v| v.to_string()).unwrap_or_default();
    match r.scenario.as_str() {
        "echo" => format!(
            "{} WebSocket connections, each keeping {} `{}` events ({}-byte padding) in flight; \
             the server sends each back. Latency: round trip.",
            p("connections"),
            p("window"),
            p("event").trim_matches('"'),
            p("payload_bytes")
        ),
        "fanout" => format!(
            "{} subscribers in one room; closed loop: a trigger asks for a batch of {} `fanout` \
             events and waits until every subscriber has all of them. Latency: from the trigger's \
             send to each delivery.",
            p("subscribers"),
            p("batch")
        ),
        "fanout-latency" => format!(
            "{} subscribers in one room; open loop: {} single-event broadcasts per second. \
             Latency: from the trigger's send to each delivery.",
            p("subscribers"),
            p("rate")
        ),
        "connect" if r.params.get("upgrade").and_then(|v| v.as_bool()) == Some(true) => format!(
            "New connections, {} in flight, as the default socket.io-client makes them: the \
             Engine.IO handshake over long-polling (fresh HTTP/1 connection), Socket.IO CONNECT \
             over polling, the WebSocket probe (`2probe`/`3probe`) and the upgrade (`5`); then \
             closed. Latency: that whole set-up.",
            p("inflight")
        ),
        "connect" => format!(
            "New connections, {} in flight: TCP connect, WebSocket upgrade, Engine.IO open, \
             Socket.IO CONNECT and its reply (ceiling: the same frames, an open-sized one with \
             the 101, none parsed); then closed. Latency: that whole set-up.",
            p("inflight")
        ),
        "reconnect-storm" => format!(
            "{} connected clients; the server is stopped and started again on the same port, and \
             every client reconnects with socket.io-client's default backoff (1 s, 2 s, 4 s, \
             capped at 5 s, ±50 %){}, from {} loopback source addresses. The window ends when \
             every client is connected at once. Operations: reconnections; latency: from a \
             client's disconnect to its reconnection; server CPU: the new process's, per \
             reconnection. Handshake errors: failed attempts that reached the server (timeout, \
             HTTP status, reset, unexpected packet); refused and the generator's own (EMFILE, no \
             source port) are counted apart.",
            p("connections"),
            if r.params.get("ws_only").and_then(|v| v.as_bool()) == Some(true) {
                " over WebSocket only"
            } else {
                " along the default client's path (polling handshake and CONNECT, probe, upgrade)"
            },
            match r.params.get("sources").and_then(|v| v.as_u64()) {
                Some(0) | None => "1".to_string(),
                Some(n) => n.to_string(),
            }
        ),
        "recovery" => format!(
            "{} subscribers in one room, {} single-event broadcasts per second; every second {} \
             of the subscribers (round robin) have their TCP connection reset and reconnect {} ms \
             later with the `pid` and last offset they were given (`40{{\"pid\",\"offset\"}}`), \
             joining the room again when the session is fresh. Each subscriber counts every \
             broadcast once; lost = expected (broadcasts × subscribers) − distinct deliveries, \
             counted once every subscriber is back. The label says whether the server had \
             connection state recovery on. Latency: from the trigger's send to the first \
             delivery (replays included).",
            p("subscribers"),
            p("rate"),
            r.params
                .get("churn_per_s")
                .and_then(|v| v.as_f64())
                .map_or(String::new(), |c| format!("{} %", c * 100.0)),
            p("reconnect_delay_ms")
        ),
        "idle" => format!(
            "{} connected clients that only answer pings: the server's RSS before and after \
             (`VmRSS`). CPU and latency: the set-up of those connections.",
            p("connections")
        ),
        "cluster-fanout" => format!(
            "Two servers of the same kind joined through Redis (Node: `@socket.io/redis-adapter` \
             8.3; roomcast: `roomcast-cluster-redis`, the same protocol), both on CPU 0, Redis \
             beside the generator on CPU 1; {} subscribers in one room on each; closed loop: a \
             trigger on the first node asks for a batch of {} `fanout` events to the room across \
             the cluster and waits until every subscriber of both nodes has all of them. Server \
             CPU: both nodes over every delivery. Latency: from the trigger's send to each \
             delivery.",
            p("subscribers_per_node"),
            p("batch")
        ),
        "polling" => format!(
            "`echo` over HTTP long-polling only: {} clients, {} events in flight each.",
            p("connections"),
            p("window")
        ),
        _ => String::new(),
    }
}
