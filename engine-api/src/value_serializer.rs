//! A serde `Serializer` that builds a [`Value`] directly, nesting at most
//! [`MAX_TRANSFER_DEPTH`] levels.
//!
//! `ExternalCopy::from_serde` uses it instead of going through `serde_json::Value`, whose
//! serializer has no depth limit: a deeply nested input (a hand-built
//! `serde_json::Value`, a recursive Rust type) is refused after a bounded number of levels
//! instead of overflowing the native stack. The shape is JSON's (maps become objects with
//! string keys, enums are externally tagged), except that object keys keep their order,
//! non-finite floats stay numbers and integers a JS number cannot hold exactly (beyond
//! 2^53) become `BigInt`s instead of being rounded.

use std::fmt;

use serde::ser::{self, Serialize};

use crate::{MAX_TRANSFER_DEPTH, Value};

/// Why a value could not be serialized into a [`Value`].
#[derive(Debug)]
pub(crate) struct ToValueError(String);

impl fmt::Display for ToValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ToValueError {}

impl ser::Error for ToValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ToValueError(msg.to_string())
    }
}

type Result<T> = std::result::Result<T, ToValueError>;

impl Value {
    /// Builds a value from a Rust value through serde, without JSON in between.
    ///
    /// The shape is JSON's: structs and maps become objects (keys in their order; integer,
    /// bool and char keys as strings), sequences and tuples arrays, `None` and unit `null`,
    /// enums externally tagged (`"Unit"`, `{"Variant": data}`), bytes an array of numbers.
    /// Integers that a JS number holds exactly (up to 2^53) become numbers, larger ones
    /// `BigInt`s, so nothing is rounded.
    ///
    /// Fails with [`Error::NotTransferable`](crate::Error::NotTransferable) for map keys
    /// that are not scalars, a `Serialize` impl that fails, or data nested deeper than
    /// [`MAX_TRANSFER_DEPTH`] (refused after that many levels, without overflowing the
    /// stack).
    ///
    /// ```
    /// use engine_api::Value;
    /// #[derive(serde::Serialize)]
    /// struct User { id: u64, name: &'static str }
    /// let v = Value::from_serde(&User { id: u64::MAX, name: "ann" }).unwrap();
    /// assert_eq!(v.get("id"), Some(&Value::BigInt("18446744073709551615".into())));
    /// assert_eq!(v.get("name"), Some(&Value::from("ann")));
    /// ```
    pub fn from_serde<T: Serialize + ?Sized>(value: &T) -> crate::Result<Value> {
        to_value(value).map_err(|e| crate::Error::NotTransferable(e.to_string()))
    }
}

/// Serializes `value` into a [`Value`].
pub(crate) fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value> {
    value.serialize(ValueSerializer { depth: 0 })
}

/// Serializes one value found inside `depth` containers.
#[derive(Clone, Copy)]
struct ValueSerializer {
    depth: usize,
}

impl ValueSerializer {
    /// The serializer for the contents of a container at this depth.
    fn inner(self) -> Result<ValueSerializer> {
        if self.depth >= MAX_TRANSFER_DEPTH {
            return Err(ToValueError(format!(
                "value nested deeper than {MAX_TRANSFER_DEPTH} levels"
            )));
        }
        Ok(ValueSerializer {
            depth: self.depth + 1,
        })
    }

    fn seq(self, len: Option<usize>, tag: Option<&'static str>) -> Result<Seq> {
        Ok(Seq {
            inner: self.inner()?,
            items: Vec::with_capacity(len.unwrap_or(0).min(4096)),
            tag,
        })
    }

    fn map(self, len: Option<usize>, tag: Option<&'static str>) -> Result<Map> {
        Ok(Map {
            inner: self.inner()?,
            props: Vec::with_capacity(len.unwrap_or(0).min(4096)),
            key: None,
            tag,
        })
    }
}

/// `{tag: value}`, as JSON writes an enum variant with data.
fn tagged(tag: &'static str, value: Value) -> Value {
    Value::Object(vec![(tag.to_owned(), value)])
}

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = ToValueError;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = Seq;
    type SerializeMap = Map;
    type SerializeStruct = Map;
    type SerializeStructVariant = Map;

    fn serialize_bool(self, v: bool) -> Result<Value> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value> {
        Ok(Value::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<Value> {
        Ok(Value::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<Value> {
        Ok(Value::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<Value> {
        Ok(crate::convert::integer_value(i128::from(v)))
    }
    fn serialize_i128(self, v: i128) -> Result<Value> {
        Ok(crate::convert::integer_value(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Value> {
        Ok(Value::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<Value> {
        Ok(Value::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<Value> {
        Ok(Value::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<Value> {
        Ok(crate::convert::integer_value(i128::from(v)))
    }
    fn serialize_u128(self, v: u128) -> Result<Value> {
        Ok(crate::convert::unsigned_value(v))
    }
    fn serialize_f32(self, v: f32) -> Result<Value> {
        Ok(Value::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Value> {
        Ok(Value::Number(v))
    }
    fn serialize_char(self, v: char) -> Result<Value> {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value> {
        Ok(Value::from(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value> {
        // As JSON has it: an array of numbers.
        Ok(Value::Array(v.iter().map(|b| Value::from(*b)).collect()))
    }
    fn serialize_none(self) -> Result<Value> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value> {
        value.serialize(self.inner()?)
    }
    fn serialize_unit(self) -> Result<Value> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Value> {
        Ok(Value::from(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value> {
        value.serialize(self.inner()?)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value> {
        Ok(tagged(variant, value.serialize(self.inner()?.inner()?)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq> {
        self.seq(len, None)
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq> {
        self.seq(Some(len), None)
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq> {
        self.seq(Some(len), None)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Seq> {
        self.inner()?.seq(Some(len), Some(variant))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Map> {
        self.map(len, None)
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Map> {
        self.map(Some(len), None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Map> {
        self.inner()?.map(Some(len), Some(variant))
    }
}

/// A sequence being built (arrays, tuples).
struct Seq {
    inner: ValueSerializer,
    items: Vec<Value>,
    tag: Option<&'static str>,
}

impl Seq {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.items.push(value.serialize(self.inner)?);
        Ok(())
    }

    fn finish(self) -> Value {
        let array = Value::Array(self.items);
        match self.tag {
            Some(tag) => tagged(tag, array),
            None => array,
        }
    }
}

/// The sequence traits differ only in the name of their element method.
macro_rules! seq_impl {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Seq {
            type Ok = Value;
            type Error = ToValueError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
                self.push(value)
            }
            fn end(self) -> Result<Value> {
                Ok(self.finish())
            }
        }
    )*};
}

seq_impl!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// An object being built (maps, structs).
struct Map {
    inner: ValueSerializer,
    props: Vec<(String, Value)>,
    key: Option<String>,
    tag: Option<&'static str>,
}

impl Map {
    fn field<T: Serialize + ?Sized>(&mut self, key: String, value: &T) -> Result<()> {
        let value = value.serialize(self.inner)?;
        self.props.push((key, value));
        Ok(())
    }

    fn finish(self) -> Value {
        let object = Value::Object(self.props);
        match self.tag {
            Some(tag) => tagged(tag, object),
            None => object,
        }
    }
}

impl ser::SerializeMap for Map {
    type Ok = Value;
    type Error = ToValueError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.key = Some(key.serialize(KeySerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let key = self
            .key
            .take()
            .ok_or_else(|| ToValueError("a map value without a key".into()))?;
        self.field(key, value)
    }
    fn end(self) -> Result<Value> {
        Ok(self.finish())
    }
}

impl ser::SerializeStruct for Map {
    type Ok = Value;
    type Error = ToValueError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.field(key.to_owned(), value)
    }
    fn end(self) -> Result<Value> {
        Ok(self.finish())
    }
}

impl ser::SerializeStructVariant for Map {
    type Ok = Value;
    type Error = ToValueError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.field(key.to_owned(), value)
    }
    fn end(self) -> Result<Value> {
        Ok(self.finish())
    }
}

/// Object keys: strings, or scalars written as strings (as JSON does).
struct KeySerializer;

fn not_a_key() -> ToValueError {
    ToValueError("an object key must be a string, a number, a bool or a char".into())
}

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = ToValueError;
    type SerializeSeq = ser::Impossible<String, ToValueError>;
    type SerializeTuple = ser::Impossible<String, ToValueError>;
    type SerializeTupleStruct = ser::Impossible<String, ToValueError>;
    type SerializeTupleVariant = ser::Impossible<String, ToValueError>;
    type SerializeMap = ser::Impossible<String, ToValueError>;
    type SerializeStruct = ser::Impossible<String, ToValueError>;
    type SerializeStructVariant = ser::Impossible<String, ToValueError>;

    fn serialize_bool(self, v: bool) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_i128(self, v: i128) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_u128(self, v: u128) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_f32(self, v: f32) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_f64(self, v: f64) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_char(self, v: char) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Result<String> {
        Ok(v.to_owned())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<String> {
        Err(not_a_key())
    }
    fn serialize_none(self) -> Result<String> {
        Err(not_a_key())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String> {
        Err(not_a_key())
    }
    fn serialize_unit(self) -> Result<String> {
        Err(not_a_key())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String> {
        Err(not_a_key())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<String> {
        // Not followed: a newtype key nesting itself would recurse without bound.
        Err(not_a_key())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String> {
        Err(not_a_key())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(not_a_key())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
        Err(not_a_key())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(not_a_key())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(not_a_key())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        Err(not_a_key())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        Err(not_a_key())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(not_a_key())
    }
}
