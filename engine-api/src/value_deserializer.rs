//! A serde `Deserializer` over a borrowed [`Value`]: Rust types read straight out of a
//! value, without `serde_json` in between, nesting at most [`MAX_TRANSFER_DEPTH`] levels.
//!
//! The mapping is the table in the docs of [`Value::to_serde`]; the reverse direction is in
//! `value_serializer.rs`.

use std::fmt;

use serde::de::value::{MapDeserializer, StrDeserializer};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use serde::forward_to_deserialize_any;

use crate::{Error, MAX_TRANSFER_DEPTH, Result, TypedArrayKind, Value};

/// Why a [`Value`] did not deserialize into the asked type.
#[derive(Debug)]
pub struct FromValueError(String);

impl fmt::Display for FromValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FromValueError {}

impl de::Error for FromValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        FromValueError(msg.to_string())
    }
}

type De<T> = std::result::Result<T, FromValueError>;

impl Value {
    /// Reads this value into a Rust type through serde, without JSON in between.
    ///
    /// | `Value` | deserializes as |
    /// |---|---|
    /// | `Undefined`, `Null` | unit, `None` |
    /// | `Bool` | bool |
    /// | `Number` | an integer when integral (exact: `1.5` into an integer type fails, a number beyond 2^53 stays exact), else a float |
    /// | `BigInt` | an integer of any width it fits (`i64`, `u64`, `i128`, `u128`), else its decimal string |
    /// | `String` | a string, a unit enum variant, a one-char `char` |
    /// | `Array`, `Set` | a sequence (a `Vec`, a tuple, a struct by position) |
    /// | `Object` | a map (a struct, a `HashMap`; keys parse into integer or bool keys), or an externally tagged enum variant when it has one key |
    /// | `Map` | a map with its keys as values (a struct or `HashMap<String, _>` from string keys, `HashMap<u32, _>` from number keys; a number or bool key reads as its JS string form where a string is asked for), or a sequence of `(key, value)` pairs when a sequence is asked for |
    /// | `Date` | an ISO 8601 string (`2024-01-02T03:04:05.678Z`, as `JSON.stringify`), or its milliseconds when a number is asked for; an invalid date is unit |
    /// | `RegExp` | the string `/source/flags` |
    /// | `Error` | a map `{name, message, stack?}` |
    /// | `ArrayBuffer`, `SharedArrayBuffer` | bytes when bytes are asked for, else a sequence of `u8` |
    /// | `TypedArray` | bytes when bytes are asked for, else a sequence of its elements (`Float64Array` into `Vec<f64>`, `BigInt64Array` into `Vec<i64>`) |
    /// | `ExternalCopy`, `CopyInto` | its data |
    /// | `Reference`, `DerefInto`, `Callback` | an error: a handle is not data |
    ///
    /// Shared objects ([`Value::Backref`]) read as a copy at each place they appear
    /// (through [`Value::expand_backrefs`]); a cycle fails with [`Error::Deserialize`], and
    /// so does an expansion past [`MAX_EXPANSION_BYTES`](crate::MAX_EXPANSION_BYTES).
    ///
    /// Fails with [`Error::Deserialize`] when the value does not have the shape `T`
    /// asks for, [`Error::Released`] for a released external copy inside, and
    /// [`Error::NotTransferable`] for a handle or data nested deeper than
    /// [`MAX_TRANSFER_DEPTH`].
    ///
    /// ```
    /// use engine_api::Value;
    /// #[derive(serde::Deserialize, Debug, PartialEq)]
    /// struct User { id: u64, tags: Vec<String> }
    /// let v = Value::object([
    ///     ("id", Value::BigInt("18446744073709551615".into())),
    ///     ("tags", Value::from(vec!["a"])),
    /// ]);
    /// assert_eq!(v.to_serde::<User>().unwrap(), User { id: u64::MAX, tags: vec!["a".into()] });
    /// assert!(Value::from(1.5).to_serde::<u32>().is_err());
    /// ```
    pub fn to_serde<T: DeserializeOwned>(&self) -> Result<T> {
        if self.has_backrefs() {
            // Shared objects are read once per place they appear, within a bound.
            return self.expand_backrefs()?.to_serde();
        }
        T::deserialize(ValueDeserializer::new(self)).map_err(|e| {
            let m = e.0;
            if m.starts_with(HANDLE) || m.starts_with(TOO_DEEP) {
                Error::NotTransferable(m)
            } else if m.starts_with(RELEASED) {
                Error::Released("external copy")
            } else {
                Error::Deserialize(m)
            }
        })
    }
}

const HANDLE: &str = "a reference or function is not data";
const TOO_DEEP: &str = "value nested deeper than";
const RELEASED: &str = "external copy has been released";

/// Deserializes one borrowed [`Value`]; `&Value` is a `Deserializer` through it.
#[derive(Clone, Copy)]
pub struct ValueDeserializer<'de> {
    value: &'de Value,
    depth: usize,
}

impl<'de> ValueDeserializer<'de> {
    /// A deserializer reading `value`.
    pub fn new(value: &'de Value) -> Self {
        ValueDeserializer { value, depth: 0 }
    }

    fn child(&self, value: &'de Value) -> De<ValueDeserializer<'de>> {
        if self.depth >= MAX_TRANSFER_DEPTH {
            return Err(FromValueError(format!(
                "{TOO_DEEP} {MAX_TRANSFER_DEPTH} levels"
            )));
        }
        Ok(ValueDeserializer {
            value,
            depth: self.depth + 1,
        })
    }
}

impl fmt::Debug for ValueDeserializer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValueDeserializer")
            .field("depth", &self.depth)
            .finish_non_exhaustive()
    }
}

impl<'de> de::Deserializer<'de> for &'de Value {
    type Error = FromValueError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> De<V::Value> {
        ValueDeserializer::new(self).deserialize_any(visitor)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

fn number<'de, V: Visitor<'de>>(n: f64, visitor: V) -> De<V::Value> {
    // Every integral f64 in these ranges converts exactly.
    let negative_zero = n == 0.0 && n.is_sign_negative();
    if n.fract() == 0.0 && !negative_zero {
        if (0.0..1.8e19).contains(&n) {
            return visitor.visit_u64(n as u64);
        }
        if (-9.2e18..0.0).contains(&n) {
            return visitor.visit_i64(n as i64);
        }
    }
    visitor.visit_f64(n)
}

fn bigint<'de, V: Visitor<'de>>(s: &'de str, visitor: V) -> De<V::Value> {
    if let Ok(n) = s.parse::<i64>() {
        visitor.visit_i64(n)
    } else if let Ok(n) = s.parse::<u64>() {
        visitor.visit_u64(n)
    } else if let Ok(n) = s.parse::<i128>() {
        visitor.visit_i128(n)
    } else if let Ok(n) = s.parse::<u128>() {
        visitor.visit_u128(n)
    } else {
        visitor.visit_borrowed_str(s)
    }
}

impl<'de> ValueDeserializer<'de> {
    /// The data of an external copy, read at this depth.
    fn copied(&self, c: &'de crate::ExternalCopy) -> De<ValueDeserializer<'de>> {
        let value = c.value().map_err(|_| FromValueError(RELEASED.into()))?;
        Ok(ValueDeserializer {
            value,
            depth: self.depth,
        })
    }
}

impl<'de> de::Deserializer<'de> for ValueDeserializer<'de> {
    type Error = FromValueError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> De<V::Value> {
        match self.value {
            Value::Undefined | Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => number(*n, visitor),
            Value::BigInt(s) => bigint(s, visitor),
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) | Value::Set(items) => visitor.visit_seq(Seq {
                parent: self,
                items: items.iter(),
            }),
            Value::Object(props) => visitor.visit_map(Entries {
                parent: self,
                entries: props.iter(),
                value: None,
            }),
            Value::Map(entries) => visitor.visit_map(Entries {
                parent: self,
                entries: entries.iter(),
                value: None,
            }),
            Value::Date(ms) => match iso_date(*ms) {
                Some(s) => visitor.visit_string(s),
                None => visitor.visit_unit(),
            },
            Value::RegExp { source, flags } => visitor.visit_string(format!("/{source}/{flags}")),
            Value::Error(e) => {
                let mut fields = vec![("name", e.name.as_str()), ("message", e.message.as_str())];
                if let Some(stack) = &e.stack {
                    fields.push(("stack", stack.as_str()));
                }
                visitor.visit_map(MapDeserializer::new(fields.into_iter()))
            }
            Value::ArrayBuffer(bytes) => {
                visitor.visit_seq(Elements::new(bytes, TypedArrayKind::Uint8))
            }
            Value::SharedArrayBuffer(buf) => {
                let bytes = buf.to_vec();
                visitor.visit_seq(Elements::new(&bytes, TypedArrayKind::Uint8))
            }
            Value::TypedArray { kind, bytes } => visitor.visit_seq(Elements::new(bytes, *kind)),
            Value::ExternalCopy(c) | Value::CopyInto(c) => self.copied(c)?.deserialize_any(visitor),
            Value::Reference(_) | Value::DerefInto(_) | Value::Callback(_) => {
                Err(FromValueError(HANDLE.into()))
            }
            // `to_serde` expands these first; a deserializer built by hand meets them here.
            Value::Backref(_) | Value::TypedArrayView { .. } => Err(FromValueError(
                "a shared reference: read it with Value::to_serde or expand_backrefs".into(),
            )),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> De<V::Value> {
        match self.value {
            Value::Undefined | Value::Null => visitor.visit_none(),
            Value::ExternalCopy(c) | Value::CopyInto(c) => {
                self.copied(c)?.deserialize_option(visitor)
            }
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> De<V::Value> {
        match self.value {
            Value::ArrayBuffer(b) | Value::TypedArray { bytes: b, .. } => {
                visitor.visit_borrowed_bytes(b)
            }
            Value::SharedArrayBuffer(buf) => visitor.visit_byte_buf(buf.to_vec()),
            Value::String(s) => visitor.visit_borrowed_bytes(s.as_bytes()),
            Value::ExternalCopy(c) | Value::CopyInto(c) => {
                self.copied(c)?.deserialize_bytes(visitor)
            }
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> De<V::Value> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> De<V::Value> {
        match self.value {
            Value::Map(entries) => visitor.visit_seq(Pairs {
                parent: self,
                entries: entries.iter(),
            }),
            Value::ExternalCopy(c) | Value::CopyInto(c) => self.copied(c)?.deserialize_seq(visitor),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> De<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> De<V::Value> {
        match self.value {
            Value::Date(ms) => visitor.visit_f64(*ms),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> De<V::Value> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> De<V::Value> {
        match self.value {
            Value::Date(ms) => number(*ms, visitor),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> De<V::Value> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> De<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> De<V::Value> {
        match self.value {
            Value::String(s) => visitor.visit_enum(StrDeserializer::<FromValueError>::new(s)),
            Value::Object(props) if props.len() == 1 => {
                let (tag, value) = &props[0];
                visitor.visit_enum(Variant {
                    tag,
                    value: self.child(value)?,
                })
            }
            Value::ExternalCopy(c) | Value::CopyInto(c) => {
                self.copied(c)?.deserialize_enum(_name, _variants, visitor)
            }
            other => Err(FromValueError(format!(
                "expected an enum (a string or an object with one key), got {}",
                crate::convert::describe(other)
            ))),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> De<V::Value> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i128 u8 u16 u32 u128 char str string
        unit unit_struct tuple_struct map struct identifier
    }
}

/// Elements of an array or set.
struct Seq<'de> {
    parent: ValueDeserializer<'de>,
    items: std::slice::Iter<'de, Value>,
}

impl<'de> SeqAccess<'de> for Seq<'de> {
    type Error = FromValueError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> De<Option<T::Value>> {
        match self.items.next() {
            Some(v) => seed.deserialize(self.parent.child(v)?).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// The entries of an object (`K` = `String`) or a `Map` (`K` = `Value`).
struct Entries<'de, K> {
    parent: ValueDeserializer<'de>,
    entries: std::slice::Iter<'de, (K, Value)>,
    value: Option<&'de Value>,
}

/// How the key of an entry deserializes.
trait EntryKey<'de> {
    type Deserializer: de::Deserializer<'de, Error = FromValueError>;
    fn key(&'de self, parent: &ValueDeserializer<'de>) -> De<Self::Deserializer>;
}

impl<'de> EntryKey<'de> for String {
    type Deserializer = Key<'de>;
    fn key(&'de self, _: &ValueDeserializer<'de>) -> De<Key<'de>> {
        Ok(Key(self))
    }
}

impl<'de> EntryKey<'de> for Value {
    type Deserializer = MapKey<'de>;
    fn key(&'de self, parent: &ValueDeserializer<'de>) -> De<MapKey<'de>> {
        Ok(MapKey(parent.child(self)?))
    }
}

impl<'de, K: EntryKey<'de>> MapAccess<'de> for Entries<'de, K> {
    type Error = FromValueError;

    fn next_key_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> De<Option<S::Value>> {
        match self.entries.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(k.key(&self.parent)?).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> De<V::Value> {
        let v = self
            .value
            .take()
            .ok_or_else(|| FromValueError("a map value without a key".into()))?;
        seed.deserialize(self.parent.child(v)?)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A `Map` key: the value itself, except that a string-keyed target (a `HashMap<String,
/// _>`, a JSON object) reads a number or bool key as its JS string form (`1` as `"1"`).
struct MapKey<'de>(ValueDeserializer<'de>);

impl MapKey<'_> {
    fn as_text(&self) -> Option<String> {
        match self.0.value {
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e21 => Some(format!("{n:.0}")),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::BigInt(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl<'de> de::Deserializer<'de> for MapKey<'de> {
    type Error = FromValueError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> De<V::Value> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> De<V::Value> {
        match self.as_text() {
            Some(text) => visitor.visit_string(text),
            None => self.0.deserialize_str(visitor),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> De<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> De<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> De<V::Value> {
        self.0.deserialize_option(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> De<V::Value> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> De<V::Value> {
        self.0.deserialize_newtype_struct(name, visitor)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct ignored_any
    }
}

/// Entries of a `Map` as `[key, value]` pairs.
struct Pairs<'de> {
    parent: ValueDeserializer<'de>,
    entries: std::slice::Iter<'de, (Value, Value)>,
}

impl<'de> SeqAccess<'de> for Pairs<'de> {
    type Error = FromValueError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> De<Option<T::Value>> {
        match self.entries.next() {
            Some((k, v)) => {
                let pair = Pair {
                    key: Some(self.parent.child(k)?.child(k)?),
                    value: Some(self.parent.child(v)?.child(v)?),
                };
                seed.deserialize(pair).map(Some)
            }
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// One `[key, value]` pair of a `Map`, as a two-element sequence.
struct Pair<'de> {
    key: Option<ValueDeserializer<'de>>,
    value: Option<ValueDeserializer<'de>>,
}

impl<'de> de::Deserializer<'de> for Pair<'de> {
    type Error = FromValueError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> De<V::Value> {
        visitor.visit_seq(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> SeqAccess<'de> for Pair<'de> {
    type Error = FromValueError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> De<Option<T::Value>> {
        match self.key.take().or_else(|| self.value.take()) {
            Some(d) => seed.deserialize(d).map(Some),
            None => Ok(None),
        }
    }
}

/// An object key: a string, parsed when an integer or a bool is asked for (as JSON keys).
struct Key<'de>(&'de str);

macro_rules! parsed_key {
    ($($method:ident => $visit:ident : $t:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> De<V::Value> {
            match self.0.parse::<$t>() {
                Ok(n) => visitor.$visit(n),
                Err(_) => visitor.visit_borrowed_str(self.0),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Key<'de> {
    type Error = FromValueError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> De<V::Value> {
        visitor.visit_borrowed_str(self.0)
    }

    parsed_key!(
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
        deserialize_u128 => visit_u128: u128
    );

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> De<V::Value> {
        visitor.visit_enum(StrDeserializer::<FromValueError>::new(self.0))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> De<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        f32 f64 char str string bytes byte_buf option unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// `{tag: value}` as an enum variant with data.
struct Variant<'de> {
    tag: &'de str,
    value: ValueDeserializer<'de>,
}

impl<'de> EnumAccess<'de> for Variant<'de> {
    type Error = FromValueError;
    type Variant = ValueDeserializer<'de>;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> De<(T::Value, Self::Variant)> {
        let tag = seed.deserialize(StrDeserializer::<FromValueError>::new(self.tag))?;
        Ok((tag, self.value))
    }
}

impl<'de> VariantAccess<'de> for ValueDeserializer<'de> {
    type Error = FromValueError;

    fn unit_variant(self) -> De<()> {
        match self.value {
            Value::Undefined | Value::Null => Ok(()),
            other => Err(FromValueError(format!(
                "expected no data for a unit variant, got {}",
                crate::convert::describe(other)
            ))),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> De<T::Value> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> De<V::Value> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> De<V::Value> {
        de::Deserializer::deserialize_any(self, visitor)
    }
}

/// The elements of a typed array (or the bytes of a buffer), decoded little-endian.
struct Elements<'a> {
    chunks: std::slice::ChunksExact<'a, u8>,
    kind: TypedArrayKind,
}

impl<'a> Elements<'a> {
    fn new(bytes: &'a [u8], kind: TypedArrayKind) -> Self {
        Elements {
            chunks: bytes.chunks_exact(kind.element_size()),
            kind,
        }
    }
}

impl<'de> SeqAccess<'de> for Elements<'_> {
    type Error = FromValueError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> De<Option<T::Value>> {
        use TypedArrayKind::*;
        let Some(c) = self.chunks.next() else {
            return Ok(None);
        };
        let arr = |n: usize| -> [u8; 8] {
            let mut a = [0u8; 8];
            a[..n].copy_from_slice(&c[..n]);
            a
        };
        let out =
            match self.kind {
                Int8 => seed.deserialize((c[0] as i8).into_deserializer()),
                Uint8 | Uint8Clamped | DataView => seed.deserialize(c[0].into_deserializer()),
                Int16 => seed.deserialize(i16::from_le_bytes([c[0], c[1]]).into_deserializer()),
                Uint16 => seed.deserialize(u16::from_le_bytes([c[0], c[1]]).into_deserializer()),
                Int32 => seed
                    .deserialize(i32::from_le_bytes([c[0], c[1], c[2], c[3]]).into_deserializer()),
                Uint32 => seed
                    .deserialize(u32::from_le_bytes([c[0], c[1], c[2], c[3]]).into_deserializer()),
                Float32 => seed
                    .deserialize(f32::from_le_bytes([c[0], c[1], c[2], c[3]]).into_deserializer()),
                Float64 => seed.deserialize(f64::from_le_bytes(arr(8)).into_deserializer()),
                BigInt64 => seed.deserialize(i64::from_le_bytes(arr(8)).into_deserializer()),
                BigUint64 => seed.deserialize(u64::from_le_bytes(arr(8)).into_deserializer()),
            };
        out.map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.chunks.len())
    }
}

/// A time value as `JSON.stringify` writes it (`YYYY-MM-DDTHH:mm:ss.sssZ`, years outside
/// 0..=9999 as `+YYYYYY`/`-YYYYYY`), as `Date.prototype.toISOString` does; `None` for an
/// invalid date.
///
/// ```
/// assert_eq!(engine_api::iso_date(0.0).as_deref(), Some("1970-01-01T00:00:00.000Z"));
/// assert_eq!(engine_api::iso_date(f64::NAN), None);
/// ```
pub fn iso_date(ms: f64) -> Option<String> {
    // The ECMAScript time range: ±8.64e15 ms around the epoch.
    if !ms.is_finite() || ms.abs() > 8.64e15 {
        return None;
    }
    let ms = ms.trunc() as i64;
    let (days, in_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let year = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else {
        format!("{year:+07}")
    };
    let (h, m, s, milli) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    Some(format!(
        "{year}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    #[test]
    fn dates_format_as_json_does() {
        assert_eq!(iso_date(0.0).unwrap(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso_date(1_704_164_645_678.0).unwrap(),
            "2024-01-02T03:04:05.678Z"
        );
        assert_eq!(iso_date(-1.0).unwrap(), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso_date(8.64e15).unwrap(), "+275760-09-13T00:00:00.000Z");
        assert_eq!(iso_date(-8.64e15).unwrap(), "-271821-04-20T00:00:00.000Z");
        assert_eq!(iso_date(f64::NAN), None);
        let d = Value::Date(0.0);
        assert_eq!(d.to_serde::<f64>().unwrap(), 0.0);
        assert_eq!(d.to_serde::<String>().unwrap(), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn maps_read_as_maps_structs_or_pairs() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct S {
            a: u8,
        }
        let m = Value::Map(vec![("a".into(), 1.into())]);
        assert_eq!(m.to_serde::<S>().unwrap(), S { a: 1 });
        assert_eq!(m.to_serde::<HashMap<String, u8>>().unwrap()["a"], 1);
        assert_eq!(
            m.to_serde::<Vec<(String, u8)>>().unwrap(),
            vec![("a".to_owned(), 1)]
        );
        let n = Value::Map(vec![(7.into(), "x".into())]);
        assert_eq!(n.to_serde::<BTreeMap<u32, String>>().unwrap()[&7], "x");
        let o = Value::object([("7", Value::from(true))]);
        assert!(o.to_serde::<BTreeMap<u32, bool>>().unwrap()[&7]);
    }

    #[test]
    fn numbers_are_exact() {
        assert_eq!(Value::from(3).to_serde::<u8>().unwrap(), 3);
        assert!(Value::from(256).to_serde::<u8>().is_err());
        assert!(Value::from(1.5).to_serde::<i64>().is_err());
        assert_eq!(Value::from(1.5).to_serde::<f32>().unwrap(), 1.5);
        let big = Value::BigInt((u128::MAX).to_string());
        assert_eq!(big.to_serde::<u128>().unwrap(), u128::MAX);
        assert!(big.to_serde::<u64>().is_err());
        let huge = Value::BigInt("1".repeat(50));
        assert_eq!(huge.to_serde::<String>().unwrap(), "1".repeat(50));
        assert!(
            Value::Number(-0.0)
                .to_serde::<f64>()
                .unwrap()
                .is_sign_negative()
        );
    }

    #[test]
    fn buffers_enums_and_handles() {
        let f = Value::TypedArray {
            kind: TypedArrayKind::Float64,
            bytes: [1.5f64.to_le_bytes(), 2.0f64.to_le_bytes()].concat(),
        };
        assert_eq!(f.to_serde::<Vec<f64>>().unwrap(), vec![1.5, 2.0]);
        assert_eq!(
            Value::ArrayBuffer(vec![1, 2])
                .to_serde::<Vec<u8>>()
                .unwrap(),
            vec![1, 2]
        );
        #[derive(serde::Deserialize, Debug, PartialEq)]
        enum E {
            A,
            B(u8),
            C { x: bool },
        }
        assert_eq!(Value::from("A").to_serde::<E>().unwrap(), E::A);
        assert_eq!(
            Value::object([("B", Value::from(2))])
                .to_serde::<E>()
                .unwrap(),
            E::B(2)
        );
        let c = Value::object([("C", Value::object([("x", Value::from(true))]))]);
        assert_eq!(c.to_serde::<E>().unwrap(), E::C { x: true });
        let cb = Value::Callback(crate::Callback::new(|_| Ok(Value::Null)));
        assert!(matches!(
            cb.to_serde::<()>(),
            Err(Error::NotTransferable(_))
        ));
        let copy = crate::ExternalCopy::new(Value::from(5)).unwrap();
        let v = Value::ExternalCopy(copy.clone());
        assert_eq!(v.to_serde::<u8>().unwrap(), 5);
        copy.release();
        assert!(matches!(v.to_serde::<u8>(), Err(Error::Released(_))));
    }

    #[test]
    fn depth_is_bounded() {
        let mut v = Value::Null;
        for _ in 0..(MAX_TRANSFER_DEPTH + 10) {
            v = Value::Array(vec![v]);
        }
        let err = v.to_serde::<serde::de::IgnoredAny>();
        // IgnoredAny skips without descending; a type that descends is refused.
        assert!(err.is_ok());
        let mut w = Value::Null;
        for _ in 0..(MAX_TRANSFER_DEPTH + 10) {
            w = Value::Array(vec![w]);
        }
        assert!(matches!(
            w.to_serde::<Vec<serde_json_like::Any>>(),
            Err(Error::NotTransferable(_))
        ));
        crate::drop_values([v, w]);
    }

    mod serde_json_like {
        /// Reads anything, descending into sequences.
        pub struct Any;
        impl<'de> serde::Deserialize<'de> for Any {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Any, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = Any;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("anything")
                    }
                    fn visit_unit<E>(self) -> Result<Any, E> {
                        Ok(Any)
                    }
                    fn visit_seq<A: serde::de::SeqAccess<'de>>(
                        self,
                        mut a: A,
                    ) -> Result<Any, A::Error> {
                        while a.next_element::<Any>()?.is_some() {}
                        Ok(Any)
                    }
                }
                d.deserialize_any(V)
            }
        }
    }
}
