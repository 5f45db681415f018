//! Reading one JSON value with attachment placeholders resolved.
//!
//! [`ValueDeserializer`] reads a [`Value`] like serde_json does, except that
//! a placeholder `{"_placeholder":true,"num":N}` read as bytes
//! (`deserialize_bytes` / `deserialize_byte_buf`) yields attachment `N`, and
//! an unknown `N` is [`DecodeError::MissingAttachment`]. Read any other way
//! (into a [`Value`], say) a placeholder stays an object. Node's JSON form
//! of a Buffer, `{"type":"Buffer","data":[bytes]}` (what servers of a
//! cluster exchange in JSON messages), read as bytes yields those bytes.

use bytes::Bytes;
use serde::de::value::BorrowedStrDeserializer;
use serde::de::{
    DeserializeSeed, Deserializer, EnumAccess, Error as _, MapAccess, SeqAccess, Unexpected,
    VariantAccess, Visitor,
};
use serde::forward_to_deserialize_any;
use serde_json::Value;

use super::DecodeError;

/// The attachment a placeholder object refers to; `None` when `map` is not a
/// placeholder.
fn placeholder<'de>(
    map: &serde_json::Map<String, Value>,
    attachments: &'de [Bytes],
) -> Option<Result<&'de Bytes, DecodeError>> {
    if map.get("_placeholder") != Some(&Value::Bool(true)) {
        return None;
    }
    let num = map.get("num").and_then(Value::as_u64);
    let found = num
        .and_then(|n| usize::try_from(n).ok())
        .and_then(|n| attachments.get(n));
    Some(found.ok_or(DecodeError::MissingAttachment {
        num: num.unwrap_or(u64::MAX),
        count: attachments.len(),
    }))
}

/// The bytes of Node's JSON form of a Buffer; `None` when `map` is not one.
fn node_buffer(map: &serde_json::Map<String, Value>) -> Option<Vec<u8>> {
    if map.len() != 2 || map.get("type")?.as_str()? != "Buffer" {
        return None;
    }
    map.get("data")?
        .as_array()?
        .iter()
        .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
        .collect()
}

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Unexpected::Unsigned(u),
            (_, Some(i), _) => Unexpected::Signed(i),
            (_, _, Some(f)) => Unexpected::Float(f),
            _ => Unexpected::Other("number"),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

pub(super) fn visit_array<'de, V: Visitor<'de>>(
    items: &'de [Value],
    attachments: &'de [Bytes],
    visitor: V,
) -> Result<V::Value, DecodeError> {
    let mut seq = Seq {
        items: items.iter(),
        attachments,
    };
    let value = visitor.visit_seq(&mut seq)?;
    read_whole(
        value,
        seq.items.len(),
        items.len(),
        "fewer elements in array",
    )
}

/// `value`, or an error when the visitor left `unread` of the `len`
/// elements of an array or map unread.
fn read_whole<T>(value: T, unread: usize, len: usize, expected: &str) -> Result<T, DecodeError> {
    if unread == 0 {
        Ok(value)
    } else {
        Err(DecodeError::invalid_length(len, &expected))
    }
}

/// `deserialize_newtype_struct` (the content, read by the same
/// deserializer) and `deserialize_enum` (through the [`Enum`] its
/// `into_enum` makes): alike for values and map keys.
macro_rules! newtype_and_enum {
    () => {
        fn deserialize_newtype_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            visitor: V,
        ) -> Result<V::Value, DecodeError> {
            visitor.visit_newtype_struct(self)
        }

        fn deserialize_enum<V: Visitor<'de>>(
            self,
            _name: &'static str,
            _variants: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, DecodeError> {
            visitor.visit_enum(self.into_enum()?)
        }
    };
}

/// Reads one JSON value.
pub(super) struct ValueDeserializer<'de> {
    pub(super) value: &'de Value,
    pub(super) attachments: &'de [Bytes],
}

impl<'de> ValueDeserializer<'de> {
    /// `"Variant"` or `{"Variant": value}`.
    fn into_enum(self) -> Result<Enum<'de>, DecodeError> {
        let (variant, value) = match self.value {
            Value::String(s) => (s.as_str(), None),
            Value::Object(map) if map.len() == 1 => match map.iter().next() {
                Some((k, v)) => (k.as_str(), Some(v)),
                None => return Err(DecodeError::custom("empty enum object")),
            },
            other => {
                return Err(DecodeError::invalid_type(
                    unexpected(other),
                    &"a string or a map with a single key",
                ))
            }
        };
        Ok(Enum {
            variant,
            value,
            attachments: self.attachments,
        })
    }
}

impl<'de> Deserializer<'de> for ValueDeserializer<'de> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else if let Some(f) = n.as_f64() {
                    visitor.visit_f64(f)
                } else {
                    Err(DecodeError::custom("unrepresentable number"))
                }
            }
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => visit_array(items, self.attachments, visitor),
            Value::Object(map) => {
                let mut access = Map {
                    iter: map.iter(),
                    value: None,
                    attachments: self.attachments,
                };
                let value = visitor.visit_map(&mut access)?;
                read_whole(value, access.iter.len(), map.len(), "fewer elements in map")
            }
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        if let Value::Object(map) = self.value {
            if let Some(found) = placeholder(map, self.attachments) {
                return visitor.visit_borrowed_bytes(found?);
            }
            if let Some(bytes) = node_buffer(map) {
                return visitor.visit_byte_buf(bytes);
            }
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        if let Value::Object(map) = self.value {
            if let Some(found) = placeholder(map, self.attachments) {
                return visitor.visit_byte_buf(found?.to_vec());
            }
            if let Some(bytes) = node_buffer(map) {
                return visitor.visit_byte_buf(bytes);
            }
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    newtype_and_enum!();

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

/// The values `items` yields, as a sequence.
pub(super) struct Seq<'de, I> {
    pub(super) items: I,
    pub(super) attachments: &'de [Bytes],
}

impl<'de, I: Iterator<Item = &'de Value>> SeqAccess<'de> for Seq<'de, I> {
    type Error = DecodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DecodeError> {
        self.items
            .next()
            .map(|value| {
                seed.deserialize(ValueDeserializer {
                    value,
                    attachments: self.attachments,
                })
            })
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        self.items.size_hint().1
    }
}

struct Map<'de> {
    iter: serde_json::map::Iter<'de>,
    value: Option<&'de Value>,
    attachments: &'de [Bytes],
}

impl<'de> MapAccess<'de> for Map<'de> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        match self.iter.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(Key(key)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        let value = self
            .value
            .take()
            .ok_or_else(|| DecodeError::custom("map value requested before its key"))?;
        seed.deserialize(ValueDeserializer {
            value,
            attachments: self.attachments,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// A map key: a string that may also be read as a number or a bool.
struct Key<'de>(&'de str);

macro_rules! parse_key {
    ($($method:ident => $visit:ident: $ty:ty,)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
                match self.0.parse::<$ty>() {
                    Ok(n) => visitor.$visit(n),
                    Err(_) => visitor.visit_borrowed_str(self.0),
                }
            }
        )*
    };
}

impl<'de> Key<'de> {
    /// A unit variant.
    fn into_enum(self) -> Result<Enum<'de>, DecodeError> {
        Ok(Enum {
            variant: self.0,
            value: None,
            attachments: &[],
        })
    }
}

impl<'de> Deserializer<'de> for Key<'de> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_borrowed_str(self.0)
    }

    parse_key! {
        deserialize_bool => visit_bool: bool,
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_i128 => visit_i128: i128,
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
        deserialize_u128 => visit_u128: u128,
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_some(self)
    }

    newtype_and_enum!();

    forward_to_deserialize_any! {
        f32 f64 char str string bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// An enum: `"Variant"` or `{"Variant": value}`.
struct Enum<'de> {
    variant: &'de str,
    value: Option<&'de Value>,
    attachments: &'de [Bytes],
}

impl<'de> EnumAccess<'de> for Enum<'de> {
    type Error = DecodeError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), DecodeError> {
        let variant =
            seed.deserialize(BorrowedStrDeserializer::<DecodeError>::new(self.variant))?;
        Ok((variant, self))
    }
}

impl<'de> Enum<'de> {
    fn content(&self, expected: &'static str) -> Result<ValueDeserializer<'de>, DecodeError> {
        match self.value {
            Some(value) => Ok(ValueDeserializer {
                value,
                attachments: self.attachments,
            }),
            None => Err(DecodeError::invalid_type(
                Unexpected::UnitVariant,
                &expected,
            )),
        }
    }
}

impl<'de> VariantAccess<'de> for Enum<'de> {
    type Error = DecodeError;

    fn unit_variant(self) -> Result<(), DecodeError> {
        match self.value {
            None | Some(Value::Null) => Ok(()),
            Some(other) => Err(DecodeError::invalid_type(
                unexpected(other),
                &"unit variant",
            )),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, DecodeError> {
        seed.deserialize(self.content("newtype variant")?)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.content("tuple variant")?.deserialize_seq(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.content("struct variant")?.deserialize_map(visitor)
    }
}
