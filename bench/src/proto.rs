//! Engine.IO v4 / Socket.IO v5 text packets, by hand.
//!
//! Only what a client of the main namespace `/` needs: the Engine.IO open
//! packet, ping (`2`) answered with pong (`3`), namespace connect (`40`),
//! events (`42["name",...]`, `42<id>[...]` with an ack id) and acks
//! (`43<id>[...]`). Parsing never builds a JSON tree for events and acks:
//! the generator only reads the integers it put at the front of its own
//! payloads (timestamps, batch numbers).

use std::fmt::Write;

/// What a text frame from the server is.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// Engine.IO open (`0{...}`), with its JSON.
    Open(&'a str),
    /// Engine.IO close (`1`).
    Close,
    /// Engine.IO ping (`2`): answer [`PONG`].
    Ping,
    /// Socket.IO CONNECT reply (`40...`).
    Connected,
    /// Socket.IO DISCONNECT (`41`).
    Disconnect,
    /// Socket.IO CONNECT_ERROR (`44...`).
    ConnectError(&'a str),
    /// Socket.IO EVENT: its name and the text after the name (`,1,2]`).
    Event { name: &'a str, rest: &'a str },
    /// Socket.IO ACK: its id and its argument array (`[...]`).
    Ack { id: u64, args: &'a str },
    /// Anything else (Engine.IO noop, binary packets, other namespaces).
    Other,
}

/// The Engine.IO pong.
pub const PONG: &str = "3";
/// Socket.IO CONNECT to `/`.
pub const CONNECT: &str = "40";

/// Parses a text frame.
pub fn parse(text: &str) -> Incoming<'_> {
    let b = text.as_bytes();
    match b.first() {
        Some(b'0') => Incoming::Open(&text[1..]),
        Some(b'1') => Incoming::Close,
        Some(b'2') => Incoming::Ping,
        Some(b'4') => parse_socketio(&text[1..]),
        _ => Incoming::Other,
    }
}

fn parse_socketio(text: &str) -> Incoming<'_> {
    let Some(&kind) = text.as_bytes().first() else {
        return Incoming::Other;
    };
    let body = &text[1..];
    if body.starts_with('/') {
        // Another namespace than `/`.
        return Incoming::Other;
    }
    match kind {
        b'0' => Incoming::Connected,
        b'1' => Incoming::Disconnect,
        b'4' => Incoming::ConnectError(body),
        b'2' => {
            let (_, data) = split_id(body);
            match data.strip_prefix("[\"") {
                Some(named) => match named.find('"') {
                    Some(end) => Incoming::Event {
                        name: &named[..end],
                        rest: &named[end + 1..],
                    },
                    None => Incoming::Other,
                },
                None => Incoming::Other,
            }
        }
        b'3' => match split_id(body) {
            (Some(id), args) => Incoming::Ack { id, args },
            (None, _) => Incoming::Other,
        },
        _ => Incoming::Other,
    }
}

fn split_id(body: &str) -> (Option<u64>, &str) {
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return (None, body);
    }
    (body[..digits].parse().ok(), &body[digits..])
}

/// The first `N` unsigned integers in `text`, skipping anything but digits
/// before each (`,[12,345,"x"]` gives 12 and 345). Stops at a `"` so digits
/// inside strings are never read. `None` if fewer than `N` were found.
pub fn leading_ints<const N: usize>(text: &str) -> Option<[u64; N]> {
    let mut out = [0u64; N];
    let mut found = 0;
    let mut bytes = text.bytes().peekable();
    while found < N {
        // Skip separators up to the next digit.
        loop {
            match bytes.peek() {
                Some(b) if b.is_ascii_digit() => break,
                Some(b'"') | None => return None,
                Some(_) => {
                    bytes.next();
                }
            }
        }
        let mut n: u64 = 0;
        while let Some(&b) = bytes.peek() {
            if !b.is_ascii_digit() {
                break;
            }
            n = n.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
            bytes.next();
        }
        out[found] = n;
        found += 1;
    }
    Some(out)
}

/// Appends `,"xxx…"` (`len` bytes of padding) if `len > 0`.
pub fn push_padding(out: &mut String, len: usize) {
    if len > 0 {
        out.push_str(",\"");
        out.extend(std::iter::repeat_n('x', len));
        out.push('"');
    }
}

/// `42["name",<ints…>,"pad"]`, or `42<id>[…]` with an ack id.
pub fn event(name: &str, ack: Option<u64>, ints: &[u64], padding: usize) -> String {
    let mut out = String::with_capacity(16 + name.len() + 12 * ints.len() + padding);
    out.push_str("42");
    if let Some(id) = ack {
        let _ = write!(out, "{id}");
    }
    out.push_str("[\"");
    out.push_str(name);
    out.push('"');
    for n in ints {
        let _ = write!(out, ",{n}");
    }
    push_padding(&mut out, padding);
    out.push(']');
    out
}

/// `42<id>["join","<room>"]`.
pub fn join(room: &str, ack: u64) -> String {
    format!("42{ack}[\"join\",{}]", json_string(room))
}

/// `42<id>["fanout",{"room":…,"count":…,"payload":[<ints…>,"pad"]}]`.
pub fn fanout(room: &str, count: u32, ack: u64, ints: &[u64], padding: usize) -> String {
    let mut out = format!(
        "42{ack}[\"fanout\",{{\"room\":{},\"count\":{count},\"payload\":[",
        json_string(room)
    );
    for (i, n) in ints.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{n}");
    }
    push_padding(&mut out, padding);
    out.push_str("]}]");
    out
}

/// Raw mode's frame: the integers separated by spaces, then the padding.
pub fn raw(ints: &[u64], padding: usize) -> String {
    let mut out = String::with_capacity(12 * ints.len() + padding + 1);
    for (i, n) in ints.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{n}");
    }
    if padding > 0 {
        out.push(' ');
        out.extend(std::iter::repeat_n('x', padding));
    }
    out
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_packets() {
        assert_eq!(parse("2"), Incoming::Ping);
        assert_eq!(parse("0{\"sid\":\"a\"}"), Incoming::Open("{\"sid\":\"a\"}"));
        assert_eq!(parse("40{\"sid\":\"a\"}"), Incoming::Connected);
        assert_eq!(
            parse("42[\"echo\",12,\"xx\"]"),
            Incoming::Event {
                name: "echo",
                rest: ",12,\"xx\"]"
            }
        );
        assert_eq!(
            parse("4312[5]"),
            Incoming::Ack {
                id: 12,
                args: "[5]"
            }
        );
        assert_eq!(parse("42/chat,[\"x\"]"), Incoming::Other);
        assert_eq!(parse("6"), Incoming::Other);
    }

    #[test]
    fn reads_leading_ints() {
        assert_eq!(leading_ints::<2>(",[7,123,\"x9\"]]"), Some([7, 123]));
        assert_eq!(leading_ints::<1>(",55]"), Some([55]));
        assert_eq!(leading_ints::<2>(",[7,\"9\"]"), None);
        assert_eq!(leading_ints::<2>("3 44 xxx"), Some([3, 44]));
    }

    #[test]
    fn builds_packets() {
        assert_eq!(event("echo", None, &[5], 2), "42[\"echo\",5,\"xx\"]");
        assert_eq!(event("echo-ack", Some(3), &[5], 0), "423[\"echo-ack\",5]");
        assert_eq!(join("r", 1), "421[\"join\",\"r\"]");
        assert_eq!(
            fanout("r", 2, 9, &[1, 2], 1),
            "429[\"fanout\",{\"room\":\"r\",\"count\":2,\"payload\":[1,2,\"x\"]}]"
        );
        assert_eq!(raw(&[1, 2], 3), "1 2 xxx");
    }
}
