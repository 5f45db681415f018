//! Deserializing an event's arguments straight from its JSON text:
//! [`decode_event_args`].
//!
//! The same argument rules as [`decode_args`](super::decode_args) (a tuple
//! takes the arguments in order, missing ones read as `null`;
//! [`Args`](super::Args) takes them all; unit accepts anything; anything
//! else reads the first), applied to an `EVENT` still held as text
//! ([`EventJson`]): the array is split into its elements' text, and each
//! element is read by serde_json into the listener's type, with no
//! [`Value`] built in between.
//!
//! An event kept as text carries no attachments, so no placeholder can
//! resolve. What this path refuses, the caller decodes again through
//! values, which also read Node's JSON form of a Buffer
//! (`{"type":"Buffer","data":[…]}`) as bytes: the result is the same as
//! through values whenever this path fails.

use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

use super::de::{ArgList, Spread};
use super::{DecodeError, EventJson};

/// Decodes the arguments of `event` (its name left out) into `T`: read
/// from the text straight into `T`, or, where that fails, through values
/// (then with the values' result, error included).
pub(crate) fn decode_event_args<T: DeserializeOwned>(event: &EventJson) -> Result<T, DecodeError> {
    from_text(event).or_else(|_| super::decode_args(&event.args()?, &[]))
}

/// The arguments read from the text into `T`.
fn from_text<T: DeserializeOwned>(event: &EventJson) -> Result<T, DecodeError> {
    let items: Vec<&RawValue> =
        serde_json::from_str(event.as_str()).map_err(DecodeError::InvalidJson)?;
    T::deserialize(Spread(TextArgs {
        args: items.get(1..).unwrap_or_default(),
    }))
}

/// The arguments' texts (the argument rules are `de::Spread`'s).
struct TextArgs<'a, 'de> {
    args: &'a [&'de RawValue],
}

/// One argument (or `null` where there is none), read by serde_json.
struct One<'de>(Option<&'de RawValue>);

/// `items` then nulls, `left` in all (a tuple's elements; every argument
/// when `left` is their number).
struct Filled<'a, 'de> {
    items: std::slice::Iter<'a, &'de RawValue>,
    left: usize,
}

macro_rules! one_forward {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, DecodeError> {
                match self.0 {
                    Some(raw) => (&mut serde_json::Deserializer::from_str(raw.get()))
                        .$method($($arg,)* visitor)
                        .map_err(DecodeError::InvalidJson),
                    None => Value::Null.$method($($arg,)* visitor).map_err(DecodeError::InvalidJson),
                }
            }
        )*
    };
}

impl<'de> Deserializer<'de> for One<'de> {
    type Error = DecodeError;

    one_forward! {
        deserialize_any();
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_i128();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_u128();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_option();
        deserialize_unit();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_seq();
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_map();
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_identifier();
        deserialize_ignored_any();
    }
}

impl<'de> SeqAccess<'de> for Filled<'_, 'de> {
    type Error = DecodeError;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, DecodeError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(One(self.items.next().copied())).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

impl<'de> ArgList<'de> for TextArgs<'_, 'de> {
    type One = One<'de>;

    fn first(&self) -> One<'de> {
        One(self.args.first().copied())
    }

    fn fill<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_seq(Filled {
            items: self.args.iter(),
            left: len,
        })
    }

    fn all<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let len = self.args.len();
        self.fill(len, visitor)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::fmt::Debug;

    use bytes::Bytes;
    use proptest::prelude::*;
    use serde::Deserialize;

    use super::*;
    use crate::parser::{decode_args, Args};

    #[derive(Deserialize, Debug, PartialEq)]
    struct Msg {
        text: String,
        #[serde(default)]
        n: u32,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    enum Kind {
        A,
        B(u8),
    }

    fn event(args: &[Value]) -> EventJson {
        let mut array = vec![Value::from("e")];
        array.extend(args.iter().cloned());
        EventJson::read(&serde_json::to_string(&array).unwrap()).unwrap()
    }

    /// Read from text, or through values decoded from the same text (as
    /// before): where values give a result, the text gives the same.
    fn same<T: DeserializeOwned + PartialEq + Debug>(args: &[Value]) -> Result<(), TestCaseError> {
        let event = event(args);
        let through_values = decode_args::<T>(&event.args().unwrap(), &[]);
        let from_text = decode_event_args::<T>(&event);
        if let Ok(v) = through_values {
            prop_assert_eq!(from_text.ok(), Some(v), "{:?}", args);
        }
        Ok(())
    }

    fn all_types(args: &[Value]) -> Result<(), TestCaseError> {
        same::<Value>(args)?;
        same::<Args<Value>>(args)?;
        same::<Args<u8>>(args)?;
        same::<()>(args)?;
        same::<(String, Option<u8>)>(args)?;
        same::<(Option<bool>, Option<Value>, Option<i64>)>(args)?;
        same::<Option<String>>(args)?;
        same::<Vec<u8>>(args)?;
        same::<HashMap<String, Value>>(args)?;
        same::<Msg>(args)?;
        same::<(Kind,)>(args)?;
        same::<(f64, Vec<Option<String>>)>(args)?;
        Ok(())
    }

    #[test]
    fn the_argument_rules() {
        let e = event(&[Value::from("a"), Value::from(1)]);
        let t: (String, Option<u8>, Option<bool>) = from_text(&e).unwrap();
        assert_eq!(t, ("a".into(), Some(1), None));
        let first: String = from_text(&e).unwrap();
        assert_eq!(first, "a");
        let all: Args<Value> = from_text(&e).unwrap();
        assert_eq!(all.0.len(), 2);
        from_text::<()>(&e).unwrap();
        assert!(from_text::<(u8,)>(&e).is_err());
        let none: Option<String> = from_text(&event(&[])).unwrap();
        assert_eq!(none, None);
        let msg: Msg = from_text(&event(&[serde_json::json!({"text": "hi"})])).unwrap();
        assert_eq!(
            msg,
            Msg {
                text: "hi".into(),
                n: 0
            }
        );
        let kind: (Kind, Kind) =
            from_text(&event(&[Value::from("A"), serde_json::json!({"B": 2})])).unwrap();
        assert_eq!(kind, (Kind::A, Kind::B(2)));
    }

    #[test]
    fn what_the_text_cannot_read_is_read_through_values() {
        // Node's JSON form of a Buffer: bytes only through values.
        let buffer = serde_json::json!({"type": "Buffer", "data": [1, 2]});
        let e = event(&[buffer]);
        assert!(from_text::<Bytes>(&e).is_err());
        let bytes: Bytes = decode_event_args(&e).unwrap();
        assert_eq!(&bytes[..], &[1, 2]);
        // A placeholder in an event without attachments: an error both ways.
        let e = event(&[serde_json::json!({"_placeholder": true, "num": 0})]);
        assert!(decode_event_args::<Bytes>(&e).is_err());
        assert!(
            decode_args::<Bytes>(&[serde_json::json!({"_placeholder": true, "num": 0})], &[])
                .is_err()
        );
    }

    fn arg() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (0u8..3).prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (-1e3f64..1e3).prop_map(Value::from),
            prop_oneof![
                Just("A"),
                Just("B"),
                Just("text"),
                Just("n"),
                Just("x\"\u{e9}")
            ]
            .prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
                prop::collection::btree_map(
                    prop_oneof![Just("text"), Just("n"), Just("B"), Just("k")],
                    inner,
                    0..3
                )
                .prop_map(|m| Value::Object(
                    m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                )),
            ]
        })
    }

    proptest! {
        #[test]
        fn text_reads_what_values_read(args in prop::collection::vec(arg(), 0..4)) {
            all_types(&args)?;
        }
    }
}
