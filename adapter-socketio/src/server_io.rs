//! What Node has on `io` and applies to the main namespace `/`: the same
//! names here, as explicit methods of [`Server`] (it does not dereference
//! to its namespace). Anything else a namespace does is on
//! [`Server::main`] or [`Server::of`].

use std::future::Future;
use std::time::Duration;

use roomcast_core::{ClientId, Room};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{
    AckError, BroadcastAcks, BroadcastOperator, ConnectError, EmitError, RemoteSocket, Server,
    ServerAcks, ServerEvent, Socket,
};

impl Server {
    /// Runs `handler(socket)` for every socket that connects to `/`
    /// (Node's `io.on("connection")`); see [`Namespace::on_connect`](crate::Namespace::on_connect).
    pub fn on_connect<F, Fut>(&self, handler: F)
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.main_ns().on_connect(handler)
    }

    /// Adds a connection middleware to `/` (Node's `io.use`).
    pub fn use_middleware<F, Fut>(&self, middleware: F)
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
    {
        self.main_ns().use_middleware(middleware)
    }

    /// The application's value of type `T` (see
    /// [`ServerBuilder::state`](crate::ServerBuilder::state)).
    ///
    /// # Panics
    ///
    /// When the builder was given no `T`.
    pub fn state<T: Send + Sync + 'static>(&self) -> &T {
        self.main_ns().state::<T>()
    }

    /// Sends an event to every socket of `/`.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.main_ns().emit(event, data)
    }

    /// Sends an event to every socket of `/` and collects their answers.
    pub async fn emit_with_ack<T, R>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<BroadcastAcks<R>, AckError>
    where
        T: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        self.main_ns().emit_with_ack(event, data).await
    }

    /// Sockets of `/` in these rooms.
    pub fn to<R: Into<Room>>(&self, rooms: impl IntoIterator<Item = R>) -> BroadcastOperator {
        self.main_ns().to(rooms)
    }

    /// Same as [`Server::to`] (Node's `io.in`).
    pub fn within<R: Into<Room>>(&self, rooms: impl IntoIterator<Item = R>) -> BroadcastOperator {
        self.main_ns().within(rooms)
    }

    /// Every socket of `/` but those in these rooms.
    pub fn except<R: Into<Room>>(&self, rooms: impl IntoIterator<Item = R>) -> BroadcastOperator {
        self.main_ns().except(rooms)
    }

    /// Only the sockets of `/` on this node.
    pub fn local(&self) -> BroadcastOperator {
        self.main_ns().local()
    }

    /// A broadcast to `/` that may be dropped for clients that cannot take it now.
    pub fn volatile(&self) -> BroadcastOperator {
        self.main_ns().volatile()
    }

    /// A broadcast to `/` whose `emit_with_ack` waits at most `timeout`.
    pub fn timeout(&self, timeout: Duration) -> BroadcastOperator {
        self.main_ns().timeout(timeout)
    }

    /// Ids of the sockets of `/` on this node.
    pub fn sockets(&self) -> Vec<ClientId> {
        self.main_ns().sockets()
    }

    /// The sockets of `/` across the cluster (Node's `io.fetchSockets()`).
    pub async fn fetch_sockets(&self) -> Vec<RemoteSocket> {
        self.main_ns().fetch_sockets().await
    }

    /// Every room of `/` across the cluster (Node's `adapter.allRooms()`).
    pub async fn all_rooms(&self) -> std::collections::BTreeSet<Room> {
        self.main_ns().all_rooms().await
    }

    /// How many servers the cluster has now, this one included.
    pub fn node_count(&self) -> usize {
        self.main_ns().node_count()
    }

    /// Makes every socket of `/` join rooms.
    pub fn sockets_join<R: Into<Room>>(&self, rooms: impl IntoIterator<Item = R>) {
        self.main_ns().sockets_join(rooms)
    }

    /// Makes every socket of `/` leave rooms.
    pub fn sockets_leave<R: Into<Room>>(&self, rooms: impl IntoIterator<Item = R>) {
        self.main_ns().sockets_leave(rooms)
    }

    /// Disconnects every socket of `/` (Node's `io.disconnectSockets()`).
    pub fn disconnect_sockets(&self) {
        self.main_ns().disconnect_sockets()
    }

    /// Disconnects every socket of `/` and closes their connections (Node's
    /// `io.disconnectSockets(true)`).
    pub fn close_connections(&self) {
        self.main_ns().close_connections()
    }

    /// Handles events other servers send with `server_side_emit`.
    pub fn on_server_event<F, Fut>(&self, event: &str, handler: F)
    where
        F: Fn(ServerEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.main_ns().on_server_event(event, handler)
    }

    /// Sends an event to every other server of the cluster.
    pub fn server_side_emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), EmitError> {
        self.main_ns().server_side_emit(event, data)
    }

    /// Sends an event to every other server and collects their answers.
    pub async fn server_side_emit_with_ack<T, R>(
        &self,
        event: &str,
        data: &T,
        timeout: Duration,
    ) -> Result<ServerAcks<R>, AckError>
    where
        T: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        self.main_ns()
            .server_side_emit_with_ack(event, data, timeout)
            .await
    }
}
