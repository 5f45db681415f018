//! Echo handlers the test and benchmark servers share: a socket's event
//! comes back with exactly the arguments it carried, whatever their number
//! and type, binary attachments included (the raw-argument path: `on_raw`,
//! `emit_raw`, `AckSender::send_raw`: over the JSON parser the arguments'
//! text is copied back, not decoded). An echo that cannot be sent (the
//! socket is closing, its queue is full) is dropped.

use roomcast_socketio::{AckSender, RawArgs, Socket};

/// On `event`, emits `reply` back to the sender with the same arguments.
///
/// ```no_run
/// # fn demo(socket: roomcast_socketio::Socket) {
/// roomcast_examples::echo::emit_back(&socket, "message", "message-back");
/// # }
/// ```
pub fn emit_back(socket: &Socket, event: &'static str, reply: &'static str) {
    socket.on_raw(
        event,
        move |socket: Socket, args: RawArgs, _: AckSender| async move {
            socket.emit_raw(reply, &args).ok();
        },
    );
}

/// On `event`, acks with the same arguments.
///
/// ```no_run
/// # fn demo(socket: roomcast_socketio::Socket) {
/// roomcast_examples::echo::ack_back(&socket, "echo-ack");
/// # }
/// ```
pub fn ack_back(socket: &Socket, event: &'static str) {
    socket.on_raw(
        event,
        |_: Socket, args: RawArgs, ack: AckSender| async move {
            ack.send_raw(&args).ok();
        },
    );
}
