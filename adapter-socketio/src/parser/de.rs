//! Deserializing event arguments: spreading rules and binary placeholders.
//!
//! [`decode_args`] maps a list of arguments to a Rust type by what the type
//! asks for:
//!
//! - a tuple or tuple struct: the arguments fill it in order; missing
//!   trailing ones read as `null` (so `Option` fields become `None`), extra
//!   ones are ignored;
//! - [`Args<T>`](super::Args): every argument;
//! - unit or a unit struct: accepted whatever the arguments are;
//! - anything else: the first argument (`null` when there is none).
//!
//! Below the top level the JSON is read as usual, except that a placeholder
//! `{"_placeholder":true,"num":N}` read as bytes (`deserialize_bytes` /
//! `deserialize_byte_buf`, as [`bytes::Bytes`] does) yields attachment `N`,
//! and so does Node's JSON form of a Buffer (`{"type":"Buffer","data":[…]}`)
//! yield its bytes.
//! Read as anything else (a [`serde_json::Value`], say) it stays an object.

use std::iter;

use bytes::Bytes;
use serde::de::{DeserializeOwned, Deserializer, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::Value;

use super::args::ARGS_MAGIC;
use super::de_value::{visit_array, Seq, ValueDeserializer};
use super::DecodeError;

static NULL: Value = Value::Null;

/// Decodes event or ack arguments into `T`.
///
/// `args` are the event's arguments (event name already removed) or an ack's
/// arguments; `attachments` are the packet's binary attachments.
///
/// - a tuple or tuple struct takes the arguments in order (missing trailing
///   ones read as `null`, so `Option`s become `None`; extras are ignored);
/// - [`Args<T>`](super::Args) takes every argument;
/// - unit or a unit struct accepts any arguments;
/// - anything else reads the first argument (`null` when there is none).
///
/// Placeholders read as bytes (e.g. into [`Bytes`]) yield their attachment;
/// read into a [`Value`] they stay objects.
///
/// ```
/// use roomcast_socketio::parser::decode_args;
/// use serde_json::json;
/// let args = [json!("a"), json!(1)];
/// let (s, n, rest): (String, u8, Option<bool>) = decode_args(&args, &[]).unwrap();
/// assert_eq!((s.as_str(), n, rest), ("a", 1, None));
/// let first: String = decode_args(&args, &[]).unwrap();
/// assert_eq!(first, "a");
/// ```
pub fn decode_args<T: DeserializeOwned>(
    args: &[Value],
    attachments: &[Bytes],
) -> Result<T, DecodeError> {
    T::deserialize(Spread(Values { args, attachments }))
}

/// Decodes one JSON value into `T`, placeholders read as bytes yielding the
/// matching attachment (for instance a `CONNECT` auth payload).
pub fn from_value<T: DeserializeOwned>(
    value: &Value,
    attachments: &[Bytes],
) -> Result<T, DecodeError> {
    T::deserialize(ValueDeserializer { value, attachments })
}

/// A list of arguments the rules apply to: decoded values, or the texts
/// of an event kept as text (`de_text`).
pub(super) trait ArgList<'de>: Sized {
    /// How one argument is read.
    type One: Deserializer<'de, Error = DecodeError>;

    /// The first argument (`null` when there is none).
    fn first(&self) -> Self::One;

    /// Exactly `len` elements: the arguments, then nulls.
    fn fill<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, DecodeError>;

    /// Every argument, as one sequence.
    fn all<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError>;
}

/// The values of [`decode_args`].
struct Values<'de> {
    args: &'de [Value],
    attachments: &'de [Bytes],
}

impl<'de> ArgList<'de> for Values<'de> {
    type One = ValueDeserializer<'de>;

    fn first(&self) -> ValueDeserializer<'de> {
        ValueDeserializer {
            value: self.args.first().unwrap_or(&NULL),
            attachments: self.attachments,
        }
    }

    fn fill<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_seq(Seq {
            items: self.args.iter().chain(iter::repeat(&NULL)).take(len),
            attachments: self.attachments,
        })
    }

    fn all<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visit_array(self.args, self.attachments, visitor)
    }
}

/// The top level: the argument rules over a list of arguments.
pub(super) struct Spread<L>(pub(super) L);

macro_rules! to_first {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, DecodeError> {
                self.0.first().$method($($arg,)* visitor)
            }
        )*
    };
}

impl<'de, L: ArgList<'de>> Deserializer<'de> for Spread<L> {
    type Error = DecodeError;

    to_first! {
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
        deserialize_seq();
        deserialize_map();
        deserialize_identifier();
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.0.fill(len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.0.fill(len, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        if name == ARGS_MAGIC {
            visitor.visit_newtype_struct(All(self.0))
        } else {
            self.0.first().deserialize_newtype_struct(name, visitor)
        }
    }
}

/// Every argument, as one sequence (inside [`Args`](super::Args)).
struct All<L>(L);

impl<'de, L: ArgList<'de>> Deserializer<'de> for All<L> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.0.all(visitor)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::Args;
    use serde::Deserialize;
    use serde_json::json;
    use std::collections::HashMap;

    fn ph(n: u64) -> Value {
        json!({"_placeholder": true, "num": n})
    }

    #[test]
    fn tuples_fill_in_order() {
        let args = [json!("a"), json!(1)];
        let t: (String, u8) = decode_args(&args, &[]).unwrap();
        assert_eq!(t, ("a".into(), 1));
        let t: (String, Option<u8>, Option<bool>) = decode_args(&args, &[]).unwrap();
        assert_eq!(t, ("a".into(), Some(1), None));
        let t: (Option<String>,) = decode_args(&[], &[]).unwrap();
        assert_eq!(t, (None,));
        // Extra arguments are ignored.
        let t: (String,) = decode_args(&args, &[]).unwrap();
        assert_eq!(t.0, "a");
        #[derive(Deserialize, Debug, PartialEq)]
        struct Pair(String, Option<u8>);
        let p: Pair = decode_args(&args[..1], &[]).unwrap();
        assert_eq!(p, Pair("a".into(), None));
        assert!(decode_args::<(String, u8)>(&args[..1], &[]).is_err());
    }

    #[test]
    fn unit_args_and_single() {
        let args = [json!([1, 2]), json!("x")];
        decode_args::<()>(&args, &[]).unwrap();
        decode_args::<()>(&[], &[]).unwrap();
        #[derive(Deserialize)]
        struct Nothing;
        decode_args::<Nothing>(&args, &[]).unwrap();
        let all: Args<Value> = decode_args(&args, &[]).unwrap();
        assert_eq!(all.0, args);
        let none: Args<u8> = decode_args(&[], &[]).unwrap();
        assert!(none.0.is_empty());
        assert!(decode_args::<Args<u8>>(&args, &[]).is_err());
        let first: Vec<u8> = decode_args(&args, &[]).unwrap();
        assert_eq!(first, [1, 2]);
        let first: Value = decode_args(&args, &[]).unwrap();
        assert_eq!(first, json!([1, 2]));
        let missing: Option<String> = decode_args(&[], &[]).unwrap();
        assert_eq!(missing, None);
        assert!(decode_args::<String>(&[], &[]).is_err());
        #[derive(Deserialize, Debug, PartialEq)]
        struct Msg {
            text: String,
            #[serde(default)]
            n: u32,
        }
        let m: Msg = decode_args(&[json!({"text": "hi"})], &[]).unwrap();
        assert_eq!(
            m,
            Msg {
                text: "hi".into(),
                n: 0
            }
        );
        assert!(matches!(
            decode_args::<Msg>(&[json!({"n": 1})], &[]),
            Err(DecodeError::InvalidArgs(_))
        ));
    }

    #[test]
    fn placeholders() {
        let atts = [Bytes::from_static(b"zero"), Bytes::from_static(b"one")];
        #[derive(Deserialize, Debug)]
        struct File {
            name: String,
            body: Bytes,
            extra: Option<Bytes>,
            parts: Vec<Bytes>,
        }
        let args = [
            json!("x"),
            json!({"name": "f", "body": ph(1), "extra": ph(0), "parts": [ph(0), ph(1)]}),
        ];
        let (name, file): (String, File) = decode_args(&args, &atts).unwrap();
        assert_eq!(name, "x");
        assert_eq!(file.name, "f");
        assert_eq!(&file.body[..], b"one");
        assert_eq!(file.extra.as_deref(), Some(&b"zero"[..]));
        assert_eq!(file.parts, atts);
        // Read as a Value, placeholders stay.
        let raw: (Value, Value) = decode_args(&args, &atts).unwrap();
        assert_eq!(raw.1["body"], ph(1));
        // Out of range, or not a number.
        assert!(matches!(
            decode_args::<Bytes>(&[ph(2)], &atts),
            Err(DecodeError::MissingAttachment { num: 2, count: 2 })
        ));
        let bad = json!({"_placeholder": true, "num": "0"});
        assert!(matches!(
            decode_args::<Bytes>(&[bad], &atts),
            Err(DecodeError::MissingAttachment { .. })
        ));
        // Bytes from a plain string or array still work.
        let b: Bytes = decode_args(&[json!("hi")], &[]).unwrap();
        assert_eq!(&b[..], b"hi");
        let b: Bytes = decode_args(&[json!([1, 2])], &[]).unwrap();
        assert_eq!(&b[..], [1, 2]);
        let v: Value = from_value(&ph(7), &[]).unwrap();
        assert_eq!(v, ph(7));
    }

    #[test]
    fn node_buffers_read_as_bytes() {
        let buffer = json!({"type": "Buffer", "data": [1, 2, 255]});
        let (b, nested): (Bytes, HashMap<String, Bytes>) =
            decode_args(&[buffer.clone(), json!({"n": buffer})], &[]).unwrap();
        assert_eq!(&b[..], [1, 2, 255]);
        assert_eq!(&nested["n"][..], [1, 2, 255]);
        let raw: Value = decode_args(std::slice::from_ref(&buffer), &[]).unwrap();
        assert_eq!(raw, buffer, "read as a Value it stays an object");
        for not_bytes in [
            json!({"type": "Buffer", "data": [256]}),
            json!({"type": "Buffer", "data": "x"}),
            json!({"type": "Other", "data": [1]}),
            json!({"type": "Buffer", "data": [1], "more": 1}),
        ] {
            assert!(
                decode_args::<Bytes>(std::slice::from_ref(&not_bytes), &[]).is_err(),
                "{not_bytes}"
            );
        }
    }

    #[test]
    fn enums_maps_numbers() {
        #[derive(Deserialize, Debug, PartialEq)]
        enum E {
            Unit,
            New(i64),
            Tup(u8, u8),
            Rec { b: Bytes },
        }
        let atts = [Bytes::from_static(b"r")];
        let args = [
            json!("Unit"),
            json!({"New": -5}),
            json!({"Tup": [1, 2]}),
            json!({"Rec": {"b": ph(0)}}),
        ];
        let got: Args<E> = decode_args(&args, &atts).unwrap();
        let want = [
            E::Unit,
            E::New(-5),
            E::Tup(1, 2),
            E::Rec {
                b: Bytes::from_static(b"r"),
            },
        ];
        assert_eq!(got.0, want);
        assert!(decode_args::<E>(&[json!({"New": 1, "Unit": null})], &[]).is_err());
        assert!(decode_args::<E>(&[json!("New")], &[]).is_err());
        assert!(decode_args::<E>(&[json!({"Unit": 1})], &[]).is_err());
        let m: HashMap<u32, bool> = from_value(&json!({"1": true, "20": false}), &[]).unwrap();
        assert_eq!(m.get(&20), Some(&false));
        assert!(from_value::<HashMap<u32, bool>>(&json!({"x": true}), &[]).is_err());
        let f: (f64, i8, u64) =
            decode_args(&[json!(1.5), json!(-3), json!(u64::MAX)], &[]).unwrap();
        assert_eq!(f, (1.5, -3, u64::MAX));
        assert!(decode_args::<(u8,)>(&[json!(300)], &[]).is_err());
        assert!(from_value::<(u8,)>(&json!([1, 2]), &[]).is_err());
        let c: char = from_value(&json!("c"), &[]).unwrap();
        assert_eq!(c, 'c');
    }
}
