//! Sockets as the UI shows them (Node's `serialize`): id, the first 12
//! characters of the Engine.IO id, transport, namespace, data, handshake
//! (address, headers, query, issued, secure, time, url, xdomain; never the
//! auth payload) and rooms.

use serde_json::{json, Map, Value};

use super::clock;
use crate::{RemoteSocket, Server, Socket};

/// The socket's data without Node's `_admin` bookkeeping; `{}` when none.
pub(super) fn data(value: &Value) -> Value {
    match value {
        Value::Null => Value::Object(Map::new()),
        Value::Object(map) => {
            let mut map = map.clone();
            map.remove("_admin");
            Value::Object(map)
        }
        other => other.clone(),
    }
}

fn handshake(socket: &Socket) -> Value {
    let h = socket.handshake();
    let header = |name: &str| {
        h.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let address = header("cf-connecting-ip")
        .or_else(|| header("x-forwarded-for"))
        .or_else(|| h.address().map(|a| a.ip().to_string()))
        .unwrap_or_default();
    let headers: Map<String, Value> = h
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.to_string(), Value::from(v.to_str().ok()?))))
        .collect();
    let query: Map<String, Value> = h
        .query_pairs()
        .into_iter()
        .map(|(k, v)| (k, Value::from(v)))
        .collect();
    json!({
        "address": address,
        "headers": headers,
        "query": query,
        "issued": clock::millis(h.time()),
        "secure": false,
        "time": clock::js_string(h.time()),
        "url": h.url(),
        "xdomain": h.headers().contains_key(http::header::ORIGIN),
    })
}

/// A socket of this server.
pub(super) fn local(socket: &Socket) -> Value {
    let conn = socket.conn().id();
    let client_id: String = conn.as_str().chars().take(12).collect();
    json!({
        "id": socket.id().as_str(),
        "clientId": client_id,
        "transport": socket.transport().as_str(),
        "nsp": socket.ns().name(),
        "data": data(&socket.data_json()),
        "handshake": handshake(socket),
        "rooms": socket.rooms(),
    })
}

/// A socket of another server, as its fetch answer described it (a Node
/// server keeps the client id and transport in `data._admin`).
fn remote(socket: &RemoteSocket, nsp: &str) -> Value {
    let raw = socket.data_json();
    let admin = &raw["_admin"];
    let mut handshake = socket.handshake().clone();
    if let Value::Object(map) = &mut handshake {
        map.remove("auth");
    }
    json!({
        "id": socket.id(),
        "clientId": admin["clientId"],
        "transport": admin["transport"],
        "nsp": nsp,
        "data": data(raw),
        "handshake": handshake,
        "rooms": socket.rooms(),
    })
}

/// Every socket of every namespace, across the cluster.
pub(super) async fn all_sockets(io: &Server) -> Vec<Value> {
    let mut all = Vec::new();
    let mut namespaces = io.registry().all();
    namespaces.sort_by(|a, b| a.name().cmp(b.name()));
    for ns in namespaces {
        for socket in ns.fetch_sockets().await {
            all.push(match socket.as_local() {
                Some(local_socket) => local(local_socket),
                None => remote(&socket, ns.name()),
            });
        }
    }
    all
}
