//! The admin namespace (`admin-ui` feature) at the packet level: a
//! readonly server offers no operation and ignores them; a bad login is
//! refused with `invalid credentials`; a good one gets a session id that
//! logs in again; a password hash that is not bcrypt is refused at start;
//! without `instrument` there is no admin namespace.

#![cfg(feature = "admin-ui")]

mod common;

use std::time::Duration;

use common::{eventually, serve, Raw};
use roomcast_socketio::admin::{self, AdminError, AdminOptions};
use roomcast_socketio::{ClientId, Server};
use serde_json::Value;

/// The next EVENT of `/admin` named `name`, skipping the others.
async fn event(raw: &mut Raw, name: &str) -> Vec<Value> {
    loop {
        let text = raw.text().await;
        let Some(body) = text.strip_prefix("42/admin,") else {
            continue;
        };
        let args: Vec<Value> = serde_json::from_str(body).expect("event JSON");
        if args[0] == name {
            return args[1..].to_vec();
        }
    }
}

#[tokio::test]
async fn readonly_offers_and_applies_no_operation() {
    let io = Server::new();
    let options = AdminOptions {
        readonly: true,
        stats_interval: Duration::from_millis(100),
        ..AdminOptions::no_auth()
    };
    admin::instrument(&io, options).expect("instrument");
    let addr = serve(&io).await;
    let (_client, sid) = Raw::connect(addr, "/").await;
    let (mut ui, _) = Raw::connect(addr, "/admin").await;
    let config = event(&mut ui, "config").await;
    assert_eq!(
        config[0]["supportedFeatures"],
        serde_json::json!(["AGGREGATED_EVENTS", "ALL_EVENTS"])
    );
    ui.send(&format!("42/admin,[\"join\",\"/\",\"nope\",\"{sid}\"]"))
        .await;
    ui.send(&format!("42/admin,[\"_disconnect\",\"/\",false,\"{sid}\"]"))
        .await;
    let stats = event(&mut ui, "server_stats").await;
    assert_eq!(stats[0]["namespaces"][0]["name"], "/");
    let id: ClientId = sid.parse().expect("id");
    let socket = io.main().socket(id).expect("still connected");
    assert!(!socket.rooms().iter().any(|r| r.as_str() == "nope"));
}

#[tokio::test]
async fn a_bad_login_is_refused_and_a_session_logs_in_again() {
    let io = Server::new();
    let hash = bcrypt::hash("pw", 4).expect("hash");
    admin::instrument(&io, AdminOptions::basic_auth("ops", hash)).expect("instrument");
    let addr = serve(&io).await;

    let mut intruder = Raw::open(addr).await;
    intruder
        .send("40/admin,{\"username\":\"ops\",\"password\":\"wrong\"}")
        .await;
    assert_eq!(
        intruder.text().await,
        "44/admin,{\"message\":\"invalid credentials\"}"
    );

    let mut ui = Raw::open(addr).await;
    ui.send("40/admin,{\"username\":\"ops\",\"password\":\"pw\"}")
        .await;
    assert!(ui.text().await.starts_with("40/admin,{\"sid\":"));
    let session = event(&mut ui, "session").await;
    let session = session[0].as_str().expect("a session id").to_string();
    assert_eq!(session.len(), 16);

    let mut again = Raw::open(addr).await;
    again
        .send(&format!("40/admin,{{\"sessionId\":\"{session}\"}}"))
        .await;
    assert!(again.text().await.starts_with("40/admin,{\"sid\":"));
    let io2 = io.clone();
    eventually("two admin sockets", move || {
        io2.namespace("/admin").is_some_and(|ns| ns.len() == 2)
    })
    .await;
}

#[tokio::test]
async fn a_hash_that_is_not_bcrypt_is_refused_and_no_instrument_no_namespace() {
    let io = Server::new();
    let refused = admin::instrument(&io, AdminOptions::basic_auth("ops", "plain-text"));
    assert!(
        matches!(refused, Err(AdminError::InvalidHash(_))),
        "{refused:?}"
    );
    assert!(io.namespace("/admin").is_none());
    let addr = serve(&io).await;
    let mut raw = Raw::open(addr).await;
    raw.send("40/admin,").await;
    assert_eq!(
        raw.text().await,
        "44/admin,{\"message\":\"Invalid namespace\"}"
    );
}

/// The UI's operations reach sockets on another node, and `all_sockets`
/// lists them.
#[tokio::test]
async fn operations_reach_the_sockets_of_other_nodes() {
    use roomcast_core::cluster::memory::MemoryBus;
    use roomcast_core::cluster::Cluster;
    let bus = MemoryBus::new();
    let node = || {
        Server::builder()
            .cluster(bus.node() as std::sync::Arc<dyn Cluster>)
            .build()
    };
    let (a, b) = (node(), node());
    admin::instrument(&a, AdminOptions::no_auth()).expect("instrument");
    let (pa, pb) = (serve(&a).await, serve(&b).await);
    let (mut client, sid) = Raw::connect(pb, "/").await;

    let (mut ui, _) = Raw::connect(pa, "/admin").await;
    let all = event(&mut ui, "all_sockets").await;
    assert!(
        all[0]
            .as_array()
            .expect("sockets")
            .iter()
            .any(|s| s["id"] == sid.as_str()),
        "{all:?}"
    );
    ui.send(&format!("42/admin,[\"join\",\"/\",\"from-ui\",\"{sid}\"]"))
        .await;
    let id: ClientId = sid.parse().expect("id");
    let b2 = b.clone();
    eventually("the join on the other node", move || {
        b2.main()
            .socket(id)
            .is_some_and(|s| s.rooms().iter().any(|r| r.as_str() == "from-ui"))
    })
    .await;
    ui.send("42/admin,[\"emit\",\"/\",\"from-ui\",\"hello\",1]")
        .await;
    assert_eq!(client.text().await, "42[\"hello\",1]");
    ui.send(&format!("42/admin,[\"_disconnect\",\"/\",false,\"{sid}\"]"))
        .await;
    assert_eq!(client.text().await, "41");
}
