//! How the server reacts to clients: the chapter's `src/server/socket.js`,
//! line for line. Its `io` inside a handler is the socket's namespace,
//! `socket.ns()` (the main one, as the page connects to `/`).

use roomcast_socketio::{DisconnectReason, Server, Socket};

use super::config::{IO_CLIENT_HELLO, IO_CLIENT_JOIN_ROOM, IO_SERVER_HELLO};

/// Logs connections, greetings and disconnections on stdout; a client that
/// joins a room gets three greetings: one sent to everyone, one to the
/// room, one to itself.
pub fn set_up_socket(io: &Server) {
    io.on_connect(|socket: Socket| async move {
        println!("[socket.io] A client connected.");

        socket.on(
            IO_CLIENT_JOIN_ROOM,
            |socket: Socket, room: String| async move {
                socket.join([room.as_str()]);
                println!("[socket.io] A client joined room {room}.");

                let io = socket.ns();
                io.emit(IO_SERVER_HELLO, "Hello everyone!").ok();
                io.to([room.as_str()])
                    .emit(IO_SERVER_HELLO, &format!("Hello clients of room {room}!"))
                    .ok();
                socket.emit(IO_SERVER_HELLO, "Hello you!").ok();
            },
        );

        socket.on(
            IO_CLIENT_HELLO,
            |_: Socket, client_message: String| async move {
                println!("[socket.io] Client: {client_message}");
            },
        );

        socket.on_disconnect(|_: Socket, _: DisconnectReason| async move {
            println!("[socket.io] A client disconnected.");
        });
    });
}
