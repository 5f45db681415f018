//! `polling`: `echo` over HTTP long-polling only (hyper client).
//!
//! Each client: `GET ?EIO=4&transport=polling` (the open packet and its
//! sid), `POST 40`, then two loops: a poller that keeps one `GET` waiting
//! and reads the packets of each answer (separated by `\x1e`), and a sender
//! that posts new events — as many as answers came back, all in one body —
//! so W events stay in flight; pings are answered with a `3` in the next
//! body. Besides CPU per event, it reports the HTTP requests made per
//! echoed event in the window (GETs and POSTs together): how well a server
//! batches packets into one answer.

use std::cell::Cell;
use std::io;
use std::rc::Rc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use tokio::sync::Notify;

use super::{Measured, Scenario, Setup, Tasks};
use crate::cli::{Common, EchoArgs};
use crate::client::{io_err, ok_body};
use crate::now_us;
use crate::proto::{self, Incoming};
use crate::report::Report;
use crate::stats::{Meter, Stats};

type Http = Client<HttpConnector, Full<Bytes>>;

/// The Engine.IO packet separator of polling payloads.
const SEPARATOR: char = '\u{1e}';

/// One long-polling session.
struct Session {
    http: Http,
    uri: String,
    /// HTTP requests made by every session of the run (shared).
    requests: Rc<Cell<u64>>,
}

impl Session {
    async fn request(&self, method: Method, uri: &str, body: String) -> io::Result<Bytes> {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "text/plain;charset=UTF-8")
            .body(Full::new(Bytes::from(body)))
            .map_err(io_err)?;
        self.requests.set(self.requests.get() + 1);
        let res = self.http.request(req).await.map_err(io_err)?;
        ok_body(res).await
    }

    /// Handshake and namespace connect.
    async fn open(http: Http, requests: Rc<Cell<u64>>, common: &Common) -> io::Result<Session> {
        let base = format!(
            "http://{}{}?EIO=4&transport=polling",
            common.addr, common.path
        );
        let mut session = Session {
            http,
            uri: base.clone(),
            requests,
        };
        let open = session.request(Method::GET, &base, String::new()).await?;
        let open = std::str::from_utf8(&open).map_err(io_err)?;
        let sid = open
            .split(SEPARATOR)
            .find_map(|p| match proto::parse(p) {
                Incoming::Open(json) => serde_json::from_str::<serde_json::Value>(json).ok(),
                _ => None,
            })
            .and_then(|v| v.get("sid").and_then(|s| s.as_str()).map(str::to_string))
            .ok_or_else(|| io_err(format!("no open packet in {open:?}")))?;
        session.uri = format!("{base}&sid={sid}");
        session.post(proto::CONNECT.to_string()).await?;
        loop {
            let body = session.get().await?;
            let body = std::str::from_utf8(&body).map_err(io_err)?;
            for p in body.split(SEPARATOR) {
                match proto::parse(p) {
                    Incoming::Connected => return Ok(session),
                    Incoming::Ping => session.post(proto::PONG.to_string()).await?,
                    Incoming::ConnectError(e) => return Err(io_err(format!("connect error: {e}"))),
                    Incoming::Close => return Err(io_err("closed during connect")),
                    _ => {}
                }
            }
        }
    }

    async fn get(&self) -> io::Result<Bytes> {
        self.request(Method::GET, &self.uri, String::new()).await
    }

    async fn post(&self, body: String) -> io::Result<()> {
        self.request(Method::POST, &self.uri, body).await.map(drop)
    }
}

/// What the poller tells the sender.
struct Flow {
    credits: Cell<usize>,
    pong: Cell<bool>,
    wake: Notify,
}

/// Runs the scenario.
pub async fn run(args: EchoArgs) -> io::Result<Report> {
    if args.common.raw {
        return Err(io::Error::other("polling has no raw mode"));
    }
    let case = format!("polling c={} w={}", args.connections, args.window);
    let scenario = Scenario::new("polling", "events", case, super::echo::params(&args));
    scenario
        .run(&args.common, |common, stats| async move {
            let mut connector = HttpConnector::new();
            connector.set_nodelay(true);
            let http: Http = Client::builder(TokioExecutor::new()).build(connector);
            let requests = Rc::new(Cell::new(0u64));
            let setup = Setup::new(common.setup_concurrency);
            let mut tasks = Tasks::default();
            for _ in 0..args.connections {
                let Some(session) = setup
                    .run(
                        &stats,
                        Session::open(http.clone(), requests.clone(), &common),
                    )
                    .await
                else {
                    continue;
                };
                let flow = Rc::new(Flow {
                    credits: Cell::new(args.window.max(1)),
                    pong: Cell::new(false),
                    wake: Notify::new(),
                });
                let session = Rc::new(session);
                tasks.spawn(poller(session.clone(), flow.clone(), stats.clone()));
                tasks.spawn(sender(session, flow, stats.clone(), args.payload_bytes));
            }
            let connections = setup.wait(args.connections).await?;
            // The window of `measure`, with the requests made in it counted.
            stats.phase.set("warmup");
            tokio::time::sleep(common.warmup()).await;
            let meter = Meter::start(&stats, common.server_pid);
            let before = requests.get();
            tokio::time::sleep(common.duration()).await;
            let window = meter.stop(&stats);
            let made = requests.get() - before;
            drop(tasks);
            let mut measured = Measured::new(window, connections);
            measured.params = json!({
                "requests": made,
                "requests_per_event": made as f64 / measured.window.ops.max(1) as f64,
            });
            Ok(measured)
        })
        .await
}

/// Keeps one GET waiting; counts the echoes of each answer as credits for
/// the sender, and notes pings.
async fn poller(s: Rc<Session>, f: Rc<Flow>, st: Rc<Stats>) {
    loop {
        let body = match s.get().await {
            Ok(b) => b,
            Err(e) => return st.fail("poll", e),
        };
        let Ok(body) = std::str::from_utf8(&body) else {
            return st.fail("poll", "invalid UTF-8");
        };
        for p in body.split(SEPARATOR) {
            match proto::parse(p) {
                Incoming::Ping => f.pong.set(true),
                Incoming::Event { name: "echo", rest } => {
                    if let Some([t]) = proto::leading_ints::<1>(rest) {
                        st.record(now_us().saturating_sub(t));
                        st.op();
                        f.credits.set(f.credits.get() + 1);
                    }
                }
                Incoming::Close => return st.fail("poll", "closed by the server"),
                _ => {}
            }
        }
        f.wake.notify_one();
    }
}

/// Posts as many new events as there are credits (and the pong owed), all
/// in one body.
async fn sender(s: Rc<Session>, f: Rc<Flow>, st: Rc<Stats>, padding: usize) {
    loop {
        while f.credits.get() == 0 && !f.pong.get() {
            f.wake.notified().await;
        }
        let mut body = String::new();
        if f.pong.replace(false) {
            body.push_str(proto::PONG);
        }
        for _ in 0..f.credits.replace(0) {
            if !body.is_empty() {
                body.push(SEPARATOR);
            }
            body.push_str(&proto::event("echo", None, &[now_us()], padding));
        }
        if let Err(e) = s.post(body).await {
            return st.fail("post", e);
        }
    }
}
