//! The Socket.IO protocol revision of a connection, and every difference
//! between revisions, in one place.
//!
//! The revision follows the engine's ([`roomcast_engineio::Protocol`],
//! decided at the handshake): Engine.IO v4 carries Socket.IO v5 (clients
//! 3.x and 4.x), Engine.IO v3 carries Socket.IO v4 (clients 2.x, accepted
//! only with `ServerBuilder::allow_eio3`). Events, acks, binary
//! attachments and DISCONNECT are written alike in both, so a broadcast is
//! encoded once for every client; what v4 does differently, as the
//! reference server serves it:
//! - the connection joins `/` as soon as it opens, without a CONNECT;
//! - a CONNECT names its namespace with the client's query
//!   (`0/chat?token=abc,`): the query is the socket's auth (`{"token":
//!   "abc"}`, values as strings);
//! - the CONNECT answer has no data (`40`, `40/chat,`), and the socket of
//!   `/` has the engine session's id, as the client assumes;
//! - a middleware's refusal is its `data`, or else its message as a JSON
//!   string (`44"unauthorized"`), which the client hands to its `error`
//!   event. ("Invalid namespace" keeps the v5 object, as from Node.)
//!
//! The engine's binary framing (a v3 binary message starts with its type
//! byte) is the engine's business; the frames queued here are the same.

use roomcast_core::ClientId;
use serde_json::{Map, Value};

use crate::ConnectError;

/// The data of a v5 CONNECT answer: `{"sid"}`, and `"pid"` with connection
/// state recovery on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) struct ConnectData<'a> {
    pub(crate) sid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pid: Option<&'a str>,
}

/// A Socket.IO protocol revision (see the [module docs](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProtocolVersion {
    /// Socket.IO v4, over Engine.IO v3 (socket.io-client 2.x).
    V4,
    /// Socket.IO v5, over Engine.IO v4.
    V5,
}

impl ProtocolVersion {
    /// The revision a connection speaks.
    pub(crate) fn of(conn: &roomcast_engineio::Socket) -> Self {
        match conn.protocol() {
            roomcast_engineio::Protocol::V3 => ProtocolVersion::V4,
            roomcast_engineio::Protocol::V4 => ProtocolVersion::V5,
        }
    }

    /// Whether the connection joins `/` when it opens, without a CONNECT.
    pub(crate) fn joins_main_on_open(self) -> bool {
        self == ProtocolVersion::V4
    }

    /// The namespace and auth of a CONNECT whose namespace field was
    /// `namespace` and whose data was `data`.
    pub(crate) fn connect_target(self, namespace: String, data: Option<Value>) -> (String, Value) {
        match self {
            ProtocolVersion::V5 => {
                let auth = match data {
                    Some(Value::Object(map)) => Value::Object(map),
                    _ => Value::Object(Map::new()),
                };
                (namespace, auth)
            }
            ProtocolVersion::V4 => {
                let Some((name, query)) = namespace.split_once('?') else {
                    return (namespace, Value::Object(Map::new()));
                };
                let auth = form_urlencoded::parse(query.as_bytes())
                    .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                    .collect::<Map<_, _>>();
                let name = if name.is_empty() { "/" } else { name };
                (name.to_owned(), Value::Object(auth))
            }
        }
    }

    /// The id of a new socket that is not recovered: in v4 the socket of
    /// `/` takes the engine session's id (the v2 client's `socket.id`).
    pub(crate) fn socket_id(self, namespace: &str, engine_id: ClientId) -> ClientId {
        match self {
            ProtocolVersion::V4 if namespace == "/" => engine_id,
            _ => ClientId::random(),
        }
    }

    /// The data of the CONNECT answer.
    pub(crate) fn connect_data<'a>(
        self,
        sid: &'a ClientId,
        pid: Option<&'a str>,
    ) -> Option<ConnectData<'a>> {
        match self {
            ProtocolVersion::V4 => None,
            ProtocolVersion::V5 => Some(ConnectData {
                sid: sid.as_str(),
                pid,
            }),
        }
    }

    /// The data of a CONNECT_ERROR for a middleware's refusal.
    pub(crate) fn refusal_data(self, error: &ConnectError) -> Value {
        match (self, &error.data) {
            (ProtocolVersion::V4, Some(data)) => data.clone(),
            (ProtocolVersion::V4, None) => Value::String(error.message.clone()),
            (ProtocolVersion::V5, _) => error.to_value(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_v4_connect_carries_its_query_as_auth() {
        let v4 = ProtocolVersion::V4;
        assert_eq!(
            v4.connect_target("/chat?token=a%20b&n=1".into(), None),
            ("/chat".to_owned(), json!({"token": "a b", "n": "1"}))
        );
        assert_eq!(
            v4.connect_target("/chat".into(), None),
            ("/chat".to_owned(), json!({}))
        );
        let v5 = ProtocolVersion::V5;
        assert_eq!(
            v5.connect_target("/chat".into(), Some(json!({"t": 1}))),
            ("/chat".to_owned(), json!({"t": 1}))
        );
        assert_eq!(v5.connect_target("/".into(), Some(json!("x"))).1, json!({}));
    }

    #[test]
    fn answers_differ_as_the_reference_server_writes_them() {
        let id = ClientId::random();
        assert_eq!(ProtocolVersion::V4.connect_data(&id, None), None);
        let data = ProtocolVersion::V5.connect_data(&id, None);
        assert_eq!(
            data.map(|d| serde_json::to_value(d).unwrap()),
            Some(json!({"sid": id.as_str()}))
        );
        let data = ProtocolVersion::V5.connect_data(&id, Some("p"));
        assert_eq!(
            data.map(|d| serde_json::to_value(d).unwrap()),
            Some(json!({"sid": id.as_str(), "pid": "p"}))
        );
        assert_eq!(ProtocolVersion::V4.socket_id("/", id), id);
        assert_ne!(ProtocolVersion::V4.socket_id("/chat", id), id);
        let refused = ConnectError::new("no");
        assert_eq!(ProtocolVersion::V4.refusal_data(&refused), json!("no"));
        assert_eq!(
            ProtocolVersion::V4.refusal_data(&refused.clone().with_data(json!({"a": 1}))),
            json!({"a": 1})
        );
        assert_eq!(
            ProtocolVersion::V5.refusal_data(&refused),
            json!({"message": "no"})
        );
    }
}
