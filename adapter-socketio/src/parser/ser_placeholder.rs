//! [`PlaceholderSerializer`]: bytes become attachment placeholders.
//!
//! The wrapper forwards every call to the serializer it wraps, except
//! `serialize_bytes`: the bytes are appended to the attachment list and
//! `{"_placeholder":true,"num":N}` is serialized instead, `N` being their
//! index. Nested values (sequence elements, map values, fields, variants,
//! options, newtypes) are wrapped too, so bytes are intercepted at any depth.
//! Map keys are passed through untouched.

use std::cell::Cell;
use std::fmt::Display;

use bytes::Bytes;
use serde::ser::{self, Serialize, SerializeMap, Serializer};

fn push_attachment(attachments: &Cell<Vec<Bytes>>, bytes: &[u8]) -> usize {
    let mut list = attachments.take();
    list.push(Bytes::copy_from_slice(bytes));
    let num = list.len() - 1;
    attachments.set(list);
    num
}

/// A serializer wrapper that turns bytes into attachment placeholders.
///
/// Forwards every call to `inner`, wrapping nested values so bytes are
/// intercepted at any depth.
pub(crate) struct PlaceholderSerializer<'a, S> {
    inner: S,
    attachments: &'a Cell<Vec<Bytes>>,
}

impl<'a, S> PlaceholderSerializer<'a, S> {
    pub(crate) fn new(inner: S, attachments: &'a Cell<Vec<Bytes>>) -> Self {
        PlaceholderSerializer { inner, attachments }
    }
}

/// A value to serialize through [`PlaceholderSerializer`].
struct Intercept<'a, T: ?Sized> {
    value: &'a T,
    attachments: &'a Cell<Vec<Bytes>>,
}

impl<T: Serialize + ?Sized> Serialize for Intercept<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value
            .serialize(PlaceholderSerializer::new(serializer, self.attachments))
    }
}

/// Wraps the inner serializer's compound state.
pub(crate) struct Compound<'a, C> {
    inner: C,
    attachments: &'a Cell<Vec<Bytes>>,
}

macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $method(self, $($arg: $ty),*) -> Result<S::Ok, S::Error> {
                self.inner.$method($($arg),*)
            }
        )*
    };
}

impl<'a, S: Serializer> Serializer for PlaceholderSerializer<'a, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Compound<'a, S::SerializeSeq>;
    type SerializeTuple = Compound<'a, S::SerializeTuple>;
    type SerializeTupleStruct = Compound<'a, S::SerializeTupleStruct>;
    type SerializeTupleVariant = Compound<'a, S::SerializeTupleVariant>;
    type SerializeMap = Compound<'a, S::SerializeMap>;
    type SerializeStruct = Compound<'a, S::SerializeStruct>;
    type SerializeStructVariant = Compound<'a, S::SerializeStructVariant>;

    forward! {
        serialize_bool(v: bool);
        serialize_i8(v: i8);
        serialize_i16(v: i16);
        serialize_i32(v: i32);
        serialize_i64(v: i64);
        serialize_i128(v: i128);
        serialize_u8(v: u8);
        serialize_u16(v: u16);
        serialize_u32(v: u32);
        serialize_u64(v: u64);
        serialize_u128(v: u128);
        serialize_f32(v: f32);
        serialize_f64(v: f64);
        serialize_char(v: char);
        serialize_str(v: &str);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(name: &'static str);
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<S::Ok, S::Error> {
        let num = push_attachment(self.attachments, v);
        let mut map = self.inner.serialize_map(Some(2))?;
        map.serialize_entry("_placeholder", &true)?;
        map.serialize_entry("num", &num)?;
        map.end()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        let attachments = self.attachments;
        self.inner.serialize_some(&Intercept { value, attachments })
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        let attachments = self.attachments;
        self.inner
            .serialize_newtype_struct(name, &Intercept { value, attachments })
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        let attachments = self.attachments;
        let value = Intercept { value, attachments };
        self.inner
            .serialize_newtype_variant(name, index, variant, &value)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        let attachments = self.attachments;
        let inner = self.inner.serialize_seq(len)?;
        Ok(Compound { inner, attachments })
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        let attachments = self.attachments;
        let inner = self.inner.serialize_tuple(len)?;
        Ok(Compound { inner, attachments })
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        let attachments = self.attachments;
        let inner = self.inner.serialize_tuple_struct(name, len)?;
        Ok(Compound { inner, attachments })
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        let attachments = self.attachments;
        let inner = self
            .inner
            .serialize_tuple_variant(name, index, variant, len)?;
        Ok(Compound { inner, attachments })
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        let attachments = self.attachments;
        let inner = self.inner.serialize_map(len)?;
        Ok(Compound { inner, attachments })
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        let attachments = self.attachments;
        let inner = self.inner.serialize_struct(name, len)?;
        Ok(Compound { inner, attachments })
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        let attachments = self.attachments;
        let inner = self
            .inner
            .serialize_struct_variant(name, index, variant, len)?;
        Ok(Compound { inner, attachments })
    }

    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.inner.collect_str(value)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

macro_rules! compound {
    ($($trait:ident { $($method:ident($($arg:ident: $ty:ty),*);)* })*) => {
        $(
            impl<C: ser::$trait> ser::$trait for Compound<'_, C> {
                type Ok = C::Ok;
                type Error = C::Error;

                $(
                    fn $method<T: Serialize + ?Sized>(
                        &mut self,
                        $($arg: $ty,)*
                        value: &T,
                    ) -> Result<(), C::Error> {
                        let attachments = self.attachments;
                        self.inner.$method($($arg,)* &Intercept { value, attachments })
                    }
                )*

                fn end(self) -> Result<C::Ok, C::Error> {
                    self.inner.end()
                }
            }
        )*
    };
}

compound! {
    SerializeSeq { serialize_element(); }
    SerializeTuple { serialize_element(); }
    SerializeTupleStruct { serialize_field(); }
    SerializeTupleVariant { serialize_field(); }
    SerializeStruct { serialize_field(key: &'static str); }
    SerializeStructVariant { serialize_field(key: &'static str); }
}

impl<C: ser::SerializeMap> ser::SerializeMap for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    // Keys are never wrapped: they are strings (or numbers) in JSON.
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), C::Error> {
        self.inner.serialize_key(key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        let attachments = self.attachments;
        self.inner
            .serialize_value(&Intercept { value, attachments })
    }

    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), C::Error> {
        let attachments = self.attachments;
        self.inner
            .serialize_entry(key, &Intercept { value, attachments })
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}
