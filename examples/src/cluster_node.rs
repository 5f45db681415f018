//! One node of a cluster (`--bin cluster-node`): the contract of issue #12,
//! answered the same way by the Node reference server the tests run beside
//! it (`tests/js/cluster/cluster-node.mjs`), so mixed clusters can be tested.
//!
//! On namespace `/`:
//!
//! | event | does |
//! |---|---|
//! | `echo` args… | emits `echo` back with the same arguments |
//! | `echo-ack` args… | acks with the same arguments |
//! | `join` room | joins the room, acks `true` |
//! | `leave` room | leaves the room, acks `true` |
//! | `fanout` `{room, count, payload}` | emits `count` events `fanout` with `payload` to the room across the cluster, acks `true` |
//! | `room-size` room | acks the number of sockets in the room across the cluster |
//! | `ack-all` room | broadcasts `ask` `"who"` with acks (3 s) to the room across the cluster, acks the answers sorted |
//! | `servers` | acks 1 + the number of other servers answering a server-side `whoami` |
//! | `kick` room | disconnects every socket in the room across the cluster, acks `true` |
//!
//! Binary arguments travel unchanged (`echo`, `echo-ack`, and `fanout`
//! payloads).
//!
//! Extensions beyond the issue's contract, also in the Node server, for the
//! operations the contract does not reach: `fanout` also takes `except`
//! (rooms) and `local` (this node only); `sockets-join` `{room, join}` and
//! `sockets-leave` `{room, leave}` move the room's sockets across the
//! cluster; `set-data` value sets the socket's data; `room-data` room acks
//! the data of the room's sockets across the cluster (sorted by JSON text);
//! `remote-emit` `{room, event, payload}` emits to each fetched socket and
//! acks their number; the server-side event `tell` (event, args…) emits
//! `event` to this node's own clients, so a test can see a server-side emit
//! arrive.
//!
//! [`ClusterNodeConfig::from_env`] reads `REDIS_URL`, `KEY`, `ADAPTER`
//! (`redis`: joins the cluster with `roomcast-cluster-redis`, which speaks
//! the Node redis-adapter protocol; `streams`: its Redis Streams mode, which
//! speaks `@socket.io/redis-streams-adapter`'s and keeps recovery sessions
//! in Redis, `KEY` naming the stream, the channel prefix and the session
//! keys; `memory`: one node without Redis) and
//! `NAME`, `PARSER=msgpack` (the clients use `socket.io-msgpack-parser`)
//! and `RECOVERY=1` (connection state recovery on, with a
//! `max_disconnection_duration` of [`RECOVERY_MAX_DISCONNECTION`]);
//! [`server`] builds the node. "Across the cluster" is the server
//! API's cluster-wide operations: `to(room).emit`, `emit_with_ack` (local
//! and remote answers), `fetch_sockets` (every node's sockets),
//! `disconnect_sockets`, and `server_side_emit_with_ack` for `servers`.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use roomcast_cluster_redis::{RedisCluster, RedisClusterError, RedisStreamsCluster};
use roomcast_socketio::{
    AckSender, Args, Namespace, RawArgs, RecoveryConfig, Server, ServerEvent, Socket,
};
use serde::de::DeserializeOwned;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde::Deserialize;
use serde_json::Value;

use crate::echo;

/// How long `ack-all` waits for answers.
pub const ACK_ALL_TIMEOUT: Duration = Duration::from_secs(3);

/// How long `servers` waits for the other servers' `whoami` answers.
pub const SERVERS_TIMEOUT: Duration = Duration::from_secs(3);

/// How long a lost client's session is kept when `RECOVERY=1`.
pub const RECOVERY_MAX_DISCONNECTION: Duration = Duration::from_secs(30);

/// How the node reaches the other nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Adapter {
    /// Through Redis, speaking `@socket.io/redis-adapter`'s protocol.
    Redis,
    /// Through one Redis stream, speaking
    /// `@socket.io/redis-streams-adapter`'s protocol (recovery across nodes).
    Streams,
    /// Alone: no other node, no Redis.
    Memory,
}

/// What a cluster node needs to know.
///
/// ```
/// use roomcast_examples::cluster_node::{Adapter, ClusterNodeConfig};
/// let config = ClusterNodeConfig::new(Adapter::Memory, "a");
/// assert_eq!(config.key, "socket.io");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterNodeConfig {
    /// The Redis server (`redis://127.0.0.1:6379`).
    pub redis_url: String,
    /// The channels' key prefix, shared by the whole cluster (`socket.io`).
    pub key: String,
    /// Redis, Redis Streams or memory.
    pub adapter: Adapter,
    /// What this node answers to a server-side `whoami`.
    pub name: String,
    /// Connection state recovery on (`RECOVERY=1`).
    pub recovery: bool,
    /// How long a lost session is kept with recovery on
    /// ([`RECOVERY_MAX_DISCONNECTION`]; `RECOVERY_MAX_MS`, a test extension).
    pub recovery_max: Duration,
    /// The clients speak `socket.io-msgpack-parser` (`PARSER=msgpack`),
    /// not the default JSON (`PARSER=json`). The cluster's wire does not
    /// change.
    pub msgpack: bool,
}

impl ClusterNodeConfig {
    /// The defaults, with this adapter and name.
    pub fn new(adapter: Adapter, name: impl Into<String>) -> Self {
        ClusterNodeConfig {
            redis_url: "redis://127.0.0.1:6379".into(),
            key: "socket.io".into(),
            adapter,
            name: name.into(),
            recovery: false,
            recovery_max: RECOVERY_MAX_DISCONNECTION,
            msgpack: false,
        }
    }

    /// From `REDIS_URL`, `KEY`, `ADAPTER` (`redis`, `streams` or `memory`, default
    /// `redis`), `NAME` (default `rust-<port>`) and `RECOVERY` (`1` or
    /// `0`, default `0`) and `PARSER` (`json` or `msgpack`, default `json`).
    pub fn from_env(port: u16) -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let adapter = match var("ADAPTER").as_deref() {
            None | Some("redis") => Adapter::Redis,
            Some("streams") => Adapter::Streams,
            Some("memory") => Adapter::Memory,
            Some(other) => {
                return Err(format!(
                    "ADAPTER={other}: expected redis, streams or memory"
                ))
            }
        };
        let mut config = ClusterNodeConfig::new(
            adapter,
            var("NAME").unwrap_or_else(|| format!("rust-{port}")),
        );
        if let Some(url) = var("REDIS_URL") {
            config.redis_url = url;
        }
        if let Some(key) = var("KEY") {
            config.key = key;
        }
        config.recovery = match var("RECOVERY").as_deref() {
            None | Some("0") => false,
            Some("1") => true,
            Some(other) => return Err(format!("RECOVERY={other}: expected 1 or 0")),
        };
        if let Some(ms) = var("RECOVERY_MAX_MS") {
            let ms: u64 = ms
                .parse()
                .map_err(|_| format!("RECOVERY_MAX_MS={ms}: expected milliseconds"))?;
            config.recovery_max = Duration::from_millis(ms);
        }
        config.msgpack = match var("PARSER").as_deref() {
            None | Some("json") => false,
            Some("msgpack") => true,
            Some(other) => return Err(format!("PARSER={other}: expected json or msgpack")),
        };
        Ok(config)
    }
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Redis could not be reached.
    #[error("cannot join the cluster at {url}: {source}")]
    Redis {
        /// The `REDIS_URL`.
        url: String,
        /// What went wrong.
        source: RedisClusterError,
    },
}

/// A node: a server with the contract's handlers, joined to its cluster.
pub async fn server(config: &ClusterNodeConfig) -> Result<Server, StartError> {
    let mut builder = Server::builder();
    if config.msgpack {
        builder = builder.parser(roomcast_socketio::parser::MsgPackParser::new());
    }
    if config.recovery {
        builder = builder.recovery(RecoveryConfig {
            max_disconnection_duration: config.recovery_max,
            ..RecoveryConfig::default()
        });
    }
    let cannot_join = |source| StartError::Redis {
        url: config.redis_url.clone(),
        source,
    };
    let io = match config.adapter {
        Adapter::Memory => builder.build(),
        Adapter::Redis => {
            let cluster = RedisCluster::builder(config.redis_url.as_str())
                .key(config.key.as_str())
                .build()
                .await
                .map_err(cannot_join)?;
            builder.cluster(cluster).build()
        }
        Adapter::Streams => {
            let cluster = RedisStreamsCluster::builder(config.redis_url.as_str())
                .stream(config.key.as_str())
                .channel_prefix(config.key.as_str())
                .session_prefix(session_prefix(&config.key))
                .build()
                .await
                .map_err(cannot_join)?;
            builder.cluster(cluster).build()
        }
    };
    install(&io, &config.name);
    Ok(io)
}

/// The session key prefix for `KEY` in streams mode: Node's
/// `sio:session:` for the default key, `<KEY>:session:` otherwise (the Node
/// twin does the same).
pub fn session_prefix(key: &str) -> String {
    if key == "socket.io" {
        "sio:session:".into()
    } else {
        format!("{key}:session:")
    }
}

/// The `fanout` event's argument.
#[derive(Debug, Deserialize)]
struct Fanout {
    room: String,
    count: usize,
    payload: Value,
    #[serde(default)]
    except: Vec<String>,
    #[serde(default)]
    local: bool,
}

/// The `sockets-join` / `sockets-leave` events' argument.
#[derive(Debug, Deserialize)]
struct Move {
    room: String,
    /// The room joined (`join`) or left (`leave`).
    #[serde(alias = "join", alias = "leave")]
    other: String,
}

/// The `remote-emit` event's argument.
#[derive(Debug, Deserialize)]
struct RemoteEmit {
    room: String,
    event: String,
    payload: Value,
}

/// Registers the contract's handlers on `/`; `name` is this node's answer
/// to `whoami`.
pub fn install(io: &Server, name: &str) {
    let name = name.to_string();
    io.on_server_event("whoami", move |event: ServerEvent| {
        event.ack(&name).ok();
        async {}
    });
    let main = io.main();
    io.on_server_event("tell", move |event: ServerEvent| {
        match event.args().split_first() {
            Some((Value::String(name), args)) => {
                main.local().emit(name, &Args(args.to_vec())).ok();
            }
            _ => tracing::debug!("tell without an event name"),
        }
        async {}
    });
    io.on_connect(|socket: Socket| async move { handlers(&socket) });
}

fn handlers(socket: &Socket) {
    echo::emit_back(socket, "echo", "echo");
    echo::ack_back(socket, "echo-ack");
    socket.on(
        "join",
        |socket: Socket, room: String, ack: AckSender| async move {
            socket.join([room]);
            ack.send(&true).ok();
        },
    );
    socket.on(
        "leave",
        |socket: Socket, room: String, ack: AckSender| async move {
            socket.leave([room]);
            ack.send(&true).ok();
        },
    );
    socket.on_raw(
        "fanout",
        |socket: Socket, args: RawArgs, ack: AckSender| async move {
            let (args, bins) = args.into_parts();
            let Some(Ok(fanout)) = args.first().cloned().map(serde_json::from_value::<Fanout>)
            else {
                tracing::debug!("fanout without {{room, count, payload}}");
                return;
            };
            let payload = WithAttachments {
                value: &fanout.payload,
                attachments: &bins,
            };
            let mut to = socket.ns().to([fanout.room.as_str()]).except(fanout.except);
            if fanout.local {
                to = to.local();
            }
            for _ in 0..fanout.count {
                to.emit("fanout", &payload).ok();
            }
            ack.send(&true).ok();
        },
    );
    answer(socket, "room-size", |io, room: String| async move {
        io.to([room]).fetch_sockets().await.len()
    });
    answer(socket, "ack-all", |io, room: String| async move {
        let answers = io
            .to([room])
            .timeout(ACK_ALL_TIMEOUT)
            .emit_with_ack::<_, String>("ask", "who")
            .await;
        let mut answers: Vec<String> = match answers {
            Ok(acks) => {
                if acks.missing_remote > 0 || !acks.timed_out.is_empty() {
                    tracing::debug!(
                        local = acks.timed_out.len(),
                        remote = acks.missing_remote,
                        "ack-all: answers missing"
                    );
                }
                let local = acks.responses.into_iter().map(|(_, answer)| answer);
                local.chain(acks.remote).collect()
            }
            Err(e) => {
                tracing::warn!(error = %e, "ack-all failed");
                Vec::new()
            }
        };
        answers.sort();
        answers
    });
    answer(socket, "servers", |io, (): ()| async move {
        // Alone (ADAPTER=memory) no server is asked and none answers.
        let others = match io
            .server_side_emit_with_ack::<_, String>("whoami", &(), SERVERS_TIMEOUT)
            .await
        {
            Ok(acks) => acks.responses.len(),
            Err(e) => {
                tracing::warn!(error = %e, "whoami not sent");
                0
            }
        };
        1 + others
    });
    answer(socket, "sockets-join", |io, m: Move| async move {
        io.to([m.room]).sockets_join([m.other]);
        true
    });
    answer(socket, "sockets-leave", |io, m: Move| async move {
        io.to([m.room]).sockets_leave([m.other]);
        true
    });
    socket.on(
        "set-data",
        |socket: Socket, value: Value, ack: AckSender| async move {
            socket.set_data(&value).ok();
            ack.send(&true).ok();
        },
    );
    answer(socket, "room-data", |io, room: String| async move {
        let sockets = io.to([room]).fetch_sockets().await;
        let mut data: Vec<Value> = sockets.iter().map(|s| s.data_json().clone()).collect();
        data.sort_by_cached_key(|v| v.to_string());
        data
    });
    answer(socket, "remote-emit", |io, e: RemoteEmit| async move {
        let sockets = io.to([e.room]).fetch_sockets().await;
        for socket in &sockets {
            socket.emit(&e.event, &e.payload).ok();
        }
        sockets.len()
    });
    answer(socket, "kick", |io, room: String| async move {
        io.to([room]).disconnect_sockets();
        true
    });
}

/// Handles `event` with `answer(namespace, argument)` and acks what it
/// returns.
fn answer<T, R, F, Fut>(socket: &Socket, event: &'static str, answer: F)
where
    T: DeserializeOwned + Send + 'static,
    R: Serialize,
    F: Fn(Namespace, T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
{
    socket.on(event, move |socket: Socket, arg: T, ack: AckSender| {
        let answered = answer(socket.ns().clone(), arg);
        async move {
            ack.send(&answered.await).ok();
        }
    });
}

/// A JSON value whose binary placeholders (`{"_placeholder":true,"num":N}`)
/// serialize as the bytes of attachment `N`, so an event's binary arguments
/// can be sent on unchanged.
struct WithAttachments<'a> {
    value: &'a Value,
    attachments: &'a [Bytes],
}

impl WithAttachments<'_> {
    fn placeholder(&self) -> Option<&Bytes> {
        let map = self.value.as_object()?;
        if map.len() != 2 || map.get("_placeholder") != Some(&Value::Bool(true)) {
            return None;
        }
        let num = usize::try_from(map.get("num")?.as_u64()?).ok()?;
        self.attachments.get(num)
    }

    fn child<'b>(&'b self, value: &'b Value) -> WithAttachments<'b> {
        WithAttachments {
            value,
            attachments: self.attachments,
        }
    }
}

impl Serialize for WithAttachments<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Some(bytes) = self.placeholder() {
            return serializer.serialize_bytes(bytes);
        }
        match self.value {
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&self.child(item))?;
                }
                seq.end()
            }
            Value::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, &self.child(v))?;
                }
                map.end()
            }
            other => other.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use roomcast_socketio::parser::encode_event;

    #[test]
    fn placeholders_become_attachments_again() {
        let value = serde_json::json!({"a": [1, {"_placeholder": true, "num": 0}], "b": "x"});
        let attachments = [Bytes::from_static(&[1, 2, 3])];
        let payload = WithAttachments {
            value: &value,
            attachments: &attachments,
        };
        let message = encode_event("/", "fanout", &payload, None).unwrap();
        let frames = message.frames();
        assert_eq!(
            frames[0],
            roomcast_core::Frame::text(
                r#"451-["fanout",{"a":[1,{"_placeholder":true,"num":0}],"b":"x"}]"#
            )
        );
        assert_eq!(frames[1], roomcast_core::Frame::binary(vec![1, 2, 3]));
    }

    #[test]
    fn a_placeholder_without_its_attachment_stays_an_object() {
        let value = serde_json::json!({"_placeholder": true, "num": 4});
        let payload = WithAttachments {
            value: &value,
            attachments: &[],
        };
        assert_eq!(
            serde_json::to_value(&payload).unwrap(),
            serde_json::json!({"_placeholder": true, "num": 4})
        );
    }
}
