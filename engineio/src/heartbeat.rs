//! The heartbeat's clock: when the next ping is due and whether a pong is
//! awaited.
//!
//! `interval` after the session opens, and after each pong, a ping is due;
//! once sent, the client has `timeout` to answer. A pong that comes when
//! none is awaited changes nothing. The session ([`Socket`](crate::Socket))
//! sends the ping and closes on a late pong; this module only keeps time.
//!
//! Engine.IO v3 runs the other way ([`Heartbeat::client_pings`]): the
//! client pings, and the session times out `interval + timeout` after the
//! last ping (or its opening); nothing is ever due but the timeout.
//!
//! The clock also keeps the session's expiry, if the layer above set one
//! ([`Heartbeat::expire_at`]: Socket.IO's connect timeout): at that instant
//! the session ends, whatever the heartbeat's state.

use std::time::{Duration, Instant};

use parking_lot::Mutex;
use roomcast_core::CloseReason;
use tokio::sync::futures::Notified;
use tokio::sync::Notify;

/// What is due at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    /// Nothing yet.
    Nothing,
    /// A ping: it is now counted as sent, and its pong awaited.
    Ping,
    /// The session ends: the pong is late ([`CloseReason::PingTimeout`]),
    /// or the expiry set by [`Heartbeat::expire_at`] has come
    /// ([`CloseReason::Forced`]).
    End(CloseReason),
}

#[derive(Debug)]
struct Clock {
    /// When the next ping is due, or, while a pong is awaited, when it is late.
    due: Instant,
    awaiting_pong: bool,
    expires: Option<Instant>,
}

/// One session's heartbeat clock.
#[derive(Debug)]
pub(crate) struct Heartbeat {
    /// Whether the client pings (Engine.IO v3) instead of the server.
    client_pings: bool,
    interval: Duration,
    timeout: Duration,
    clock: Mutex<Clock>,
    pong: Notify,
}

impl Heartbeat {
    /// A clock whose first ping is due `interval` from now.
    pub(crate) fn new(interval: Duration, timeout: Duration) -> Self {
        Heartbeat {
            client_pings: false,
            interval,
            timeout,
            clock: Mutex::new(Clock {
                due: Instant::now() + interval,
                awaiting_pong: false,
                expires: None,
            }),
            pong: Notify::new(),
        }
    }

    /// A clock for a client that pings (Engine.IO v3): the session times
    /// out `interval + timeout` from now unless [`Heartbeat::client_ping`]
    /// moves it.
    pub(crate) fn client_pings(interval: Duration, timeout: Duration) -> Self {
        let window = interval + timeout;
        Heartbeat {
            client_pings: true,
            interval: window,
            timeout: window,
            clock: Mutex::new(Clock {
                due: Instant::now() + window,
                awaiting_pong: false,
                expires: None,
            }),
            pong: Notify::new(),
        }
    }

    /// The client pinged (v3): the timeout moves to a full window from now,
    /// and [`Heartbeat::pong_received`] wakes.
    pub(crate) fn client_ping(&self) {
        self.clock.lock().due = Instant::now() + self.interval;
        self.pong.notify_one();
    }

    /// When something is next due.
    pub(crate) fn deadline(&self) -> Instant {
        let clock = self.clock.lock();
        clock.expires.map_or(clock.due, |at| at.min(clock.due))
    }

    /// Sets (or, with `None`, cancels) the session's expiry; wakes
    /// [`Heartbeat::pong_received`] so that the deadline is read again.
    pub(crate) fn expire_at(&self, at: Option<Instant>) {
        self.clock.lock().expires = at;
        self.pong.notify_one();
    }

    /// A pong arrived: the next ping is due `interval` from now (if one was
    /// awaited), and [`Heartbeat::pong_received`] wakes.
    pub(crate) fn pong(&self) {
        {
            let mut clock = self.clock.lock();
            if clock.awaiting_pong {
                clock.awaiting_pong = false;
                clock.due = Instant::now() + self.interval;
            }
        }
        self.pong.notify_one();
    }

    /// Completes at the next pong, or the next client ping in v3 (the
    /// deadline may have moved).
    pub(crate) fn pong_received(&self) -> Notified<'_> {
        self.pong.notified()
    }

    /// What is due at `now`; a ping is counted as sent when returned.
    /// Early and repeated calls return [`Due::Nothing`].
    pub(crate) fn due(&self, now: Instant) -> Due {
        let mut clock = self.clock.lock();
        if clock.expires.is_some_and(|at| at <= now) {
            return Due::End(CloseReason::Forced);
        }
        if now < clock.due {
            return Due::Nothing;
        }
        if clock.awaiting_pong || self.client_pings {
            return Due::End(CloseReason::PingTimeout);
        }
        clock.awaiting_pong = true;
        clock.due = now + self.timeout;
        Due::Ping
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_then_timeout_unless_a_pong_comes() {
        let hb = Heartbeat::new(Duration::from_secs(1), Duration::from_secs(2));
        let start = Instant::now();
        assert_eq!(hb.due(start), Due::Nothing);
        let t1 = hb.deadline();
        assert_eq!(hb.due(t1), Due::Ping);
        assert_eq!(
            hb.due(t1),
            Due::Nothing,
            "a repeated call sends no second ping"
        );
        assert_eq!(hb.due(hb.deadline()), Due::End(CloseReason::PingTimeout));
        hb.pong();
        assert!(hb.deadline() > Instant::now() + Duration::from_millis(500));
        assert_eq!(hb.due(Instant::now()), Due::Nothing);
    }

    #[test]
    fn an_expiry_comes_first_and_can_be_cancelled() {
        let hb = Heartbeat::new(Duration::from_secs(10), Duration::from_secs(2));
        let ping = hb.deadline();
        let at = Instant::now() + Duration::from_secs(1);
        hb.expire_at(Some(at));
        assert_eq!(hb.deadline(), at);
        assert_eq!(hb.due(at - Duration::from_millis(1)), Due::Nothing);
        assert_eq!(hb.due(at), Due::End(CloseReason::Forced));
        hb.expire_at(None);
        assert_eq!(hb.deadline(), ping);
        assert_eq!(hb.due(at), Due::Nothing);
        hb.expire_at(Some(ping + Duration::from_secs(60)));
        assert_eq!(hb.deadline(), ping, "a later expiry leaves the ping first");
    }

    #[test]
    fn a_client_driven_clock_only_times_out_and_each_ping_moves_it() {
        let hb = Heartbeat::client_pings(Duration::from_secs(1), Duration::from_secs(2));
        let first = hb.deadline();
        assert!(first >= Instant::now() + Duration::from_millis(2500));
        assert_eq!(hb.due(Instant::now()), Due::Nothing);
        std::thread::sleep(Duration::from_millis(5));
        hb.client_ping();
        assert!(hb.deadline() > first, "a ping moves the timeout");
        assert_eq!(hb.due(hb.deadline()), Due::End(CloseReason::PingTimeout));
        hb.pong();
        assert_eq!(
            hb.due(hb.deadline()),
            Due::End(CloseReason::PingTimeout),
            "a pong changes nothing"
        );
    }
}
