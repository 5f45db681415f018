//! [`Args`]: a list of values that spreads into separate event arguments.
//!
//! `Args(vec![a, b])` emitted as event `"ev"` is `["ev",a,b]` on the wire,
//! and decoding into `Args<T>` collects every argument. Outside the Socket.IO
//! encoders it behaves like the inner `Vec` (a JSON array).

use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};
use serde::ser::{Serialize, Serializer};

/// The newtype name the argument (de)serializers recognise.
pub(crate) const ARGS_MAGIC: &str = "$roomcast::Args";

/// A variable number of event arguments.
///
/// ```
/// use roomcast_socketio::parser::{encode_event, Args};
/// use roomcast_core::Frame;
/// let msg = encode_event("/", "ev", &Args(vec![1, 2, 3]), None).unwrap();
/// assert_eq!(msg.frames()[0], Frame::text("42[\"ev\",1,2,3]"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Args<T>(pub Vec<T>);

impl<T> Args<T> {
    /// The arguments.
    pub fn into_inner(self) -> Vec<T> {
        self.0
    }
}

impl<T> From<Vec<T>> for Args<T> {
    fn from(v: Vec<T>) -> Self {
        Args(v)
    }
}

impl<T: Serialize> Serialize for Args<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_struct(ARGS_MAGIC, &self.0)
    }
}

/// [`Args`] borrowing its list: `ArgsRef(&[a, b])` is the arguments `a`,
/// `b` too.
pub(crate) struct ArgsRef<'a, T>(pub &'a [T]);

impl<T: Serialize> Serialize for ArgsRef<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_struct(ARGS_MAGIC, self.0)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Args<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(ARGS_MAGIC, ArgsVisitor(std::marker::PhantomData))
    }
}

struct ArgsVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ArgsVisitor<T> {
    type Value = Args<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of arguments")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Vec::deserialize(d).map(Args)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Vec::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(Args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_json_is_an_array() {
        assert_eq!(serde_json::to_string(&Args(vec![1, 2])).unwrap(), "[1,2]");
        let a: Args<u8> = serde_json::from_str("[3,4]").unwrap();
        assert_eq!(a, Args(vec![3, 4]));
        assert_eq!(a.into_inner(), vec![3, 4]);
    }
}
