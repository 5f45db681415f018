//! Why a reconnection attempt failed, told from the error the attempt
//! ended with, and the count of each cause.
//!
//! A failure is one of the generator's own (it could not open a socket or
//! find a source port: the machine's limits, not the server's doing), a
//! refusal at TCP connect (nothing listening: the server restarting), or a
//! handshake error the client saw from the server: no answer within the
//! set-up timeout, an HTTP status other than `200` / `101`, a connection
//! reset or closed in the middle, or a packet the client did not expect.
//!
//! The errors reach the storm as `io::Error`s, many of them made from the
//! text of a hyper or tungstenite error ([`crate::client::io_err`]): the
//! cause is read from the OS error number where there is one (also when
//! it only survives in the text, as `(os error N)`), else from the kind,
//! else from the text. The first error of each cause is kept so a report
//! can show what it was.

use std::io;

/// Why an attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// `ECONNREFUSED`: nothing listening on the port yet.
    Refused,
    /// `EMFILE` / `ENFILE` in the generator: no descriptor for a socket.
    FdLimit,
    /// `EADDRNOTAVAIL`: no free source port for the generator's address.
    NoSourcePort,
    /// The set-up did not finish within its timeout.
    Timeout,
    /// An HTTP status other than `200` (polling) or `101` (WebSocket).
    HttpStatus,
    /// A connection reset or closed in the middle of the set-up.
    Reset,
    /// A packet the client did not expect (a CONNECT error, a close, no
    /// open packet, an answer to the probe other than `3probe`).
    BadPacket,
    /// None of the above.
    Other,
}

impl Cause {
    /// Every cause, in the order they are reported.
    pub const ALL: [Cause; 8] = [
        Cause::Refused,
        Cause::FdLimit,
        Cause::NoSourcePort,
        Cause::Timeout,
        Cause::HttpStatus,
        Cause::Reset,
        Cause::BadPacket,
        Cause::Other,
    ];

    /// What it is, in a sentence.
    pub fn label(self) -> &'static str {
        match self {
            Cause::Refused => "server not listening yet",
            Cause::FdLimit => "fd limit",
            Cause::NoSourcePort => "no source port",
            Cause::Timeout => "timeout",
            Cause::HttpStatus => "HTTP status",
            Cause::Reset => "reset",
            Cause::BadPacket => "bad packet",
            Cause::Other => "other",
        }
    }

    /// The name in reports (a JSON key).
    pub fn name(self) -> &'static str {
        match self {
            Cause::Refused => "refused",
            Cause::FdLimit => "generator_fd_limit",
            Cause::NoSourcePort => "generator_no_source_port",
            Cause::Timeout => "timeout",
            Cause::HttpStatus => "http_status",
            Cause::Reset => "reset",
            Cause::BadPacket => "bad_packet",
            Cause::Other => "other",
        }
    }

    /// The generator could not make the attempt: not the server's doing.
    pub fn is_generator(self) -> bool {
        matches!(self, Cause::FdLimit | Cause::NoSourcePort)
    }

    /// A handshake error as the client sees it: the attempt reached the
    /// server and failed there (or got no answer in time).
    pub fn is_handshake_error(self) -> bool {
        !self.is_generator() && self != Cause::Refused
    }

    /// The cause of an attempt that ended with `e`.
    pub fn of(e: &io::Error) -> Cause {
        if let Some(code) = e.raw_os_error().or_else(|| os_error_in(&e.to_string())) {
            return Cause::of_errno(code);
        }
        match e.kind() {
            io::ErrorKind::ConnectionRefused => return Cause::Refused,
            io::ErrorKind::TimedOut => return Cause::Timeout,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof => return Cause::Reset,
            _ => {}
        }
        Cause::of_text(&e.to_string())
    }

    fn of_errno(code: i32) -> Cause {
        match code {
            libc::ECONNREFUSED => Cause::Refused,
            libc::EMFILE | libc::ENFILE => Cause::FdLimit,
            libc::EADDRNOTAVAIL => Cause::NoSourcePort,
            libc::ETIMEDOUT => Cause::Timeout,
            libc::ECONNRESET | libc::ECONNABORTED | libc::EPIPE => Cause::Reset,
            _ => Cause::Other,
        }
    }

    /// From the text of an error made by `io_err` (the set-up's own
    /// messages, hyper's and tungstenite's).
    fn of_text(text: &str) -> Cause {
        let text = text.to_ascii_lowercase();
        let has = |s: &str| text.contains(s);
        if has("timed out") {
            Cause::Timeout
        } else if text.starts_with("http ") || has("http error") {
            Cause::HttpStatus
        } else if has("unexpected")
            || has("connect error")
            || has("during connect")
            || has("no open packet")
        {
            Cause::BadPacket
        } else if has("reset")
            || has("closed")
            || has("connection error")
            || has("error reading a body")
        {
            Cause::Reset
        } else {
            Cause::Other
        }
    }
}

/// The OS error number in a text ending like `... (os error 24)`.
fn os_error_in(text: &str) -> Option<i32> {
    let start = text.rfind("(os error ")? + "(os error ".len();
    let rest = &text[start..];
    rest[..rest.find(')')?].parse().ok()
}

/// Failed attempts counted by cause, with the first error of each.
#[derive(Default)]
pub struct Failures {
    counts: [u64; Cause::ALL.len()],
    first: [Option<String>; Cause::ALL.len()],
}

impl Failures {
    /// Counts a failed attempt; its cause.
    pub fn count(&mut self, e: &io::Error) -> Cause {
        let cause = Cause::of(e);
        let i = Cause::ALL.iter().position(|c| *c == cause).unwrap_or(0);
        self.counts[i] += 1;
        self.first[i].get_or_insert_with(|| e.to_string());
        cause
    }

    /// How many failed with `cause`.
    pub fn get(&self, cause: Cause) -> u64 {
        Cause::ALL
            .iter()
            .position(|c| *c == cause)
            .map_or(0, |i| self.counts[i])
    }

    /// The total of the causes `which` selects.
    pub fn total(&self, which: impl Fn(Cause) -> bool) -> u64 {
        Cause::ALL
            .iter()
            .filter(|c| which(**c))
            .map(|c| self.get(*c))
            .sum()
    }

    /// "timeout 0, reset 2" for the causes `which` selects.
    pub fn breakdown(&self, which: impl Fn(Cause) -> bool) -> String {
        Cause::ALL
            .iter()
            .filter(|c| which(**c))
            .map(|c| format!("{} {}", c.label(), self.get(*c)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `{cause: count}` for every cause.
    pub fn to_json(&self) -> serde_json::Value {
        Cause::ALL
            .iter()
            .map(|c| (c.name().to_string(), self.get(*c).into()))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }

    /// One line per cause that occurred: its count and first error.
    pub fn lines(&self) -> Vec<String> {
        Cause::ALL
            .iter()
            .zip(&self.first)
            .filter_map(|(c, first)| {
                let first = first.as_deref()?;
                Some(format!("{} {} (first: {first})", c.name(), self.get(*c)))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_from_os_errors_kinds_and_texts() {
        let os = io::Error::from_raw_os_error;
        let text = |s: &str| io::Error::other(s.to_string());
        let cases = [
            (os(libc::EMFILE), Cause::FdLimit),
            (os(libc::EADDRNOTAVAIL), Cause::NoSourcePort),
            (os(libc::ECONNREFUSED), Cause::Refused),
            (
                text("IO error: Too many open files (os error 24)"),
                Cause::FdLimit,
            ),
            (text("connection setup timed out"), Cause::Timeout),
            (
                text("HTTP 400 Bad Request: {\"code\":1}"),
                Cause::HttpStatus,
            ),
            (
                text("HTTP error: 503 Service Unavailable"),
                Cause::HttpStatus,
            ),
            (
                text("WebSocket protocol error: Connection reset without closing handshake"),
                Cause::Reset,
            ),
            (
                text("connection closed before message completed"),
                Cause::Reset,
            ),
            (text("unexpected \"6\" during the probe"), Cause::BadPacket),
            (text("closed during connect"), Cause::BadPacket),
            (
                io::Error::from(io::ErrorKind::ConnectionReset),
                Cause::Reset,
            ),
            (text("something else"), Cause::Other),
        ];
        for (e, cause) in cases {
            assert_eq!(Cause::of(&e), cause, "{e}");
        }
    }

    #[test]
    fn counts_and_totals() {
        let mut f = Failures::default();
        f.count(&io::Error::from_raw_os_error(libc::EMFILE));
        f.count(&io::Error::other("connection setup timed out"));
        f.count(&io::Error::other("connection setup timed out"));
        f.count(&io::Error::from_raw_os_error(libc::ECONNREFUSED));
        assert_eq!(f.get(Cause::Timeout), 2);
        assert_eq!(f.total(Cause::is_handshake_error), 2);
        assert_eq!(f.total(Cause::is_generator), 1);
        assert_eq!(f.to_json()["refused"], 1);
        assert_eq!(f.lines().len(), 3);
        assert_eq!(
            f.breakdown(Cause::is_generator),
            "fd limit 1, no source port 0"
        );
    }
}
