//! One Engine.IO connection seen by Socket.IO: its decoder and its sockets
//! (at most one per namespace).
//!
//! Semantics:
//! - Packets are decoded in order; a binary packet waits for its
//!   attachments. Any decode error, or a packet that makes no sense in the
//!   connection's state (an event for a namespace it has not joined), closes
//!   the connection with "parse error"; no other connection notices.
//! - A CONNECT for an unknown namespace is answered with CONNECT_ERROR
//!   `{"message":"Invalid namespace"}`.
//! - A connection that joins no namespace within `connect_timeout` is closed.
//! - When the connection closes, every socket on it disconnects with the
//!   connection's reason.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use roomcast_core::{ClientId, CloseReason, Frame};
use serde_json::Value;

use crate::handler;
use crate::parser::{encode_value, Decoder, Packet, PacketType};
use crate::server::Inner as ServerInner;
use crate::{ConnectError, DisconnectReason, Handshake, Socket};

pub(crate) struct Client {
    conn: Arc<roomcast_engineio::Socket>,
    decoder: Mutex<Box<dyn Decoder>>,
    sockets: Mutex<HashMap<String, Socket>>,
    server: Weak<ServerInner>,
    max_event_name_len: usize,
    /// The task that closes the connection if it joins no namespace in
    /// time; aborted at the first join, so it holds nothing longer.
    connect_timer: Mutex<Option<tokio::task::AbortHandle>>,
}

impl Client {
    pub(crate) fn new(
        conn: Arc<roomcast_engineio::Socket>,
        decoder: Box<dyn Decoder>,
        server: Weak<ServerInner>,
        max_event_name_len: usize,
    ) -> Self {
        Client {
            conn,
            decoder: Mutex::new(decoder),
            sockets: Mutex::new(HashMap::new()),
            server,
            max_event_name_len,
            connect_timer: Mutex::new(None),
        }
    }

    pub(crate) fn set_connect_timer(&self, timer: tokio::task::AbortHandle) {
        *self.connect_timer.lock() = Some(timer);
    }

    pub(crate) fn conn(&self) -> &Arc<roomcast_engineio::Socket> {
        &self.conn
    }

    pub(crate) fn has_sockets(&self) -> bool {
        !self.sockets.lock().is_empty()
    }

    /// One Engine.IO message of this connection.
    pub(crate) fn receive(self: &Arc<Self>, frame: Frame) -> Result<(), CloseReason> {
        let decoded = {
            let mut decoder = self.decoder.lock();
            match frame {
                Frame::Text(t) => decoder.decode_text(t.as_str()),
                Frame::Binary(b) => decoder.decode_binary(b),
            }
        };
        let packet = match decoded {
            Ok(Some(packet)) if !self.valid_event_name(&packet) => {
                tracing::info!(sid = %self.conn.id(), "closing connection: reserved or over-long event name");
                return Err(CloseReason::ParseError);
            }
            Ok(Some(packet)) => packet,
            Ok(None) => return Ok(()),
            Err(e) => {
                tracing::info!(sid = %self.conn.id(), error = %e, "closing connection: invalid socket.io packet");
                return Err(CloseReason::ParseError);
            }
        };
        self.dispatch(packet)
    }

    /// Event names are at most `max_event_name_len` bytes and not reserved
    /// (the reference parser rejects `connect`, `disconnect`… from clients).
    fn valid_event_name(&self, packet: &Packet) -> bool {
        packet.event_name().is_none_or(|name| {
            name.len() <= self.max_event_name_len && !crate::socket::RESERVED.contains(&name)
        })
    }

    fn dispatch(self: &Arc<Self>, packet: Packet) -> Result<(), CloseReason> {
        let socket = self.sockets.lock().get(&packet.namespace).cloned();
        match (packet.kind, socket) {
            (PacketType::Connect, None) => {
                self.connect(packet);
                Ok(())
            }
            (PacketType::Connect | PacketType::ConnectError, _) => {
                tracing::info!(sid = %self.conn.id(), ns = %packet.namespace, "closing connection: unexpected packet");
                Err(CloseReason::ParseError)
            }
            (_, Some(socket)) => {
                socket.deliver(packet);
                Ok(())
            }
            (PacketType::Disconnect, None) => Ok(()),
            (_, None) => {
                tracing::info!(sid = %self.conn.id(), ns = %packet.namespace, "closing connection: packet for a namespace it has not joined");
                Err(CloseReason::ParseError)
            }
        }
    }

    fn connect(self: &Arc<Self>, packet: Packet) {
        let Some(server) = self.server.upgrade() else {
            return;
        };
        let name = packet.namespace;
        let Some(ns) = server.namespace_for(&name) else {
            let err = ConnectError::new("Invalid namespace");
            let _ = self.conn.send(&err.encode(&name));
            return;
        };
        let auth = match packet.data {
            Some(Value::Object(map)) => Value::Object(map),
            _ => Value::Object(Default::default()),
        };
        let handshake = Handshake::new(auth, self.conn.handshake().clone());
        let socket = Socket::new(ns.clone(), self, handshake);
        self.sockets.lock().insert(name.clone(), socket.clone());
        let span = tracing::debug_span!("connect", ns = %name, socket = %socket.id());
        let _enter = span.enter();
        let middlewares = ns.middlewares();
        let connect = ns.connect_handler();
        let client = self.clone();
        let on_panic = {
            let (socket, conn, ns) = (socket.clone(), self.conn.clone(), name.clone());
            move || {
                if socket.connected() {
                    socket.disconnect();
                } else {
                    // A middleware panicked: refuse, as a rejection would.
                    socket.close(DisconnectReason::ServerNamespaceDisconnect);
                    let _ = conn.send(&ConnectError::new("server error").encode(&ns));
                }
            }
        };
        handler::run(
            Box::pin(async move {
                for middleware in middlewares {
                    if let Err(e) = middleware(socket.clone()).await {
                        tracing::debug!(message = %e.message, "connection refused by a middleware");
                        client.sockets.lock().remove(ns.name());
                        let _ = client.conn.send(&e.encode(ns.name()));
                        return;
                    }
                }
                if client.conn.is_closed() || !ns.insert(&socket) {
                    client.sockets.lock().remove(ns.name());
                    return;
                }
                socket.set_connected();
                if let Some(timer) = client.connect_timer.lock().take() {
                    timer.abort();
                }
                let sid = serde_json::json!({ "sid": socket.id().as_str() });
                let reply = encode_value(PacketType::Connect, ns.name(), None, Some(&sid), &[]);
                let _ = socket.send_raw(&reply);
                tracing::debug!("socket connected");
                if let Some(connect) = connect {
                    let _ = connect(socket.clone()).await;
                }
                socket.set_ready();
            }),
            on_panic,
        );
    }

    /// A socket left: forget it (if it is still the one for its namespace).
    pub(crate) fn forget(&self, ns: &str, id: ClientId) {
        let mut sockets = self.sockets.lock();
        if sockets.get(ns).map(|s| s.id()) == Some(id) {
            sockets.remove(ns);
        }
    }

    /// Disconnects every namespace and closes the connection.
    pub(crate) fn disconnect_all(&self) {
        let sockets: Vec<Socket> = self.sockets.lock().values().cloned().collect();
        for socket in sockets {
            socket.disconnect();
        }
        self.conn.close(CloseReason::Forced);
    }

    /// The connection closed: every socket leaves with its reason.
    pub(crate) fn closed(&self, reason: CloseReason) {
        let sockets: Vec<Socket> = self.sockets.lock().drain().map(|(_, s)| s).collect();
        let reason = DisconnectReason::from(reason);
        for socket in sockets {
            socket.close(reason);
        }
    }
}
