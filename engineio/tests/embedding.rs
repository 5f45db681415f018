//! Embedding the engine in a host server: `engine.service()` mounted with
//! axum 0.8's `route_service` beside a normal route (both answer, the
//! engine works over polling and WebSocket, including the upgrade), and
//! `engine.layer().wrap(host)` around a `tower::service_fn`, which sends the
//! engine's path to the engine and lets every other path fall through.

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use common::*;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use parking_lot::Mutex;
use roomcast_core::Frame;
use roomcast_engineio::{Engine, EngineConfig};

/// Serves an axum router with the engine at `/engine.io` (with and without
/// the trailing slash) beside `/health`.
async fn serve_axum(engine: &Engine) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let app = axum::Router::new()
        .route("/health", axum::routing::get(|| async { "healthy" }))
        .route_service("/engine.io/", engine.service())
        .route_service("/engine.io", engine.service());
    roomcast_testkit::spawn_server(|listener| async move {
        axum::serve(listener, app).await.unwrap();
    })
    .await
}

/// Serves `engine.layer().wrap(host)` with hyper, `host` answering
/// 200 "host" to everything.
async fn serve_layered(engine: &Engine) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let host = tower::service_fn(|_req: Request<Incoming>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"host"))))
    });
    let mounted = engine.layer().wrap(host);
    roomcast_testkit::spawn_server(|listener| async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let service = TowerToHyperService::new(mounted.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades()
                    .await;
            });
        }
    })
    .await
}

/// One session was opened through the host per compiled transport (by
/// [`engine_works_at`]).
fn assert_opened_through_host(log: &Mutex<Vec<Event>>) {
    let opens = log
        .lock()
        .iter()
        .filter(|e| matches!(e, Event::Open(_)))
        .count();
    let expected = usize::from(cfg!(feature = "polling")) + usize::from(cfg!(feature = "ws"));
    assert_eq!(opens, expected, "sessions opened through the host");
}

/// The engine answers at `addr` on the compiled transports (handshake,
/// message echo, upgrade when both are compiled).
async fn engine_works_at(addr: SocketAddr) {
    #[cfg(feature = "polling")]
    {
        let (id, open) = polling_handshake(addr).await;
        send(addr, id, &[Frame::text("4via host")]).await;
        assert_eq!(poll(addr, id).await, vec![Frame::text("4via host")]);
        // Without the trailing slash.
        let target = format!("/engine.io?EIO=4&transport=polling&sid={id}");
        assert_eq!(post(addr, &target, b"4again").await.text(), "ok");
        assert_eq!(get(addr, &target).await.text(), "4again");
        #[cfg(feature = "ws")]
        {
            assert_eq!(open["upgrades"], serde_json::json!(["websocket"]));
            let mut ws = upgrade(addr, id).await;
            ws_send_text(&mut ws, "4upgraded").await;
            assert_eq!(ws_recv_text(&mut ws).await, "4upgraded");
        }
        let _ = open;
    }
    #[cfg(feature = "ws")]
    {
        let (mut ws, _, _) = ws_handshake(addr).await;
        ws_send_binary(&mut ws, &[1, 2]).await;
        assert_eq!(ws_recv(&mut ws).await, Some(Frame::binary(vec![1, 2])));
    }
    // Engine errors come from the engine.
    get(addr, &eio("EIO=4&transport=carrier-pigeon"))
        .await
        .assert_error(400, 0, "Transport unknown");
}

#[tokio::test]
async fn engine_service_in_an_axum_router() {
    let (engine, _events, log) = recording_engine(EngineConfig::default());
    let (addr, task) = serve_axum(&engine).await;

    let res = get(addr, "/health").await;
    assert_eq!((res.status, res.text().as_str()), (200, "healthy"));
    engine_works_at(addr).await;
    let res = get(addr, "/elsewhere").await;
    assert_eq!(res.status, 404);
    assert_opened_through_host(&log);
    task.abort();
}

#[tokio::test]
async fn engine_layer_lets_other_paths_fall_through() {
    let (engine, _events, log) = recording_engine(EngineConfig::default());
    let (addr, task) = serve_layered(&engine).await;

    for path in ["/", "/index.html", "/engine.iox/?EIO=4", "/api/engine.io/"] {
        let res = get(addr, path).await;
        assert_eq!((res.status, res.text().as_str()), (200, "host"), "{path}");
    }
    let res = post(addr, "/submit", b"data").await;
    assert_eq!(res.text(), "host");
    engine_works_at(addr).await;
    assert_opened_through_host(&log);
    task.abort();
}

#[tokio::test]
async fn layer_at_a_custom_path() {
    let (engine, _events, _log) = recording_engine(EngineConfig {
        path: "/rt/".to_string(),
        ..EngineConfig::default()
    });
    let (addr, task) = serve_layered(&engine).await;
    // The default path now belongs to the host.
    let res = get(addr, &eio(&format!("EIO=4&transport={ANY_TRANSPORT}"))).await;
    assert_eq!(res.text(), "host");
    let res = get(addr, &format!("/rt?EIO=4&transport={ANY_TRANSPORT}&sid=x")).await;
    res.assert_error(400, 1, "Session ID unknown");
    task.abort();
}
