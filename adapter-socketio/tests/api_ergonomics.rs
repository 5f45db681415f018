//! The handler shapes and the app state, over the raw protocol: handlers of
//! one, two and three parameters receive what their shape says; an ack is
//! answered once (the sender is consumed); the builder's state is read
//! from a socket without capturing anything; a broadcast refuses reserved
//! event names as a socket's emit does; `transport()` is an enum.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};

use common::{serve, Raw};
use roomcast_socketio::{AckSender, EmitError, Server, Socket, TransportKind};

#[derive(Default)]
struct Hits(AtomicU64);

struct Greeting(&'static str);

fn server() -> Server {
    let io = Server::builder()
        .state(Hits::default())
        .state(Greeting("hello"))
        .build();
    io.on_connect(|socket: Socket| async move {
        socket.on("one", |socket: Socket| async move {
            socket.state::<Hits>().0.fetch_add(1, Ordering::Relaxed);
            socket.emit("one", &socket.transport().as_str()).ok();
            socket.volatile().emit("one-volatile", &1).ok();
            let refused = socket.volatile().emit("connect", &1);
            assert!(matches!(refused, Err(EmitError::Reserved(_))));
        });
        socket.on("two", |socket: Socket, name: String| async move {
            let greeting = socket.state::<Greeting>().0;
            socket.emit("two", &format!("{greeting} {name}")).ok();
        });
        socket.on(
            "three",
            |socket: Socket, (a, b): (i64, i64), ack: AckSender| async move {
                socket.state::<Hits>().0.fetch_add(1, Ordering::Relaxed);
                ack.send(&(a + b)).ok();
            },
        );
        socket.on("reserved", |socket: Socket| async move {
            let refused = matches!(
                socket.ns().emit("disconnect", &()),
                Err(EmitError::Reserved(_))
            ) && matches!(
                socket.broadcast().emit("connect", &()),
                Err(EmitError::Reserved(_))
            );
            socket.emit("reserved", &refused).ok();
        });
    });
    io
}

#[tokio::test]
async fn handlers_of_every_shape_and_the_state() {
    let io = server();
    let addr = serve(&io).await;
    let (mut raw, _) = Raw::connect(addr, "/").await;

    raw.send(r#"42["one","ignored"]"#).await;
    assert_eq!(raw.text().await, r#"42["one","websocket"]"#);
    assert_eq!(raw.text().await, r#"42["one-volatile",1]"#);
    raw.send(r#"42["two","ada"]"#).await;
    assert_eq!(raw.text().await, r#"42["two","hello ada"]"#);
    raw.send(r#"427["three",2,3]"#).await;
    assert_eq!(raw.text().await, "437[5]");
    // Arguments that do not decode into the handler's type: ignored.
    raw.send(r#"428["three","x"]"#).await;
    raw.send(r#"42["reserved"]"#).await;
    assert_eq!(raw.text().await, r#"42["reserved",true]"#);

    assert_eq!(io.state::<Hits>().0.load(Ordering::Relaxed), 2);
    let id = io.sockets()[0];
    let socket = io.main().socket(id).unwrap();
    assert_eq!(socket.transport(), TransportKind::WebSocket);
    // The raw client sends no Origin and talks plain HTTP.
    assert!(!socket.handshake().xdomain());
    assert!(!socket.handshake().secure());
}

#[test]
fn missing_state_is_none() {
    assert!(Server::new().main().try_state::<Hits>().is_none());
}

#[test]
#[should_panic(expected = "Server::builder().state")]
fn missing_state_panics_with_what_to_do() {
    let _ = Server::new().state::<Hits>();
}
