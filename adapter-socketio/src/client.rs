//! One Engine.IO connection seen by Socket.IO: its decoder and its sockets
//! (at most one per namespace).
//!
//! Semantics:
//! - Packets are decoded in order; a binary packet waits for its
//!   attachments. Any decode error, or a packet that makes no sense in the
//!   connection's state (an event for a namespace it has not joined), closes
//!   the connection with "parse error"; no other connection notices.
//! - A CONNECT for an unknown namespace is answered with CONNECT_ERROR
//!   `{"message":"Invalid namespace"}`; for a known one it creates a
//!   [`Socket`], whose lifecycle (middlewares, connect handler, held
//!   events, disconnect) the socket owns from then on.
//! - A connection that joins no namespace within `connect_timeout` is closed.
//! - When the connection closes, every socket on it disconnects with the
//!   connection's reason.
//! - A Socket.IO v4 connection (a v2 client) joins `/` when it opens, and
//!   its CONNECTs name a namespace with a query; see `protocol.rs`.

use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use roomcast_core::{CloseReason, Frame};
use smol_str::SmolStr;

use crate::parser::{Decoder, Packet, PacketType};
use crate::protocol::ProtocolVersion;
use crate::registry::NamespaceRegistry;
use crate::reserved::is_reserved;
use crate::socket::ConnectionSockets;
use crate::{ConnectError, DisconnectReason, Handshake, Socket};

/// One connection's Socket.IO side. See the [module docs](self).
pub(crate) struct Client {
    conn: Arc<roomcast_engineio::Socket>,
    protocol: ProtocolVersion,
    decoder: Mutex<Box<dyn Decoder>>,
    sockets: Arc<ConnectionSockets>,
    namespaces: Weak<NamespaceRegistry>,
    max_event_name_len: usize,
}

impl Client {
    pub(crate) fn new(
        conn: Arc<roomcast_engineio::Socket>,
        decoder: Box<dyn Decoder>,
        namespaces: Weak<NamespaceRegistry>,
        max_event_name_len: usize,
    ) -> Self {
        Client {
            protocol: ProtocolVersion::of(&conn),
            conn,
            decoder: Mutex::new(decoder),
            sockets: Arc::default(),
            namespaces,
            max_event_name_len,
        }
    }

    /// One Engine.IO message of this connection.
    pub(crate) fn receive(self: &Arc<Self>, frame: Frame) -> Result<(), CloseReason> {
        roomcast_core::metrics::add(roomcast_core::metrics::Counter::BytesIn, frame.len() as u64);
        let decoded = {
            let mut decoder = self.decoder.lock();
            match frame {
                Frame::Text(t) => decoder.decode_shared(&t),
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
        if matches!(packet.kind, PacketType::Event | PacketType::BinaryEvent) {
            roomcast_core::metrics::add(roomcast_core::metrics::Counter::EventsIn, 1);
        }
        self.dispatch(packet)
    }

    /// Event names are at most `max_event_name_len` bytes and not reserved
    /// (the reference parser rejects `connect`, `disconnect`… from clients).
    fn valid_event_name(&self, packet: &Packet) -> bool {
        packet
            .event_name()
            .is_none_or(|name| name.len() <= self.max_event_name_len && !is_reserved(name))
    }

    fn dispatch(self: &Arc<Self>, packet: Packet) -> Result<(), CloseReason> {
        let socket = self.sockets.get(&packet.namespace);
        match (packet.kind, socket) {
            (PacketType::Connect, None) => self.connect(packet),
            (PacketType::Connect | PacketType::ConnectError, _) => {
                tracing::info!(sid = %self.conn.id(), ns = %packet.namespace, "closing connection: unexpected packet");
                Err(CloseReason::ParseError)
            }
            (_, Some(socket)) => socket.deliver(packet),
            (PacketType::Disconnect, None) => Ok(()),
            (_, None) => {
                tracing::info!(sid = %self.conn.id(), ns = %packet.namespace, "closing connection: packet for a namespace it has not joined");
                Err(CloseReason::ParseError)
            }
        }
    }

    /// A CONNECT for a namespace this connection is not in: a new socket,
    /// whose lifecycle the socket runs from here.
    fn connect(self: &Arc<Self>, packet: Packet) -> Result<(), CloseReason> {
        let Some(namespaces) = self.namespaces.upgrade() else {
            return Ok(());
        };
        let (name, auth) = self.protocol.connect_target(
            packet.namespace.into(),
            // Only an `EVENT`'s data is held as text.
            packet.data.and_then(|d| d.into_value().ok()),
        );
        if self.sockets.get(&name).is_some() {
            // `0/chat?x=1` once `/chat` is joined (v4 names carry a query).
            tracing::info!(sid = %self.conn.id(), ns = %name, "closing connection: second CONNECT");
            return Err(CloseReason::ParseError);
        }
        let Some(ns) = namespaces.for_connect(&name) else {
            let err = ConnectError::new("Invalid namespace");
            let _ = self.conn.send(err.encode(namespaces.parser(), &name));
            return Ok(());
        };
        let handshake = Handshake::new(auth, self.conn.handshake().clone());
        if let Some(recovery) = ns.recovery().filter(|r| r.asks_log(&handshake.auth)) {
            // Restoring from the cluster's log is a round trip: the socket
            // starts when it is back (a connection closed meanwhile starts
            // none; its session was used up).
            let recovery = recovery.clone();
            let client = self.clone();
            tokio::spawn(async move {
                let restore = recovery.take_from_log(&handshake.auth).await;
                if !client.conn.is_closed() {
                    client.start(ns, handshake, restore);
                }
            });
            return Ok(());
        }
        let restore = ns.recovery().and_then(|r| r.take(&handshake.auth));
        self.start(ns, handshake, restore);
        Ok(())
    }

    /// Creates the socket of a CONNECT and runs its lifecycle.
    fn start(
        self: &Arc<Self>,
        ns: crate::Namespace,
        handshake: Handshake,
        restore: Option<crate::recovery::Restore>,
    ) {
        let socket = Socket::new(ns, self.conn.clone(), &self.sockets, handshake, restore);
        self.sockets.insert(socket.clone());
        let conn = self.conn.clone();
        // The connect timeout (set when the connection opened) ends.
        socket.connect(move || conn.expire_at(None));
    }

    /// A Socket.IO v4 connection (a v2 client) is in `/` from its opening,
    /// as if it had sent a CONNECT (see [`ProtocolVersion`]).
    pub(crate) fn opened(self: &Arc<Self>) {
        if self.protocol.joins_main_on_open() {
            let _ = self.connect(Packet {
                kind: PacketType::Connect,
                namespace: SmolStr::new_static("/"),
                id: None,
                data: None,
                attachments: Vec::new(),
            });
        }
    }

    /// The connection closed: every socket leaves with its reason.
    pub(crate) fn closed(&self, reason: CloseReason) {
        let reason = DisconnectReason::from(reason);
        for socket in self.sockets.take_all() {
            socket.close(reason);
        }
    }
}
