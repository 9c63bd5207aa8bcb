//! `serde` for [`Value`]: `Value` as a `Serialize` / `Deserialize` type (for formats such
//! as JSON text), and the mapping between serde's data model and `Value` in both
//! directions.
//!
//! Straight conversions, without JSON in between: [`Value::from_serde`] (a Rust value into
//! a `Value`, in `value_serializer.rs`), [`Value::to_serde`] (a `Value` into a Rust type,
//! in `value_deserializer.rs`), and the [`Serde`](crate::Serde) wrapper for host function
//! arguments and results. Nothing is lost silently: integers beyond 2^53 travel as
//! `BigInt`s, a fractional number into an integer type fails, a `Map` reads as a map.
//!
//! | `Value` | serialized as (this impl) | `to_serde` gives | from serde (`from_serde`, `Deserialize`) |
//! |---|---|---|---|
//! | `Undefined`, `Null` | unit | unit, `None` | unit, `None` give `Null` |
//! | `Bool` | bool | bool | bool |
//! | `Number` | i64 when integral and below 2^53, else f64 | integer (exactly) or float | integers up to 2^53 and floats |
//! | `BigInt` | its decimal string | any integer width it fits, else its decimal string | integers beyond 2^53 (i64, u64, i128, u128) |
//! | `String` | str | str, unit enum variant, char | str, char, unit variant |
//! | `Array`, `Set` | seq | seq | seq, tuple |
//! | `Object` | map | map, struct, externally tagged enum | map, struct (keys in order), `{variant: data}` |
//! | `Map` | map with its keys as values (JSON refuses keys that are not strings or numbers) | map (struct, `HashMap`; number and bool keys as strings where strings are asked for), or seq of pairs | - |
//! | `Date` | ISO 8601 string as `JSON.stringify` writes it (unit if invalid) | the same string, or ms when a number is asked for | - |
//! | `RegExp` | `"/source/flags"` | the same | - |
//! | `Error` | map `{name, message}` | map `{name, message, stack?}` | - |
//! | `ArrayBuffer`, `TypedArray`, `SharedArrayBuffer` | seq of bytes | bytes, or seq of bytes / elements | bytes give an `ArrayBuffer` (`Deserialize`) or an array of numbers (`from_serde`) |
//! | `ExternalCopy`, `CopyInto` | its data | its data | - |
//! | `Reference`, `DerefInto`, `Callback` | error | error (`NotTransferable`) | - |
//!
//! Every direction refuses data nested deeper than [`MAX_TRANSFER_DEPTH`] with an error
//! instead of recursing until the native stack overflows.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{MAX_TRANSFER_DEPTH, Value};

fn too_deep() -> String {
    format!("value nested deeper than {MAX_TRANSFER_DEPTH} levels")
}

thread_local! {
    /// Containers of [`Value`]s this thread is serializing, outermost first.
    static SERIALIZING: Cell<usize> = const { Cell::new(0) };
}

/// One level of [`SERIALIZING`], left when dropped (also on error).
struct Level;

impl Level {
    fn enter<E: ser::Error>() -> Result<Level, E> {
        let depth = SERIALIZING.get() + 1;
        if depth > MAX_TRANSFER_DEPTH {
            return Err(E::custom(too_deep()));
        }
        SERIALIZING.set(depth);
        Ok(Level)
    }
}

impl Drop for Level {
    fn drop(&mut self) {
        SERIALIZING.set(SERIALIZING.get() - 1);
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if SERIALIZING.get() == 0 && self.has_backrefs() {
            // A graph is written as a tree: shared objects once per place (bounded),
            // cycles refused.
            return self
                .expand_backrefs()
                .map_err(ser::Error::custom)?
                .serialize(s);
        }
        let _level = match self {
            // Containers only: a copy's data counts its own (as ExternalCopy::new measures).
            Value::Array(_) | Value::Set(_) | Value::Object(_) | Value::Map(_) => {
                Some(Level::enter()?)
            }
            _ => None,
        };
        match self {
            Value::Undefined | Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) => {
                if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
                    s.serialize_i64(*n as i64)
                } else {
                    s.serialize_f64(*n)
                }
            }
            Value::BigInt(b) => s.serialize_str(b),
            Value::String(v) => s.serialize_str(v),
            Value::Array(items) | Value::Set(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Value::Object(props) => {
                let mut map = s.serialize_map(Some(props.len()))?;
                for (k, v) in props {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Value::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Value::Date(ms) => match crate::value_deserializer::iso_date(*ms) {
                Some(iso) => s.serialize_str(&iso),
                None => s.serialize_unit(),
            },
            Value::RegExp { source, flags } => s.serialize_str(&format!("/{source}/{flags}")),
            Value::Error(e) => {
                let mut map = s.serialize_map(Some(2))?;
                map.serialize_entry("name", &e.name)?;
                map.serialize_entry("message", &e.message)?;
                map.end()
            }
            Value::ArrayBuffer(bytes) | Value::TypedArray { bytes, .. } => {
                let mut seq = s.serialize_seq(Some(bytes.len()))?;
                for b in bytes {
                    seq.serialize_element(b)?;
                }
                seq.end()
            }
            Value::SharedArrayBuffer(buf) => buf.to_vec().serialize(s),
            Value::ExternalCopy(c) | Value::CopyInto(c) => {
                c.value().map_err(ser::Error::custom)?.serialize(s)
            }
            Value::Reference(_) | Value::DerefInto(_) | Value::Callback(_) => Err(
                ser::Error::custom("a reference or callback is not serializable data"),
            ),
            // Only reached inside a graph that was not expanded (see the check above).
            Value::Backref(_) | Value::TypedArrayView { .. } => {
                Err(ser::Error::custom("a shared reference outside its copy"))
            }
        }
    }
}

/// Deserializes one [`Value`] found inside `depth` containers.
#[derive(Clone, Copy)]
struct ValueSeed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor { depth: self.depth })
    }
}

struct ValueVisitor {
    depth: usize,
}

impl ValueVisitor {
    /// The seed for the elements of a container found at this visitor's depth.
    fn inner<E: de::Error>(&self) -> Result<ValueSeed, E> {
        if self.depth >= MAX_TRANSFER_DEPTH {
            return Err(E::custom(too_deep()));
        }
        Ok(ValueSeed {
            depth: self.depth + 1,
        })
    }
}

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON-like data")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(crate::convert::integer_value(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(crate::convert::integer_value(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(crate::convert::integer_value(v))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(crate::convert::unsigned_value(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Number(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::ArrayBuffer(v.to_vec()))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    // Wrappers count as a level too: a format could nest them without end.
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.inner()?.deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.inner()?.deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let seed = self.inner()?;
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element_seed(seed)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let seed = self.inner()?;
        let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some(k) = map.next_key::<String>()? {
            out.push((k, map.next_value_seed(seed)?));
        }
        Ok(Value::Object(out))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        ValueSeed { depth: 0 }.deserialize(d)
    }
}
