//! Test helpers: a Redis server of the test's own (on a free loopback port,
//! restartable) and roomcast nodes on it; the raw Socket.IO client and the
//! deadlines are `roomcast_testkit`'s.
//!
//! `redis-server` must be installed. Without it a test is skipped with a
//! message, except under `CI=true`, where it fails.

#![allow(dead_code, unused_imports)]

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use roomcast_cluster_redis::RedisCluster;
use roomcast_socketio::{AckSender, Server, Socket};

pub use roomcast_testkit::{eventually, within, Raw};

/// A `redis-server` process on 127.0.0.1, killed on drop.
pub struct RedisProcess {
    pub port: u16,
    child: Option<Child>,
}

fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

impl RedisProcess {
    /// Starts one, or `None` (skip) when redis-server is missing outside CI.
    pub async fn start() -> Option<RedisProcess> {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut r = RedisProcess { port, child: None };
        if !r.spawn().await {
            assert!(!is_ci(), "redis-server is required under CI=true");
            eprintln!("skipped: redis-server not installed");
            return None;
        }
        Some(r)
    }

    async fn spawn(&mut self) -> bool {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = child else { return false };
        self.child = Some(child);
        within("redis-server to listen", async {
            while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_err()
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        true
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (connections drop at once).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port.
    pub async fn restart(&mut self) {
        self.stop();
        assert!(self.spawn().await, "redis-server restarts");
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A node on `url`: a quick heartbeat so liveness shows within a test.
pub async fn cluster(url: &str) -> Arc<RedisCluster> {
    RedisCluster::builder(url)
        .key("test")
        .heartbeat_interval(Duration::from_millis(100))
        .requests_timeout(Duration::from_secs(3))
        .build()
        .await
        .expect("cluster node")
}

/// Serves `io` on a fresh local port; returns its address.
pub async fn serve(io: &Server) -> SocketAddr {
    let io = io.clone();
    roomcast_testkit::spawn_server(|l| async move { io.serve(l).await })
        .await
        .0
}

/// A server on that node: sockets join rooms with `join` (ack `[]`) and
/// carry their server's name as data.
pub fn server(cluster: Arc<RedisCluster>, name: &'static str) -> Server {
    let io = Server::builder().cluster(cluster).build();
    io.on_connect(move |socket: Socket| async move {
        socket
            .set_data(&serde_json::json!({ "node": name }))
            .unwrap();
        socket.on(
            "join",
            |socket: Socket, room: String, ack: AckSender| async move {
                socket.join([room.as_str()]);
                ack.send(&()).ok();
            },
        );
    });
    io
}

/// A raw client at `addr`, in `room`.
pub async fn joined(addr: SocketAddr, room: &str) -> (Raw, String) {
    let (mut raw, sid) = Raw::connect(addr, "/").await;
    raw.send(&format!("421[\"join\",\"{room}\"]")).await;
    assert_eq!(raw.text().await, "431[]");
    (raw, sid)
}

/// Publishes `payload` on `channel` of the Redis at `url`, as another node would.
pub async fn publish(url: &str, channel: &str, payload: &[u8]) {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: i64 = redis::cmd("PUBLISH")
        .arg(channel)
        .arg(payload)
        .query_async(&mut conn)
        .await
        .unwrap();
}
