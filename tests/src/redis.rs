//! The Redis the cluster tests share (127.0.0.1:6379, or `$ROOMCAST_REDIS`
//! as `host:port`), reached with a minimal RESP2 client: enough to check it
//! is up and to count a channel's subscribers.
//!
//! Tests gate themselves with `let Some(redis) = require_redis().await else
//! { return };`: outside CI a missing Redis prints a loud SKIP line; with
//! `CI=true` it panics. Start it with `bash scripts/setup-test-deps.sh`.

use std::io::Write;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use roomcast_testkit::js::is_ci;

/// A reply, as RESP2 has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`
    Status(String),
    /// `-ERR …`
    Error(String),
    /// `:1`
    Integer(i64),
    /// `$…` (`None`: the null bulk string)
    Bulk(Option<Vec<u8>>),
    /// `*…` (`None`: the null array)
    Array(Option<Vec<Reply>>),
}

/// Where the test Redis listens.
#[derive(Debug, Clone)]
pub struct Redis {
    /// `host:port`
    pub addr: String,
}

impl Redis {
    /// `redis://host:port`, for the servers' `REDIS_URL`.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Runs one command on a fresh connection.
    pub async fn command(&self, args: &[&str]) -> std::io::Result<Reply> {
        let stream = tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(&self.addr))
            .await
            .map_err(|_| std::io::Error::other("connect timed out"))??;
        let mut stream = BufReader::new(stream);
        let mut request = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            request.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            request.extend_from_slice(arg.as_bytes());
            request.extend_from_slice(b"\r\n");
        }
        stream.get_mut().write_all(&request).await?;
        tokio::time::timeout(Duration::from_secs(5), read_reply(&mut stream))
            .await
            .map_err(|_| std::io::Error::other("reply timed out"))?
    }

    /// How many connections subscribe to `channel` (`PUBSUB NUMSUB`).
    pub async fn subscribers(&self, channel: &str) -> std::io::Result<i64> {
        match self.command(&["PUBSUB", "NUMSUB", channel]).await? {
            Reply::Array(Some(items)) => match items.get(1) {
                Some(Reply::Integer(n)) => Ok(*n),
                other => Err(std::io::Error::other(format!("NUMSUB: {other:?}"))),
            },
            other => Err(std::io::Error::other(format!("NUMSUB: {other:?}"))),
        }
    }
}

fn invalid(what: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.into())
}

async fn read_line(stream: &mut BufReader<TcpStream>) -> std::io::Result<String> {
    let mut line = String::new();
    if stream.read_line(&mut line).await? == 0 {
        return Err(invalid("connection closed"));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn read_reply(
    stream: &mut BufReader<TcpStream>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<Reply>> + Send + '_>> {
    Box::pin(async move {
        let line = read_line(stream).await?;
        let (kind, rest) = line.split_at(line.len().min(1));
        let number = || {
            rest.parse::<i64>()
                .map_err(|_| invalid(format!("bad length {line:?}")))
        };
        Ok(match kind {
            "+" => Reply::Status(rest.to_string()),
            "-" => Reply::Error(rest.to_string()),
            ":" => Reply::Integer(number()?),
            "$" => match usize::try_from(number()?) {
                Err(_) => Reply::Bulk(None),
                Ok(len) => {
                    let mut buf = vec![0; len + 2];
                    stream.read_exact(&mut buf).await?;
                    buf.truncate(len);
                    Reply::Bulk(Some(buf))
                }
            },
            "*" => match usize::try_from(number()?) {
                Err(_) => Reply::Array(None),
                Ok(len) => {
                    let mut items = Vec::with_capacity(len);
                    for _ in 0..len {
                        items.push(read_reply(stream).await?);
                    }
                    Reply::Array(Some(items))
                }
            },
            _ => return Err(invalid(format!("unexpected reply {line:?}"))),
        })
    })
}

/// The test Redis if it answers `PING`; otherwise `None` with a SKIP line,
/// or a panic under `CI=true`.
pub async fn require_redis() -> Option<Redis> {
    let addr = std::env::var("ROOMCAST_REDIS")
        .ok()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "127.0.0.1:6379".to_string());
    let redis = Redis { addr };
    let detail = match redis.command(&["PING"]).await {
        Ok(Reply::Status(s)) if s == "PONG" => return Some(redis),
        Ok(other) => format!("PING answered {other:?}"),
        Err(e) => e.to_string(),
    };
    let detail = format!(
        "no Redis at {} ({detail}); start it with scripts/setup-test-deps.sh",
        redis.addr
    );
    if is_ci() {
        panic!("Redis is required for cluster tests under CI=true: {detail}");
    }
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIP: {detail}; cluster test skipped (fails under CI=true) ***\n"
    );
    None
}

/// A key prefix no other test (or run) uses, so clusters don't mix.
pub fn unique_key(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("roomcast-test:{test}:{}:{nanos}", std::process::id())
}

/// A `redis-server` of the test's own on a free loopback port (for tests
/// that stop or restart it), killed on drop.
pub struct OwnRedis {
    /// Where it listens.
    pub redis: Redis,
    port: u16,
    child: Option<std::process::Child>,
}

impl OwnRedis {
    /// Starts one; `None` with a SKIP line when `redis-server` is missing
    /// outside CI (a panic under `CI=true`).
    pub async fn start() -> Option<OwnRedis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut r = OwnRedis {
            redis: Redis {
                addr: format!("127.0.0.1:{port}"),
            },
            port,
            child: None,
        };
        if !r.spawn().await {
            assert!(!is_ci(), "redis-server is required under CI=true");
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIP: redis-server not installed ***\n"
            );
            return None;
        }
        Some(r)
    }

    async fn spawn(&mut self) -> bool {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        let Ok(child) = child else { return false };
        self.child = Some(child);
        for _ in 0..500 {
            if TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("redis-server did not listen on {}", self.port);
    }

    /// Whether it accepts connections now.
    pub async fn is_up(&self) -> bool {
        TcpStream::connect(("127.0.0.1", self.port)).await.is_ok()
    }

    /// Starts it again (after it stopped or was shut down), empty.
    pub async fn restart(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        assert!(self.spawn().await, "redis-server restarts");
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
