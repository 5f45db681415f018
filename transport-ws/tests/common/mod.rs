//! The client side of RFC 6455 written byte by byte, shared by the
//! connection and `permessage-deflate` tests.

// Each test binary uses only part of this module.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use roomcast_core::{CloseReason, Endpoint, Frame, Outbox, OutboxConfig};
use roomcast_testkit::frame::put_client_frame;
use roomcast_testkit::within;
use tokio::io::{AsyncReadExt, DuplexStream};

/// An endpoint that records what happens to it.
pub struct Probe {
    pub outbox: Outbox,
    pub got: Mutex<Vec<Frame>>,
    pub closed: Mutex<Vec<CloseReason>>,
    pub deadline: Mutex<Option<Instant>>,
    pub ticks: AtomicUsize,
}

impl Probe {
    pub fn new(outbox: OutboxConfig) -> Arc<Self> {
        Arc::new(Probe {
            outbox: Outbox::new(outbox),
            got: Mutex::new(Vec::new()),
            closed: Mutex::new(Vec::new()),
            deadline: Mutex::new(None),
            ticks: AtomicUsize::new(0),
        })
    }

    pub fn got(&self) -> Vec<Frame> {
        self.got.lock().clone()
    }
}

impl Endpoint for Probe {
    fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    fn receive(&self, frame: Frame) -> Result<(), CloseReason> {
        self.got.lock().push(frame);
        Ok(())
    }

    fn transport_closed(&self, reason: CloseReason) {
        self.closed.lock().push(reason);
    }

    fn deadline(&self) -> Option<Instant> {
        *self.deadline.lock()
    }

    fn on_deadline(&self) -> Result<(), CloseReason> {
        self.ticks.fetch_add(1, Ordering::SeqCst);
        *self.deadline.lock() = None;
        Ok(())
    }
}

/// A client frame: masked, as every client frame must be; `rsv1` marks a
/// compressed message.
pub fn client_frame(fin: bool, rsv1: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let first = if fin { 0x80 } else { 0 } | if rsv1 { 0x40 } else { 0 } | opcode;
    let mut out = Vec::with_capacity(payload.len() + 14);
    put_client_frame(&mut out, first, [0x37, 0xFA, 0x21, 0x3D], payload);
    out
}

/// Reads one server frame, which is never masked: its first byte (FIN,
/// reserved bits, opcode) and its payload.
pub async fn read_frame(client: &mut DuplexStream) -> (u8, Vec<u8>) {
    within("a frame", async {
        let mut head = [0u8; 2];
        client.read_exact(&mut head).await.expect("frame header");
        assert_eq!(head[1] & 0x80, 0, "server frames are not masked");
        let len = match head[1] & 0x7F {
            126 => u64::from(client.read_u16().await.expect("length")),
            127 => client.read_u64().await.expect("length"),
            n => u64::from(n),
        };
        let mut payload = vec![0; len as usize];
        client.read_exact(&mut payload).await.expect("payload");
        (head[0], payload)
    })
    .await
}
