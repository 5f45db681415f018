//! Frames and messages: the units a transport carries.
//!
//! A [`Frame`] is one text or binary frame, its payload a shared
//! [`bytes::Bytes`]: cloning a frame never copies the payload, so a broadcast
//! encodes once and every recipient's queue holds the same bytes.
//!
//! A [`Message`] is one or more frames that belong together (for Socket.IO, a
//! packet header followed by its binary attachments). A message is queued and
//! delivered as a unit: its frames are contiguous in every recipient's queue,
//! and a message either fits in the queue whole or is not queued at all.
//!
//! A text frame may be marked *not to be compressed*
//! ([`Text::uncompressed`], [`Message::compress`]): a transport that
//! compresses (WebSocket permessage-deflate, gzip on long-polling) sends it
//! as it is. The mark travels with the frame through every queue; it is not
//! part of the frame's value (equality and hashing look at the bytes only).

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use bytestring::ByteString;
use serde::{Deserialize, Serialize};

/// Text known to be valid UTF-8, stored as shared bytes: checked once,
/// when made from bytes; reading it as a `str` costs nothing after.
///
/// ```
/// use roomcast_core::Text;
/// let t = Text::from("4hello");
/// assert_eq!(t.as_str(), "4hello");
/// ```
#[derive(Clone, Default)]
pub struct Text(ByteString, NoCompress);

/// Whether a text frame must be sent uncompressed (`compress(false)`).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct NoCompress(bool);

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for Text {}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}

impl Text {
    /// Wraps bytes after checking that they are UTF-8.
    pub fn from_utf8(bytes: Bytes) -> Result<Self, std::str::Utf8Error> {
        Ok(Text(ByteString::try_from(bytes)?, NoCompress(false)))
    }

    /// Text from a static string, without copying.
    pub const fn from_static(s: &'static str) -> Self {
        Text(ByteString::from_static(s), NoCompress(false))
    }

    /// The same text, marked to be sent uncompressed (the `compress(false)`
    /// of an emit).
    ///
    /// ```
    /// use roomcast_core::Text;
    /// let t = Text::from("4hello");
    /// assert!(t.compress());
    /// assert!(!t.uncompressed().compress());
    /// ```
    pub fn uncompressed(self) -> Text {
        Text(self.0, NoCompress(true))
    }

    /// Whether a compressing transport may compress this text (true unless
    /// marked with [`Text::uncompressed`]).
    pub fn compress(&self) -> bool {
        !self.1 .0
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The underlying bytes (UTF-8).
    pub fn as_bytes(&self) -> &Bytes {
        self.0.as_bytes()
    }

    /// The underlying bytes (UTF-8).
    pub fn into_bytes(self) -> Bytes {
        self.0.into_bytes()
    }

    /// The text from byte `start` on, sharing the same buffer.
    ///
    /// Returns `None` when `start` is not a character boundary.
    pub fn slice_from(&self, start: usize) -> Option<Text> {
        let rest = self.0.get(start..)?;
        Some(Text(self.0.slice_ref(rest), self.1))
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(ByteString::from(s), NoCompress(false))
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(ByteString::from(s), NoCompress(false))
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Text::from(String::deserialize(d)?))
    }
}

/// One frame: text or binary.
///
/// ```
/// use roomcast_core::Frame;
/// let f = Frame::text("4hello");
/// assert_eq!(f.len(), 6);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frame {
    /// A text frame.
    Text(Text),
    /// A binary frame.
    Binary(Bytes),
}

impl Frame {
    /// A text frame.
    pub fn text(s: impl Into<Text>) -> Self {
        Frame::Text(s.into())
    }

    /// A binary frame.
    pub fn binary(b: impl Into<Bytes>) -> Self {
        Frame::Binary(b.into())
    }

    /// Payload length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Frame::Text(t) => t.len(),
            Frame::Binary(b) => b.len(),
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a compressing transport may compress this frame: binary
    /// frames always, text frames unless marked [`Text::uncompressed`].
    pub fn compress(&self) -> bool {
        match self {
            Frame::Text(t) => t.compress(),
            Frame::Binary(_) => true,
        }
    }
}

/// One or more frames queued and delivered as a unit.
///
/// ```
/// use roomcast_core::{Frame, Message};
/// let m = Message::from(Frame::text("hi"));
/// assert_eq!(m.frames().len(), 1);
/// let m = Message::many(vec![Frame::text("451-[\"f\",{\"_placeholder\":true,\"num\":0}]"), Frame::binary(vec![1, 2])]);
/// assert_eq!(m.frames().len(), 2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A single frame (the common case; no allocation beyond the payload).
    One(Frame),
    /// Several frames that must stay together and in order.
    Many(Arc<[Frame]>),
}

impl Message {
    /// A message of several frames; a single frame becomes [`Message::One`].
    pub fn many(mut frames: Vec<Frame>) -> Self {
        if frames.len() == 1 {
            if let Some(f) = frames.pop() {
                return Message::One(f);
            }
        }
        Message::Many(frames.into())
    }

    /// The same message, its text frames marked to be sent uncompressed
    /// when `compress` is false (the `compress(false)` of an emit); as it
    /// is when `compress` is true. Binary frames carry no mark: a
    /// compressing transport applies its threshold to them.
    ///
    /// ```
    /// use roomcast_core::{Frame, Message};
    /// let m = Message::from(Frame::text("42[\"hi\"]")).compress(false);
    /// assert!(!m.frames()[0].compress());
    /// ```
    pub fn compress(self, compress: bool) -> Self {
        if compress {
            return self;
        }
        let mark = |f: &Frame| match f {
            Frame::Text(t) => Frame::Text(t.clone().uncompressed()),
            Frame::Binary(b) => Frame::Binary(b.clone()),
        };
        match self {
            Message::One(f) => Message::One(mark(&f)),
            Message::Many(fs) => Message::Many(fs.iter().map(mark).collect()),
        }
    }

    /// The frames, in order.
    pub fn frames(&self) -> &[Frame] {
        match self {
            Message::One(f) => std::slice::from_ref(f),
            Message::Many(fs) => fs,
        }
    }
}

impl From<Frame> for Message {
    fn from(f: Frame) -> Self {
        Message::One(f)
    }
}

/// A message given away ([`Outbox::push`](crate::Outbox::push) moves its
/// frames in).
impl From<Message> for Cow<'_, Message> {
    fn from(m: Message) -> Self {
        Cow::Owned(m)
    }
}

/// A message lent ([`Outbox::push`](crate::Outbox::push) copies its frames:
/// a reference count each).
impl<'a> From<&'a Message> for Cow<'a, Message> {
    fn from(m: &'a Message) -> Self {
        Cow::Borrowed(m)
    }
}
