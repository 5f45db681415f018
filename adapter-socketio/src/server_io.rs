//! What Node has on `io` and applies to the main namespace `/`: the same
//! names here, as explicit methods of [`Server`] (it does not dereference
//! to its namespace), each forwarding to the namespace's method of that
//! name (declared by [`entry_points!`](crate::entry_points)). Anything
//! else a namespace does is on [`Server::main`] or [`Server::of`].

use crate::entry_points::entry_points;
use crate::Server;

impl Server {
    entry_points! { main_ns =>
        /// Runs `handler(socket)` for every socket that connects to `/`
        /// (Node's `io.on("connection")`); see [`Namespace::on_connect`](crate::Namespace::on_connect).
        on_connect;

        /// Adds a connection middleware to `/` (Node's `io.use`).
        use_middleware;

        /// The application's value of type `T` (see
        /// [`ServerBuilder::state`](crate::ServerBuilder::state)).
        ///
        /// # Panics
        ///
        /// When the builder was given no `T`.
        state;

        /// Sends an event to every socket of `/`.
        emit;

        /// Sends an event to every socket of `/` and collects their answers.
        emit_with_ack;

        /// Sockets of `/` in these rooms.
        to;

        /// Same as [`Server::to`] (Node's `io.in`).
        within;

        /// Every socket of `/` but those in these rooms.
        except;

        /// Only the sockets of `/` on this node.
        local;

        /// A broadcast to `/` that may be dropped for clients that cannot take it now.
        volatile;

        /// A broadcast to `/` whose `emit_with_ack` waits at most `timeout`.
        timeout;

        /// Ids of the sockets of `/` on this node.
        sockets;

        /// The sockets of `/` across the cluster (Node's `io.fetchSockets()`).
        fetch_sockets;

        /// Every room of `/` across the cluster (Node's `adapter.allRooms()`).
        all_rooms;

        /// How many servers the cluster has now, this one included.
        node_count;

        /// Makes every socket of `/` join rooms.
        sockets_join;

        /// Makes every socket of `/` leave rooms.
        sockets_leave;

        /// Disconnects every socket of `/` (Node's `io.disconnectSockets()`).
        disconnect_sockets;

        /// Disconnects every socket of `/` and closes their connections (Node's
        /// `io.disconnectSockets(true)`).
        close_connections;

        /// Handles events other servers send with `server_side_emit`.
        on_server_event;

        /// Sends an event to every other server of the cluster.
        server_side_emit;

        /// Sends an event to every other server and collects their answers.
        server_side_emit_with_ack;
    }
}
