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

use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// Text known to be valid UTF-8, stored as shared bytes.
///
/// ```
/// use roomcast_core::Text;
/// let t = Text::from("4hello");
/// assert_eq!(t.as_str(), "4hello");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Text(Bytes);

impl Text {
    /// Wraps bytes after checking that they are UTF-8.
    pub fn from_utf8(bytes: Bytes) -> Result<Self, std::str::Utf8Error> {
        std::str::from_utf8(&bytes)?;
        Ok(Text(bytes))
    }

    /// Text from a static string, without copying.
    pub const fn from_static(s: &'static str) -> Self {
        Text(Bytes::from_static(s.as_bytes()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Invariant: the bytes were checked (or came from a `str`) on construction.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The underlying bytes (UTF-8).
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// The underlying bytes (UTF-8).
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// The text from byte `start` on, sharing the same buffer.
    ///
    /// Returns `None` when `start` is not a character boundary.
    pub fn slice_from(&self, start: usize) -> Option<Text> {
        if self.as_str().is_char_boundary(start) {
            Some(Text(self.0.slice(start..)))
        } else {
            None
        }
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
        Text(Bytes::from(s))
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(Bytes::copy_from_slice(s.as_bytes()))
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
