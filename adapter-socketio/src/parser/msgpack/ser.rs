//! Typed arguments straight into a MessagePack frame.
//!
//! [`encode_args`] writes the packet map and serializes the arguments into
//! its data array with [`Enc`], a serde serializer that follows what the
//! JSON path makes of a value ([`args_to_value`](crate::parser::args_to_value)
//! then a JSON value written as MessagePack), byte for byte: bytes are
//! `bin`, `None`/`()` nil, enums as serde_json represents them (a unit
//! variant its name, the others `{variant: value}`), map keys strings
//! (integers and booleans as their text), non-finite floats nil. A
//! container whose announced length turns out wrong, or that announced
//! none, gets its header rewritten once it is done.

use bytes::Bytes;
use rmp::encode as w;
use roomcast_core::{Frame, Message};
use serde::ser::{self, Error as _, Serialize};

use crate::parser::ser::{refuse, scalar_only, shape_of, Shape};
use crate::parser::{EncodeError, Header};

type Error = serde_json::Error;

/// An event (`event` given) or an ack with typed arguments, as one frame.
pub(crate) fn encode_args<T: Serialize + ?Sized>(
    header: Header<'_>,
    event: Option<&str>,
    args: &T,
) -> Result<Message, EncodeError> {
    let mut out = Vec::with_capacity(64 + header.namespace.len());
    super::write_header(&mut out, header, true);
    let header = out.len();
    let _ = w::write_array_len(&mut out, 0);
    let mut count = 0u32;
    if let Some(event) = event {
        let _ = w::write_str(&mut out, event);
        count += 1;
    }
    match shape_of(args) {
        Shape::Unit => {}
        Shape::Single => {
            args.serialize(&mut Enc { out: &mut out })?;
            count += 1;
        }
        Shape::Spread => {
            let start = out.len();
            args.serialize(&mut Enc { out: &mut out })?;
            let mut rd = &out[start..];
            match rmp::decode::read_array_len(&mut rd) {
                // Its elements join the data array.
                Ok(n) => {
                    let len = out.len() - start - rd.len();
                    out.drain(start..start + len);
                    count += n;
                }
                Err(_) => count += 1,
            }
        }
    }
    set_len(&mut out, header, count, false);
    Ok(Message::One(Frame::Binary(Bytes::from(out))))
}

/// Rewrites the array (or map) header at `at` to announce `count`.
fn set_len(out: &mut Vec<u8>, at: usize, count: u32, map: bool) {
    let mut rd = &out[at..];
    let old = if map {
        rmp::decode::read_map_len(&mut rd)
    } else {
        rmp::decode::read_array_len(&mut rd)
    };
    if old.ok() == Some(count) {
        return;
    }
    let len = out.len() - at - rd.len();
    let mut header = Vec::with_capacity(5);
    let _ = if map {
        w::write_map_len(&mut header, count)
    } else {
        w::write_array_len(&mut header, count)
    };
    out.splice(at..at + len, header);
}

fn len32(len: usize) -> Result<u32, Error> {
    u32::try_from(len).map_err(|_| Error::custom("container too long"))
}

/// The value serializer.
pub(crate) struct Enc<'o> {
    out: &'o mut Vec<u8>,
}

impl<'o> Enc<'o> {
    fn open(&mut self, len: Option<usize>, map: bool) -> Result<Compound<'_, 'o>, Error> {
        let at = self.out.len();
        let announced = len.map(len32).transpose()?.unwrap_or(0);
        let _ = if map {
            w::write_map_len(self.out, announced)
        } else {
            w::write_array_len(self.out, announced)
        };
        Ok(Compound {
            enc: self,
            at,
            count: 0,
            map,
        })
    }

    /// `{variant: …}`: a one-entry map whose value follows.
    fn variant(&mut self, variant: &str) {
        let _ = w::write_map_len(self.out, 1);
        let _ = w::write_str(self.out, variant);
    }
}

/// An array or map being written; its header is fixed on `end`.
pub(crate) struct Compound<'a, 'o> {
    enc: &'a mut Enc<'o>,
    at: usize,
    count: u32,
    map: bool,
}

impl Compound<'_, '_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut *self.enc)?;
        self.count += 1;
        Ok(())
    }

    fn key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        key.serialize(KeyEnc(&mut *self.enc.out))
    }

    fn field<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> Result<(), Error> {
        let _ = w::write_str(self.enc.out, name);
        self.element(value)
    }

    fn finish(self) -> Result<(), Error> {
        set_len(self.enc.out, self.at, self.count, self.map);
        Ok(())
    }
}

/// What values and map keys write alike: a unit variant as its name, a
/// newtype struct as its content.
macro_rules! names_and_newtypes {
    () => {
        fn serialize_unit_variant(
            self,
            _: &'static str,
            _: u32,
            variant: &'static str,
        ) -> Result<(), Error> {
            self.serialize_str(variant)
        }

        fn serialize_newtype_struct<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            value: &T,
        ) -> Result<(), Error> {
            value.serialize(self)
        }
    };
}

macro_rules! uint {
    ($($m:ident: $t:ty),*) => {$(
        fn $m(self, v: $t) -> Result<(), Error> {
            let _ = w::write_uint(self.out, u64::from(v));
            Ok(())
        }
    )*};
}

macro_rules! sint {
    ($($m:ident: $t:ty),*) => {$(
        fn $m(self, v: $t) -> Result<(), Error> {
            let v = i64::from(v);
            let _ = if v >= 0 { w::write_uint(self.out, v as u64) } else { w::write_sint(self.out, v) };
            Ok(())
        }
    )*};
}

/// `{variant: [...]}` (`$map` false) and `{variant: {...}}` (true): the
/// variant's one-entry map, then the array or map of its content.
macro_rules! variant_compounds {
    ($($m:ident => $map:literal),*) => {$(
        fn $m(
            self,
            _: &'static str,
            _: u32,
            variant: &'static str,
            len: usize,
        ) -> Result<Compound<'a, 'o>, Error> {
            self.variant(variant);
            self.open(Some(len), $map)
        }
    )*};
}

impl<'a, 'o> ser::Serializer for &'a mut Enc<'o> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a, 'o>;
    type SerializeTuple = Compound<'a, 'o>;
    type SerializeTupleStruct = Compound<'a, 'o>;
    type SerializeTupleVariant = Compound<'a, 'o>;
    type SerializeMap = Compound<'a, 'o>;
    type SerializeStruct = Compound<'a, 'o>;
    type SerializeStructVariant = Compound<'a, 'o>;

    uint!(serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64);
    sint!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64);

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        let _ = w::write_bool(self.out, v);
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.serialize_f64(f64::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        let _ = if v.is_finite() {
            w::write_f64(self.out, v).map_err(|_| ())
        } else {
            w::write_nil(self.out).map_err(|_| ())
        };
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        let _ = w::write_str(self.out, v);
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        let _ = w::write_bin(self.out, v);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        let _ = w::write_nil(self.out);
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }

    names_and_newtypes!();

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.variant(variant);
        value.serialize(self)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'a, 'o>, Error> {
        self.open(len, false)
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'a, 'o>, Error> {
        self.open(Some(len), false)
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<Compound<'a, 'o>, Error> {
        self.open(Some(len), false)
    }

    variant_compounds!(serialize_tuple_variant => false, serialize_struct_variant => true);

    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'a, 'o>, Error> {
        self.open(len, true)
    }

    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Compound<'a, 'o>, Error> {
        self.open(Some(len), true)
    }
}

/// The seven compound traits write through [`Compound`]'s four methods:
/// elements (and map values) by `element`, keys by `key`, named fields by
/// `field`.
macro_rules! compound {
    ($($trait:ident { $($method:ident($($arg:ident: $ty:ty),*) => $via:ident;)* })*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;
            $(
                fn $method<T: Serialize + ?Sized>(&mut self, $($arg: $ty,)* value: &T) -> Result<(), Error> {
                    self.$via($($arg,)* value)
                }
            )*
            fn end(self) -> Result<(), Error> {
                self.finish()
            }
        }
    )*};
}

compound! {
    SerializeSeq { serialize_element() => element; }
    SerializeTuple { serialize_element() => element; }
    SerializeTupleStruct { serialize_field() => element; }
    SerializeTupleVariant { serialize_field() => element; }
    SerializeMap { serialize_key() => key; serialize_value() => element; }
    SerializeStruct { serialize_field(name: &'static str) => field; }
    SerializeStructVariant { serialize_field(name: &'static str) => field; }
}

/// Map keys: strings, and integers, booleans and chars as their text (as
/// serde_json); anything else is an error.
struct KeyEnc<'o>(&'o mut Vec<u8>);

fn key_error() -> Error {
    Error::custom("key must be a string")
}

macro_rules! text_key {
    ($($m:ident: $t:ty),*) => {$(
        fn $m(self, v: $t) -> Result<(), Error> {
            let _ = w::write_str(self.0, itoa::Buffer::new().format(v));
            Ok(())
        }
    )*};
}

impl ser::Serializer for KeyEnc<'_> {
    scalar_only!(Error);

    text_key!(serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64,
        serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64);
    refuse! { key_error();
        f32 f64 bytes none some unit unit_struct newtype_variant
        seq tuple tuple_struct tuple_variant map struct struct_variant
    }

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.serialize_str(if v { "true" } else { "false" })
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        let _ = w::write_str(self.0, v);
        Ok(())
    }

    names_and_newtypes!();
}
