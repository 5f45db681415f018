//! The core-chat example in-process: three TCP clients, rooms, and who
//! gets what.

use std::time::Duration;

use roomcast_examples::core_chat;
use roomcast_testkit::within;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

struct Client {
    id: String,
    lines: Lines<BufReader<OwnedReadHalf>>,
    write: OwnedWriteHalf,
}

impl Client {
    async fn connect(addr: std::net::SocketAddr) -> Client {
        let (read, write) = TcpStream::connect(addr).await.unwrap().into_split();
        let mut client = Client {
            id: String::new(),
            lines: BufReader::new(read).lines(),
            write,
        };
        let welcome = client.recv().await;
        client.id = welcome["welcome"]
            .as_str()
            .expect("a welcome line")
            .to_string();
        client
    }

    async fn send(&mut self, line: &str) {
        self.write
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
    }

    async fn recv(&mut self) -> Value {
        let line = within("a line", self.lines.next_line())
            .await
            .unwrap()
            .expect("the connection is open");
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"))
    }

    /// Asserts nothing arrives for a while.
    async fn nothing(&mut self) {
        let got = tokio::time::timeout(Duration::from_millis(300), self.lines.next_line()).await;
        assert!(got.is_err(), "unexpected line: {got:?}");
    }
}

async fn start() -> std::net::SocketAddr {
    roomcast_testkit::spawn_server(core_chat::serve).await.0
}

#[tokio::test]
async fn rooms_deliver_to_members_only() {
    let addr = start().await;
    let mut a = Client::connect(addr).await;
    let mut b = Client::connect(addr).await;
    let mut c = Client::connect(addr).await;

    a.send(r#"{"join":"lobby"}"#).await;
    b.send(r#"{"join":"lobby"}"#).await;
    assert_eq!(a.recv().await, json!({"joined": "lobby"}));
    assert_eq!(b.recv().await, json!({"joined": "lobby"}));

    a.send(r#"{"say":"hi lobby","to":"lobby"}"#).await;
    assert_eq!(
        b.recv().await,
        json!({"from": a.id, "to": "lobby", "text": "hi lobby"})
    );
    c.nothing().await; // not in the room
    a.nothing().await; // not echoed to the sender

    // A plain line goes to everyone else.
    c.send("hello all").await;
    let expected = json!({"from": c.id, "text": "hello all"});
    assert_eq!(a.recv().await, expected);
    assert_eq!(b.recv().await, expected);
    c.nothing().await;

    // After leaving, b gets nothing more from the room.
    b.send(r#"{"leave":"lobby"}"#).await;
    assert_eq!(b.recv().await, json!({"left": "lobby"}));
    a.send(r#"{"say":"still there?","to":"lobby"}"#).await;
    b.nothing().await;
}

#[tokio::test]
async fn bad_commands_are_answered_with_errors() {
    let addr = start().await;
    let mut a = Client::connect(addr).await;
    a.send(r#"{"dance":true}"#).await;
    assert!(a.recv().await["error"].is_string());
    a.send("{not json").await;
    assert!(a.recv().await["error"].is_string());
    a.send("").await; // ignored
    a.send(r#"{"join":"x"}"#).await;
    assert_eq!(a.recv().await, json!({"joined": "x"}));
}

#[tokio::test]
async fn a_departed_client_is_out_of_its_rooms() {
    let addr = start().await;
    let mut a = Client::connect(addr).await;
    let mut b = Client::connect(addr).await;
    b.send(r#"{"join":"r"}"#).await;
    assert_eq!(b.recv().await, json!({"joined": "r"}));
    drop(b);
    // Sending to the room of a departed client neither fails nor blocks.
    a.send(r#"{"say":"anyone?","to":"r"}"#).await;
    a.send(r#"{"join":"r"}"#).await;
    assert_eq!(a.recv().await, json!({"joined": "r"}));
}
