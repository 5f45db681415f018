//! roomcast-transport-polling: the HTTP long-polling transport.
//!
//! Long-polling carries frames in HTTP request bodies: the client holds a GET
//! open until the server has something to send, and POSTs what it sends.
//! This crate owns the parts that do not depend on the session protocol:
//! - [`payload`]: the body format (Engine.IO v4: packets separated by the
//!   record separator `\x1e`, binary as `b` + base64), and [`payload_v3`]
//!   (Engine.IO v3: length-prefixed packets, text or binary form).
//! - [`body`]: reading a request body with a size limit.
//! - [`wait_for_frames`]: holding a GET until frames are queued.
//!
//! The session layer (roomcast-engineio) decides what a request means for a
//! session (handshake, upgrade, errors).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod body;
pub mod payload;
pub mod payload_v3;

use std::future::Future;

use roomcast_core::{CloseReason, Frame, Outbox};

/// How a held GET ended (named apart from `std::task::Poll`).
#[derive(Debug, PartialEq, Eq)]
pub enum PollOutcome {
    /// Frames to send (possibly with the close that followed them).
    Frames(Vec<Frame>, Option<CloseReason>),
    /// The wait was interrupted (e.g. the session is upgrading); nothing was
    /// taken from the outbox.
    Interrupted,
}

/// Holds a GET until the outbox has frames or is closed, or `interrupt`
/// completes. Takes every queued frame at once.
///
/// Cancel-safe: if the future is dropped while waiting, nothing is lost.
pub async fn wait_for_frames(outbox: &Outbox, interrupt: impl Future<Output = ()>) -> PollOutcome {
    tokio::pin!(interrupt);
    tokio::select! {
        biased;
        _ = &mut interrupt => PollOutcome::Interrupted,
        _ = outbox.ready() => {
            let mut frames = Vec::new();
            let closed = outbox.drain(&mut frames);
            PollOutcome::Frames(frames, closed)
        }
    }
}
