//! Reading a client's `Sec-WebSocket-Extensions` offers and choosing the
//! parameters (RFC 7692 §5, §7.1). See the [module docs](super).

use std::fmt::Write;

use super::PerMessageDeflate;

/// The `permessage-deflate` parameters agreed with one client.
///
/// Returned by [`handshake::accept_with`](crate::handshake::accept_with)
/// and handed to [`WsConnection::with_deflate`](crate::WsConnection::with_deflate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Negotiated {
    pub(crate) threshold: usize,
    pub(crate) level: u32,
    pub(crate) server_no_context_takeover: bool,
    pub(crate) client_no_context_takeover: bool,
    pub(crate) server_window: u8,
    pub(crate) client_window: u8,
    /// Whether `client_max_window_bits` goes into the answer.
    pub(crate) answer_client_window: bool,
}

impl Negotiated {
    /// Whether the server compresses every message on its own.
    pub fn server_no_context_takeover(&self) -> bool {
        self.server_no_context_takeover
    }

    /// Whether the client compresses every message on its own.
    pub fn client_no_context_takeover(&self) -> bool {
        self.client_no_context_takeover
    }

    /// The server's LZ77 window, in bits.
    pub fn server_max_window_bits(&self) -> u8 {
        self.server_window
    }

    /// The client's LZ77 window, in bits.
    pub fn client_max_window_bits(&self) -> u8 {
        self.client_window
    }

    /// The `Sec-WebSocket-Extensions` value of the `101` answer.
    pub(crate) fn header(&self) -> String {
        let mut h = String::from("permessage-deflate");
        if self.server_no_context_takeover {
            h.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            h.push_str("; client_no_context_takeover");
        }
        if self.server_window < 15 {
            let _ = write!(h, "; server_max_window_bits={}", self.server_window);
        }
        if self.answer_client_window {
            let _ = write!(h, "; client_max_window_bits={}", self.client_window);
        }
        h
    }
}

impl std::fmt::Display for Negotiated {
    /// The `Sec-WebSocket-Extensions` value that answers the offer.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.header())
    }
}

/// The first acceptable `permessage-deflate` offer among the header values,
/// with the server's settings applied.
pub(crate) fn negotiate<'a>(
    offers: impl Iterator<Item = &'a str>,
    config: &PerMessageDeflate,
) -> Option<Negotiated> {
    offers
        .flat_map(|value| value.split(','))
        .find_map(|offer| accept_offer(offer, config))
}

/// One offer: `permessage-deflate; param[=value]; …`.
fn accept_offer(offer: &str, config: &PerMessageDeflate) -> Option<Negotiated> {
    let mut parts = offer.split(';').map(str::trim);
    if !parts.next()?.eq_ignore_ascii_case("permessage-deflate") {
        return None;
    }
    let server_max = config.server_max_window_bits.clamp(9, 15);
    let client_max = config.client_max_window_bits.clamp(9, 15);
    let mut seen = [false; 4];
    let mut agreed = Negotiated {
        threshold: config.threshold,
        level: config.level.min(9),
        server_no_context_takeover: config.server_no_context_takeover,
        client_no_context_takeover: config.client_no_context_takeover,
        server_window: server_max,
        client_window: client_max,
        answer_client_window: false,
    };
    for param in parts {
        if param.is_empty() {
            continue;
        }
        let (name, value) = match param.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
            None => (param, None),
        };
        let slot = match name.to_ascii_lowercase().as_str() {
            "server_no_context_takeover" if value.is_none() => {
                agreed.server_no_context_takeover = true;
                0
            }
            "client_no_context_takeover" if value.is_none() => {
                agreed.client_no_context_takeover = true;
                1
            }
            "server_max_window_bits" => {
                let bits = window_bits(value?)?;
                if bits < 9 {
                    // zlib cannot compress with a 256-byte window.
                    return None;
                }
                agreed.server_window = bits.min(server_max);
                2
            }
            "client_max_window_bits" => {
                if let Some(v) = value {
                    agreed.client_window = window_bits(v)?.clamp(9, client_max);
                }
                agreed.answer_client_window = true;
                3
            }
            _ => return None,
        };
        if std::mem::replace(&mut seen[slot], true) {
            return None;
        }
    }
    Some(agreed)
}

/// A window size, 8 to 15, in decimal without leading zeros.
fn window_bits(v: &str) -> Option<u8> {
    if v.starts_with('0') {
        return None;
    }
    v.parse().ok().filter(|b| (8..=15).contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(offers: &[&str], config: PerMessageDeflate) -> Option<String> {
        negotiate(offers.iter().copied(), &config).map(|n| n.header())
    }

    #[test]
    fn answers_the_offers_browsers_and_ws_send() {
        let d = PerMessageDeflate::default();
        // Chromium and Node's ws.
        assert_eq!(
            answer(&["permessage-deflate; client_max_window_bits"], d).as_deref(),
            Some("permessage-deflate; client_max_window_bits=15")
        );
        assert_eq!(
            answer(&["permessage-deflate"], d).as_deref(),
            Some("permessage-deflate")
        );
        assert_eq!(answer(&["x-webkit-deflate-frame"], d), None);
        assert_eq!(answer(&[], d), None);
    }

    #[test]
    fn applies_rfc7692_parameters() {
        let d = PerMessageDeflate {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: 12,
            client_max_window_bits: 10,
            ..PerMessageDeflate::default()
        };
        assert_eq!(
            answer(&["permessage-deflate; client_max_window_bits"], d).as_deref(),
            Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=10")
        );
        // The client's smaller window wins.
        let n = negotiate(
            ["permessage-deflate; server_max_window_bits=10; client_max_window_bits=9"].into_iter(),
            &d,
        )
        .unwrap();
        assert_eq!((n.server_window, n.client_window), (10, 9));
        // The client's requests are granted with a default server.
        let n = negotiate(
            ["permessage-deflate; server_no_context_takeover; client_no_context_takeover"]
                .into_iter(),
            &PerMessageDeflate::default(),
        )
        .unwrap();
        assert!(n.server_no_context_takeover && n.client_no_context_takeover);
    }

    #[test]
    fn declines_bad_offers_and_takes_the_next() {
        let d = PerMessageDeflate::default();
        for bad in [
            "permessage-deflate; server_max_window_bits=8",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=010",
            "permessage-deflate; unknown",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover=1",
        ] {
            assert_eq!(answer(&[bad], d), None, "{bad}");
        }
        assert_eq!(
            answer(
                &["permessage-deflate; foo, permessage-deflate; server_max_window_bits=\"11\""],
                d
            )
            .as_deref(),
            Some("permessage-deflate; server_max_window_bits=11")
        );
    }
}
