//! A WebSocket connection reading arbitrary bytes from its peer, cut into
//! reads of sizes the input chooses: never panics, and always ends with a
//! reason once the peer is gone, having told the endpoint once.
#![no_main]
use std::sync::Mutex;

use libfuzzer_sys::fuzz_target;
use roomcast_core::{CloseReason, Endpoint, Frame, Outbox, OutboxConfig};
use roomcast_transport_ws::{WsConfig, WsConnection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Sink {
    outbox: Outbox,
    closed: Mutex<u32>,
}

impl Endpoint for Sink {
    fn outbox(&self) -> &Outbox {
        &self.outbox
    }
    fn receive(&self, _frame: Frame) -> Result<(), CloseReason> {
        Ok(())
    }
    fn transport_closed(&self, _reason: CloseReason) {
        *self.closed.lock().unwrap() += 1;
    }
}

fuzz_target!(|data: &[u8]| {
    // The first byte chooses the read size, the rest is what the peer sends.
    let Some((&chunk, bytes)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1) * 7;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (client, server) = tokio::io::duplex(chunk);
        let (mut from_server, mut to_server) = tokio::io::split(client);
        let sink = Sink {
            outbox: Outbox::new(OutboxConfig::default()),
            closed: Mutex::new(0),
        };
        let config = WsConfig {
            max_message_size: 4096,
            close_grace: std::time::Duration::from_millis(100),
            ..WsConfig::default()
        };
        let serve = WsConnection::new(server, config).serve(&sink);
        let feed = async move {
            for piece in bytes.chunks(chunk) {
                if to_server.write_all(piece).await.is_err() {
                    break;
                }
            }
            let _ = to_server.shutdown().await;
        };
        // The peer reads (and drops) whatever the server writes.
        let read = async move {
            let mut buf = [0u8; 512];
            while matches!(from_server.read(&mut buf).await, Ok(n) if n > 0) {}
        };
        let (reason, (), ()) = tokio::join!(serve, feed, read);
        assert!(matches!(
            reason,
            CloseReason::TransportClose | CloseReason::TransportError
        ));
        assert_eq!(*sink.closed.lock().unwrap(), 1);
    });
});
