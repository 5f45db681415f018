//! WebSocket compression: the `permessage-deflate` extension (RFC 7692).
//!
//! Semantics:
//! - **Off unless configured**: the extension is negotiated only when the
//!   server was given a [`PerMessageDeflate`] and the client offers it; the
//!   first acceptable offer wins (RFC 7692 §5). An offer with an unknown or
//!   repeated parameter, or a window size out of range, is declined (the
//!   next one is tried; with none left the connection goes uncompressed).
//! - **Parameters** (§7): `server_no_context_takeover` is granted when the
//!   client asks or the server is configured so; `client_no_context_takeover`
//!   is answered when the client offers it or the server is configured so;
//!   `server_max_window_bits` is the smaller of the client's request and the
//!   server's setting (a request below 9, which zlib cannot honour, declines
//!   the offer); `client_max_window_bits` is answered only when the client
//!   offered it, with the smaller of its value and the server's setting.
//! - **Outbound**: a data message whose payload has at least
//!   [`PerMessageDeflate::threshold`] bytes (and is not marked
//!   `compress(false)`) is compressed and sent with RSV1 set; smaller ones
//!   go as they are, RSV1 clear. Control frames are never compressed.
//! - **Inbound**: a message whose first frame has RSV1 set is inflated in
//!   bounded steps; one that would inflate past the connection's
//!   `max_message_size` closes with 1009 before more is allocated (a
//!   decompression bomb costs at most the limit). Corrupt data closes with
//!   1002; RSV1 without the extension, on a control frame or on a
//!   continuation frame, too.
//! - **Memory**: an idle connection holds no zlib state. With context
//!   takeover a connection allocates its compressor (or decompressor) with
//!   the first message that needs it and keeps it; without, the state
//!   is reset after every message, so it is one per thread, shared by the
//!   thread's connections.
//! - **Broadcasts**: with `server_no_context_takeover` the compressed bytes
//!   of a payload are the same for every recipient, so they are computed
//!   once per thread and reused for the next recipients of the same shared
//!   payload (see `codec.rs`). With context takeover each connection
//!   compresses with its own context.

mod codec;
pub(crate) mod negotiate;

pub(crate) use codec::Deflate;
pub use negotiate::Negotiated;

/// Server settings for `permessage-deflate`, as Node's `perMessageDeflate`.
///
/// ```
/// use roomcast_transport_ws::PerMessageDeflate;
/// let d = PerMessageDeflate { server_no_context_takeover: true, ..PerMessageDeflate::default() };
/// assert_eq!(d.threshold, 1024);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerMessageDeflate {
    /// Messages smaller than this many bytes are sent uncompressed
    /// (default 1024, as Node).
    pub threshold: usize,
    /// The zlib compression level, 0 to 9 (default 6, zlib's default, as
    /// Node).
    pub level: u32,
    /// Compress every message on its own, so a broadcast is compressed once
    /// for all its recipients and a connection keeps no compressor between
    /// messages (default false, as Node).
    pub server_no_context_takeover: bool,
    /// Ask clients to compress every message on its own, so the server keeps
    /// no decompressor per connection (default false, as Node).
    pub client_no_context_takeover: bool,
    /// The largest LZ77 window the server compresses with, 9 to 15
    /// (default 15).
    pub server_max_window_bits: u8,
    /// The largest window clients are asked to compress with, 9 to 15
    /// (default 15; sent only to clients that offer the parameter).
    pub client_max_window_bits: u8,
}

impl PerMessageDeflate {
    /// The parameters agreed for a client's `Sec-WebSocket-Extensions`
    /// value (the first acceptable offer), for servers that answer the
    /// handshake themselves; [`handshake::accept_with`](crate::handshake::accept_with)
    /// calls it.
    ///
    /// ```
    /// use roomcast_transport_ws::PerMessageDeflate;
    /// let agreed = PerMessageDeflate::default()
    ///     .negotiate("permessage-deflate; client_max_window_bits=10")
    ///     .unwrap();
    /// assert_eq!(agreed.client_max_window_bits(), 10);
    /// assert_eq!(agreed.to_string(), "permessage-deflate; client_max_window_bits=10");
    /// ```
    pub fn negotiate(&self, offers: &str) -> Option<Negotiated> {
        negotiate::negotiate(std::iter::once(offers), self)
    }
}

impl Default for PerMessageDeflate {
    fn default() -> Self {
        PerMessageDeflate {
            threshold: 1024,
            level: 6,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}
