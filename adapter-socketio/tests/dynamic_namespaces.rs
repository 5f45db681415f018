//! Dynamic namespaces as Node's: an emit on the template (Node's parent
//! namespace) reaches the sockets of every child; with
//! `cleanup_empty_child_namespaces` a child is removed when its last socket
//! leaves and comes back fresh on the next CONNECT; without it, it stays.

mod common;

use common::{eventually, serve, Raw};
use roomcast_socketio::Server;

fn server(cleanup: bool) -> (Server, roomcast_socketio::Namespace) {
    let builder = Server::builder();
    let io = if cleanup {
        builder.cleanup_empty_child_namespaces().build()
    } else {
        builder.build()
    };
    let parent = io.of_matching(|name| name.starts_with("/room-"));
    (io, parent)
}

#[tokio::test]
async fn parent_emit_reaches_every_child_and_empty_children_go() {
    let (io, parent) = server(true);
    let addr = serve(&io).await;
    let mut raw = Raw::open(addr).await;
    raw.join("/room-1").await;
    raw.join("/room-2").await;
    assert_eq!(parent.children().len(), 2);

    parent.emit("news", "all rooms").unwrap();
    let mut got = vec![raw.text().await, raw.text().await];
    got.sort();
    assert_eq!(
        got,
        [
            r#"42/room-1,["news","all rooms"]"#,
            r#"42/room-2,["news","all rooms"]"#
        ]
    );

    raw.send("41/room-1,").await;
    eventually("/room-1 removed", || io.namespace("/room-1").is_none()).await;
    assert_eq!(parent.children().len(), 1);
    assert!(io.namespace("/room-2").is_some());

    // A new CONNECT creates it again.
    raw.join("/room-1").await;
    assert!(io.namespace("/room-1").is_some());
    assert_eq!(parent.children().len(), 2);
}

#[tokio::test]
async fn without_cleanup_children_stay() {
    let (io, parent) = server(false);
    let addr = serve(&io).await;
    let mut raw = Raw::open(addr).await;
    raw.join("/room-1").await;
    raw.send("41/room-1,").await;
    eventually("the socket left", || {
        io.namespace("/room-1").is_some_and(|ns| ns.is_empty())
    })
    .await;
    assert_eq!(parent.children().len(), 1);
}
