//! The UI's operations, each for a namespace and an optional filter (a
//! room; a socket's id is its own room), applied through the namespace's
//! broadcast operators — so to the matching sockets on every node:
//!
//! - `join(nsp, room, filter?)` / `leave(nsp, room, filter?)`;
//! - `_disconnect(nsp, close, filter?)` (`close`: the whole connection);
//! - `emit(nsp, filter?, event, ...args)`.
//!
//! An operation naming a namespace that does not exist, or with arguments
//! of the wrong type, is ignored (and logged).

use serde_json::Value;

use crate::parser::Args;
use crate::server::WeakServer;
use crate::{BroadcastOperator, Namespace, RawArgs, Socket};

/// The namespace and the operator an operation acts through.
fn target(
    io: &WeakServer,
    nsp: Option<&Value>,
    filter: Option<&Value>,
) -> Option<BroadcastOperator> {
    let io = io.upgrade()?;
    let ns: Namespace = io.namespace(nsp?.as_str()?)?;
    Some(
        match filter.and_then(Value::as_str).filter(|f| !f.is_empty()) {
            Some(room) => ns.to([room]),
            None => ns.operator(),
        },
    )
}

/// Listens to the operations on one admin socket.
pub(super) fn listen(io: &WeakServer, socket: &Socket) {
    let server = io.clone();
    socket.on_raw("join", move |_: Socket, args: RawArgs, _| {
        let args = args.values();
        let op = target(&server, args.first(), args.get(2));
        let room = args.get(1).and_then(Value::as_str).map(str::to_string);
        async move {
            match (op, room) {
                (Some(op), Some(room)) => op.sockets_join([room]),
                _ => tracing::debug!("admin join ignored: bad arguments"),
            }
        }
    });
    let server = io.clone();
    socket.on_raw("leave", move |_: Socket, args: RawArgs, _| {
        let args = args.values();
        let op = target(&server, args.first(), args.get(2));
        let room = args.get(1).and_then(Value::as_str).map(str::to_string);
        async move {
            match (op, room) {
                (Some(op), Some(room)) => op.sockets_leave([room]),
                _ => tracing::debug!("admin leave ignored: bad arguments"),
            }
        }
    });
    let server = io.clone();
    socket.on_raw("_disconnect", move |_: Socket, args: RawArgs, _| {
        let args = args.values();
        let op = target(&server, args.first(), args.get(2));
        let close = args.get(1).and_then(Value::as_bool).unwrap_or(false);
        async move {
            match op {
                Some(op) if close => op.close_connections(),
                Some(op) => op.disconnect_sockets(),
                None => tracing::debug!("admin disconnect ignored: bad arguments"),
            }
        }
    });
    let server = io.clone();
    socket.on_raw("emit", move |_: Socket, args: RawArgs, _| {
        let (args, attachments) = args.into_parts();
        let op = target(&server, args.first(), args.get(1));
        let event = args.get(2).and_then(Value::as_str).map(str::to_string);
        let rest: Vec<Value> = args.iter().skip(3).cloned().collect();
        async move {
            match (op, event) {
                (Some(op), Some(event)) if attachments.is_empty() => {
                    if let Err(e) = op.emit(&event, &Args(rest)) {
                        tracing::debug!(error = %e, "admin emit failed");
                    }
                }
                _ => tracing::debug!("admin emit ignored: bad arguments or binary"),
            }
        }
    });
}
