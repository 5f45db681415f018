//! Development mode: what happens to sockets and rooms, reported to the
//! admin namespace as it happens.
//!
//! - `socket_connected` when a socket enters its namespace (before its
//!   connect handler runs), `socket_disconnected` once it has left;
//! - `room_joined` / `room_left` from each namespace's hub events (a
//!   socket's own room included, and every room it leaves on disconnect),
//!   relayed by one task per namespace; a relay more than 1024 changes
//!   behind skips the oldest, as the hub's subscribers do;
//! - `event_received` / `event_sent` through the socket's catch-all
//!   listeners, for sockets of every namespace but the admin one.

use std::sync::Arc;

use roomcast_core::hub::RoomEvent;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::events::EventBuffer;
use super::{clock, serialize};
use crate::observe::Observer;
use crate::{Namespace, Socket};

pub(super) struct AdminObserver {
    admin: Namespace,
    events: Arc<EventBuffer>,
    /// Report sockets, rooms and events (else only count connections).
    development: bool,
}

impl AdminObserver {
    pub(super) fn new(admin: Namespace, events: Arc<EventBuffer>, development: bool) -> Self {
        AdminObserver {
            admin,
            events,
            development,
        }
    }
}

/// A catch-all listener that reports each event to the admin namespace as
/// `report` (`event_received` or `event_sent`), with the socket's
/// namespace and id, `[event, ...args]` as Node's `onAny` listener sees
/// them, and the time.
fn event_reporter(
    admin: Namespace,
    report: &'static str,
) -> impl Fn(&Socket, &str, &[Value]) + Send + Sync + 'static {
    move |socket: &Socket, event: &str, args: &[Value]| {
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(Value::from(event));
        all.extend_from_slice(args);
        let id = socket.id();
        let report_args = (
            socket.ns().name(),
            id.as_str(),
            Value::Array(all),
            clock::now(),
        );
        admin.emit(report, &report_args).ok();
    }
}

impl Observer for AdminObserver {
    fn namespace_created(&self, ns: &Namespace) {
        if !self.development {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(ns = %ns.name(), "namespace created outside a runtime: its room changes are not shown in the admin UI");
            return;
        };
        let mut events = ns.hub().subscribe();
        let admin = self.admin.clone();
        let nsp = ns.name().to_string();
        runtime.spawn(async move {
            loop {
                let (kind, room, id) = match events.recv().await {
                    Ok(RoomEvent::Joined(room, id)) => ("room_joined", room, id),
                    Ok(RoomEvent::Left(room, id)) => ("room_left", room, id),
                    Ok(_) | Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return,
                };
                admin
                    .emit(kind, &(&nsp, room.as_str(), id.as_str(), clock::now()))
                    .ok();
            }
        });
    }

    fn socket_connected(&self, socket: &Socket) {
        self.events.socket_opened(socket.conn().id());
        let admin = self.admin.clone();
        let (events, development) = (self.events.clone(), self.development);
        let gone = admin.clone();
        socket.on_disconnect(move |socket: Socket, reason| {
            events.socket_closed(socket.conn().id(), reason.as_str());
            let admin = gone.clone();
            async move {
                if development {
                    let (nsp, id) = (socket.ns().name(), socket.id());
                    let args = (nsp, id.as_str(), reason.as_str(), clock::now());
                    admin.emit("socket_disconnected", &args).ok();
                }
            }
        });
        if !development {
            return;
        }
        admin
            .emit(
                "socket_connected",
                &(serialize::local(socket), clock::now()),
            )
            .ok();
        if socket.ns().name() == admin.name() {
            return;
        }
        socket.on_any(event_reporter(admin.clone(), "event_received"));
        socket.on_any_outgoing(event_reporter(admin, "event_sent"));
    }
}
