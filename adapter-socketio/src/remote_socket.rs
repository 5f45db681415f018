//! Sockets as a fetch across the cluster returns them, and the socket data
//! that travels with them.
//!
//! A [`RemoteSocket`] is a snapshot (id, handshake, rooms, data at the time
//! of the fetch) of a socket of this server or of another one. Its actions
//! go to the live socket when it is here, else through the room named by
//! its id on every node: they reach it wherever it is connected, and do
//! nothing once it is gone. Socket data ([`Socket::set_data`]) is kept as
//! JSON, the form the other servers of a cluster read.

use roomcast_core::Room;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::{BroadcastOperator, EmitError, Namespace, Socket};

/// The application data of a socket, as JSON.
#[derive(Clone)]
struct SocketData(Value);

impl Socket {
    /// Attaches application data to this socket, replacing any. Other
    /// servers see it in their fetches (Node: `socket.data`).
    ///
    /// ```no_run
    /// # fn f(socket: roomcast_socketio::Socket) {
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct User { name: String }
    /// socket.set_data(&User { name: "ada".into() }).unwrap();
    /// let user: Option<User> = socket.data();
    /// # }
    /// ```
    pub fn set_data<T: Serialize + ?Sized>(&self, data: &T) -> Result<(), serde_json::Error> {
        self.extensions()
            .insert(SocketData(serde_json::to_value(data)?));
        Ok(())
    }

    /// The application data, if set and of type `T`.
    pub fn data<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_value(self.data_json()).ok()
    }

    /// The application data as JSON (`null` when none).
    pub fn data_json(&self) -> Value {
        self.extensions()
            .get::<SocketData>()
            .map(|d| d.0)
            .unwrap_or(Value::Null)
    }
}

/// A socket as a fetch across the cluster returns it
/// ([`BroadcastOperator::fetch_sockets`]), wherever it is connected: on this
/// server or on another one (Node's `RemoteSocket`).
///
/// It is a snapshot: id, handshake, rooms and data as they were at the
/// fetch. Its actions reach the socket where it lives now: on this server
/// directly, on another through the cluster (the room named by its id);
/// once the socket is gone they do nothing.
///
/// ```no_run
/// # async fn f(io: roomcast_socketio::Server) {
/// for socket in io.to(["room"]).fetch_sockets().await {
///     println!("{} in {:?} (here: {})", socket.id(), socket.rooms(), socket.is_local());
///     socket.emit("hello", "from wherever").ok();
/// }
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct RemoteSocket {
    ns: Namespace,
    id: String,
    rooms: Vec<Room>,
    handshake: Value,
    data: Value,
    local: Option<Socket>,
}

impl RemoteSocket {
    /// A socket of another server, as its server described it.
    pub(crate) fn remote(
        ns: Namespace,
        id: String,
        rooms: Vec<Room>,
        handshake: Value,
        data: Value,
    ) -> Self {
        RemoteSocket {
            ns,
            id,
            rooms,
            handshake,
            data,
            local: None,
        }
    }

    /// A socket of this server, described as the other servers see it.
    pub(crate) fn local(socket: Socket) -> Self {
        RemoteSocket {
            ns: socket.ns().clone(),
            id: socket.id().to_string(),
            rooms: socket.rooms(),
            handshake: crate::remote::handshake_json(socket.handshake()),
            data: socket.data_json(),
            local: Some(socket),
        }
    }

    /// The socket's id (a Node server's socket has a 20-character one).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its rooms at the time of the fetch (its own id's included).
    pub fn rooms(&self) -> &[Room] {
        &self.rooms
    }

    /// Its handshake as the servers of a cluster show it to each other
    /// (`headers`, `query`, `auth`, `address`, `time`, `issued`, `url`…).
    pub fn handshake(&self) -> &Value {
        &self.handshake
    }

    /// Its application data, if of type `T`.
    pub fn data<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_value(self.data.clone()).ok()
    }

    /// Its application data as JSON.
    pub fn data_json(&self) -> &Value {
        &self.data
    }

    /// Whether it is connected to this server.
    pub fn is_local(&self) -> bool {
        self.local.is_some()
    }

    /// The live socket, when it is connected to this server.
    pub fn as_local(&self) -> Option<&Socket> {
        self.local.as_ref()
    }

    fn only(&self) -> BroadcastOperator {
        self.ns.to([self.id.as_str()])
    }

    /// Sends it an event.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        match &self.local {
            Some(socket) => socket.emit(event, data),
            None => self.only().emit(event, data),
        }
    }

    /// Makes it join rooms.
    pub fn join<R: Into<Room>>(&self, rooms: impl IntoIterator<Item = R>) {
        match &self.local {
            Some(socket) => socket.join(rooms),
            None => self.only().sockets_join(rooms),
        }
    }

    /// Makes it leave rooms.
    pub fn leave<R: Into<Room>>(&self, rooms: impl IntoIterator<Item = R>) {
        match &self.local {
            Some(socket) => socket.leave(rooms),
            None => self.only().sockets_leave(rooms),
        }
    }

    /// Disconnects it from the namespace (Node's `disconnect()`).
    pub fn disconnect(&self) {
        match &self.local {
            Some(socket) => socket.disconnect(),
            None => self.only().disconnect_sockets(),
        }
    }

    /// Disconnects it and closes its connection (Node's `disconnect(true)`).
    pub fn disconnect_all(&self) {
        match &self.local {
            Some(socket) => socket.disconnect_all(),
            None => self.only().close_connections(),
        }
    }
}
