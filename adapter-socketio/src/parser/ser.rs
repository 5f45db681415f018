//! Serializing event arguments: spreading rules and binary placeholders.
//!
//! How a value becomes arguments is decided by its *first* serializer call
//! (a cheap probe that stops right there):
//!
//! - `serialize_tuple` / `serialize_tuple_struct`: one argument per element;
//! - `serialize_unit` / `serialize_unit_struct`: no argument;
//! - `serialize_newtype_struct` named [`ARGS_MAGIC`] ([`Args`](super::Args)):
//!   one argument per element of the inner list;
//! - anything else: one argument.
//!
//! The value is then serialized through [`PlaceholderSerializer`], which
//! wraps any serializer and replaces every `serialize_bytes` call, at any
//! depth, with `{"_placeholder":true,"num":N}` while appending the bytes to
//! the attachment list.

use std::cell::Cell;
use std::fmt::{self, Display};

use bytes::Bytes;
use serde::ser::{self, Serialize, Serializer};
use serde_json::Value;

use super::args::ARGS_MAGIC;
use super::ser_placeholder::PlaceholderSerializer;
use super::EncodeError;

/// How a top-level value maps to arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Each element is an argument.
    Spread,
    /// No argument.
    Unit,
    /// The value is one argument.
    Single,
}

pub(crate) fn shape_of<T: Serialize + ?Sized>(value: &T) -> Shape {
    match value.serialize(Probe) {
        Err(Found(shape)) => shape,
        // Serialized nothing at all: an odd impl; treat it as a value.
        Ok(()) => Shape::Single,
    }
}

/// Writes the JSON data array of an event (`event` given: `["event",args..]`)
/// or of an ack (`[args..]`) to `out`, bytes replaced by placeholders.
pub(crate) fn write_args<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    event: Option<&str>,
    args: &T,
    attachments: &Cell<Vec<Bytes>>,
) -> Result<(), serde_json::Error> {
    let shape = shape_of(args);
    let has_event = event.is_some();
    if let Some(event) = event {
        out.push(b'[');
        serde_json::to_writer(&mut *out, event)?;
    }
    match shape {
        Shape::Unit => {
            if !has_event {
                out.push(b'[');
            }
        }
        Shape::Single => {
            out.push(if has_event { b',' } else { b'[' });
            write_value(out, args, attachments)?;
        }
        Shape::Spread => {
            let start = out.len();
            write_value(out, args, attachments)?;
            if out.get(start) != Some(&b'[') {
                // Not an array after all (inconsistent impl): one argument.
                out.insert(start, if has_event { b',' } else { b'[' });
            } else {
                // The value wrote `[a,b]` and the closing `]` below would
                // double it: drop its last `]`, and merge its `[` into the
                // outer array.
                out.pop();
                if has_event {
                    if out.len() == start + 1 {
                        out.truncate(start);
                    } else if let Some(open) = out.get_mut(start) {
                        *open = b',';
                    }
                }
            }
        }
    }
    out.push(b']');
    Ok(())
}

fn write_value<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
    attachments: &Cell<Vec<Bytes>>,
) -> Result<(), serde_json::Error> {
    let mut ser = serde_json::Serializer::new(out);
    value.serialize(PlaceholderSerializer::new(&mut ser, attachments))
}

/// Turns typed arguments into a JSON data array plus attachments, following
/// the argument rules (for parsers other than the default JSON one, whose
/// [`encode_value`](super::Parser::encode_value) takes a value).
///
/// With `event`, the array starts with the event name (an event's data);
/// without, it is an ack's data.
///
/// ```
/// use roomcast_socketio::parser::args_to_value;
/// let (data, attachments) =
///     args_to_value(Some("ev"), &("a", bytes::Bytes::from_static(b"\x01"))).unwrap();
/// assert_eq!(data, serde_json::json!(["ev", "a", {"_placeholder": true, "num": 0}]));
/// assert_eq!(attachments.len(), 1);
/// ```
pub fn args_to_value<T: Serialize + ?Sized>(
    event: Option<&str>,
    args: &T,
) -> Result<(Value, Vec<Bytes>), EncodeError> {
    let attachments = Cell::new(Vec::new());
    let mut items = Vec::new();
    if let Some(event) = event {
        items.push(Value::String(event.to_owned()));
    }
    let shape = shape_of(args);
    if shape != Shape::Unit {
        let value = args.serialize(PlaceholderSerializer::new(
            serde_json::value::Serializer,
            &attachments,
        ))?;
        match (shape, value) {
            (Shape::Spread, Value::Array(elements)) => items.extend(elements),
            (_, value) => items.push(value),
        }
    }
    Ok((Value::Array(items), attachments.take()))
}

/// One value as JSON with its binary parts in Node's JSON form of a Buffer,
/// `{"type":"Buffer","data":[bytes]}` (what Node's `JSON.stringify` makes
/// of a Buffer, as in the JSON messages between servers of a cluster).
pub(crate) fn to_node_json<T: Serialize + ?Sized>(value: &T) -> Result<Value, EncodeError> {
    let attachments = Cell::new(Vec::new());
    let value = value.serialize(PlaceholderSerializer::new(
        serde_json::value::Serializer,
        &attachments,
    ))?;
    Ok(with_node_buffers(value, &attachments.take()))
}

/// Replaces the placeholders of `value` by Node's JSON form of their
/// attachment.
pub(crate) fn with_node_buffers(value: Value, attachments: &[Bytes]) -> Value {
    match value {
        Value::Object(map) if map.get("_placeholder") == Some(&Value::Bool(true)) => {
            let data = map
                .get("num")
                .and_then(Value::as_u64)
                .and_then(|n| attachments.get(usize::try_from(n).ok()?))
                .map(|b| b.iter().map(|x| Value::from(*x)).collect())
                .unwrap_or_default();
            serde_json::json!({ "type": "Buffer", "data": Value::Array(data) })
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, with_node_buffers(v, attachments)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| with_node_buffers(v, attachments))
                .collect(),
        ),
        other => other,
    }
}

/// The probe's answer, carried as its "error" to stop serialization at the
/// first call.
#[derive(Debug)]
struct Found(Shape);

impl Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "argument shape {:?}", self.0)
    }
}

impl std::error::Error for Found {}

impl ser::Error for Found {
    fn custom<T: Display>(_msg: T) -> Self {
        // The real pass will report the error.
        Found(Shape::Single)
    }
}

/// Stops at the first serializer call and reports the value's [`Shape`].
struct Probe;

/// Serializer methods that all fail with one error: `$err`, evaluated at
/// each call. The methods are named as `forward_to_deserialize_any!` names
/// them (`bool`, `seq`, `newtype_variant`…): their signatures are written
/// here, once.
macro_rules! refuse {
    (@ $e:expr, bool) => { refuse!(@fn $e, serialize_bool(bool) -> ()); };
    (@ $e:expr, i8) => { refuse!(@fn $e, serialize_i8(i8) -> ()); };
    (@ $e:expr, i16) => { refuse!(@fn $e, serialize_i16(i16) -> ()); };
    (@ $e:expr, i32) => { refuse!(@fn $e, serialize_i32(i32) -> ()); };
    (@ $e:expr, i64) => { refuse!(@fn $e, serialize_i64(i64) -> ()); };
    (@ $e:expr, i128) => { refuse!(@fn $e, serialize_i128(i128) -> ()); };
    (@ $e:expr, u8) => { refuse!(@fn $e, serialize_u8(u8) -> ()); };
    (@ $e:expr, u16) => { refuse!(@fn $e, serialize_u16(u16) -> ()); };
    (@ $e:expr, u32) => { refuse!(@fn $e, serialize_u32(u32) -> ()); };
    (@ $e:expr, u64) => { refuse!(@fn $e, serialize_u64(u64) -> ()); };
    (@ $e:expr, u128) => { refuse!(@fn $e, serialize_u128(u128) -> ()); };
    (@ $e:expr, f32) => { refuse!(@fn $e, serialize_f32(f32) -> ()); };
    (@ $e:expr, f64) => { refuse!(@fn $e, serialize_f64(f64) -> ()); };
    (@ $e:expr, char) => { refuse!(@fn $e, serialize_char(char) -> ()); };
    (@ $e:expr, str) => { refuse!(@fn $e, serialize_str(&str) -> ()); };
    (@ $e:expr, bytes) => { refuse!(@fn $e, serialize_bytes(&[u8]) -> ()); };
    (@ $e:expr, none) => { refuse!(@fn $e, serialize_none() -> ()); };
    (@ $e:expr, some) => { refuse!(@fn $e, serialize_some<T>(&T) -> ()); };
    (@ $e:expr, unit) => { refuse!(@fn $e, serialize_unit() -> ()); };
    (@ $e:expr, unit_struct) => { refuse!(@fn $e, serialize_unit_struct(&'static str) -> ()); };
    (@ $e:expr, unit_variant) => {
        refuse!(@fn $e, serialize_unit_variant(&'static str, u32, &'static str) -> ());
    };
    (@ $e:expr, newtype_variant) => {
        refuse!(@fn $e, serialize_newtype_variant<T>(&'static str, u32, &'static str, &T) -> ());
    };
    (@ $e:expr, seq) => { refuse!(@fn $e, serialize_seq(Option<usize>) -> Self::SerializeSeq); };
    (@ $e:expr, tuple) => { refuse!(@fn $e, serialize_tuple(usize) -> Self::SerializeTuple); };
    (@ $e:expr, tuple_struct) => {
        refuse!(@fn $e, serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct);
    };
    (@ $e:expr, tuple_variant) => {
        refuse!(@fn $e, serialize_tuple_variant(&'static str, u32, &'static str, usize)
            -> Self::SerializeTupleVariant);
    };
    (@ $e:expr, map) => { refuse!(@fn $e, serialize_map(Option<usize>) -> Self::SerializeMap); };
    (@ $e:expr, struct) => {
        refuse!(@fn $e, serialize_struct(&'static str, usize) -> Self::SerializeStruct);
    };
    (@ $e:expr, struct_variant) => {
        refuse!(@fn $e, serialize_struct_variant(&'static str, u32, &'static str, usize)
            -> Self::SerializeStructVariant);
    };
    (@fn $e:expr, $method:ident$(<$g:ident>)?($($ty:ty),*) -> $ret:ty) => {
        fn $method$(<$g: ::serde::Serialize + ?Sized>)?(self, $(_: $ty),*) -> Result<$ret, Self::Error> {
            Err($e)
        }
    };
    ($err:expr; $($method:tt)*) => {$( refuse!(@ $err, $method); )*};
}

/// The associated types of a serializer of one scalar, whose compound
/// serializers can never be reached.
macro_rules! scalar_only {
    ($error:ty) => {
        type Ok = ();
        type Error = $error;
        type SerializeSeq = ::serde::ser::Impossible<(), $error>;
        type SerializeTuple = ::serde::ser::Impossible<(), $error>;
        type SerializeTupleStruct = ::serde::ser::Impossible<(), $error>;
        type SerializeTupleVariant = ::serde::ser::Impossible<(), $error>;
        type SerializeMap = ::serde::ser::Impossible<(), $error>;
        type SerializeStruct = ::serde::ser::Impossible<(), $error>;
        type SerializeStructVariant = ::serde::ser::Impossible<(), $error>;
    };
}

pub(crate) use {refuse, scalar_only};

impl Serializer for Probe {
    scalar_only!(Found);

    refuse! { Found(Shape::Single);
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str bytes none some
        unit_variant newtype_variant seq tuple_variant map struct struct_variant
    }

    fn serialize_unit(self) -> Result<(), Found> {
        Err(Found(Shape::Unit))
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Found> {
        Err(Found(Shape::Unit))
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Found> {
        Err(Found(Shape::Spread))
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Found> {
        Err(Found(Shape::Spread))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        _: &T,
    ) -> Result<(), Found> {
        Err(Found(if name == ARGS_MAGIC {
            Shape::Spread
        } else {
            Shape::Single
        }))
    }

    fn collect_str<T: Display + ?Sized>(self, _: &T) -> Result<(), Found> {
        Err(Found(Shape::Single))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::Args;
    use serde::Serialize;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn value<T: Serialize + ?Sized>(event: Option<&str>, args: &T) -> (Value, Vec<Bytes>) {
        args_to_value(event, args).unwrap()
    }

    #[test]
    fn shapes() {
        assert_eq!(shape_of(&(1, 2)), Shape::Spread);
        assert_eq!(shape_of(&Args(vec![1])), Shape::Spread);
        assert_eq!(shape_of(&()), Shape::Unit);
        assert_eq!(shape_of(&vec![1]), Shape::Single);
        assert_eq!(shape_of("x"), Shape::Single);
        assert_eq!(shape_of(&Some((1, 2))), Shape::Single);
        assert_eq!(shape_of(&Bytes::new()), Shape::Single);
    }

    #[test]
    fn to_value_rules() {
        assert_eq!(value(Some("ev"), &("a", 1)).0, json!(["ev", "a", 1]));
        assert_eq!(value(Some("ev"), &()).0, json!(["ev"]));
        assert_eq!(value(Some("ev"), "hi").0, json!(["ev", "hi"]));
        assert_eq!(value(Some("ev"), &vec![1, 2]).0, json!(["ev", [1, 2]]));
        assert_eq!(value(Some("ev"), &Args(vec![1, 2])).0, json!(["ev", 1, 2]));
        assert_eq!(value(None, &()).0, json!([]));
        assert_eq!(value(None, &(1,)).0, json!([1]));
        assert_eq!(value(None, &json!({"a": 1})).0, json!([{"a": 1}]));
    }

    #[test]
    fn bytes_at_any_depth() {
        #[derive(Serialize)]
        enum E {
            Blob(Bytes),
            Pair { a: Bytes, b: Option<Bytes> },
        }
        let mut map = BTreeMap::new();
        map.insert("k", Bytes::from_static(b"m"));
        let args = (
            Bytes::from_static(b"0"),
            vec![E::Blob(Bytes::from_static(b"1"))],
            E::Pair {
                a: Bytes::from_static(b"2"),
                b: Some(Bytes::from_static(b"3")),
            },
            map,
        );
        let (data, atts) = value(Some("ev"), &args);
        let ph = |n: usize| json!({"_placeholder": true, "num": n});
        assert_eq!(
            data,
            json!(["ev", ph(0), [{"Blob": ph(1)}], {"Pair": {"a": ph(2), "b": ph(3)}}, {"k": ph(4)}])
        );
        let atts: Vec<&[u8]> = atts.iter().map(|b| &b[..]).collect();
        assert_eq!(atts, [b"0", b"1", b"2", b"3", b"m"]);

        // The JSON writer produces the same text.
        let cell = Cell::new(Vec::new());
        let mut out = Vec::new();
        write_args(&mut out, Some("ev"), &args, &cell).unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&out).unwrap(), data);
        assert_eq!(cell.take().len(), 5);
    }
}
