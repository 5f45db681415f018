//! Where an Engine.IO session is in its life: [`Phase`]. The session
//! ([`Socket`](crate::Socket)) holds one and owns every transition; this
//! module only names the states.

use crate::config::TransportKind;

/// Where a session is in its life. The transitions are
/// [`Socket`](crate::Socket) methods:
///
/// | from | to | method | called by |
/// |---|---|---|---|
/// | `Polling` | `Upgrading` | `begin_upgrade` | an upgrade request |
/// | `Upgrading` | `Probed` | `probe_answered` | the upgrade task, after `3probe` |
/// | `Probed` | `WebSocket` | `finish_upgrade` | the upgrade task, on `5` |
/// | `Upgrading`, `Probed` | `Polling` | `abandon_upgrade` | the upgrade task, on failure or timeout |
/// | any but `Closed` | `Closed` | `shutdown` (and `close`) | whoever closes first |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// On long-polling, no upgrade under way.
    Polling,
    /// On long-polling; a WebSocket for the session is connecting and has
    /// not answered the probe yet.
    Upgrading,
    /// The WebSocket answered the probe: held GETs are answered at once so
    /// that the client pauses polling, until it sends `5` on the WebSocket.
    Probed,
    /// On WebSocket (from the handshake, or after the upgrade).
    WebSocket,
    /// Closed, on this transport.
    Closed(TransportKind),
}

impl Phase {
    pub(crate) fn transport(self) -> TransportKind {
        match self {
            Phase::Polling | Phase::Upgrading | Phase::Probed => TransportKind::Polling,
            Phase::WebSocket => TransportKind::WebSocket,
            Phase::Closed(transport) => transport,
        }
    }
}

/// A polling request that is under way (GET or POST).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PollRequest {
    Get,
    Post,
}
