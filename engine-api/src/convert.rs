//! Conversions between Rust types and [`Value`]: the arguments and results of typed host
//! functions ([`Callback::wrap`](crate::Callback::wrap)).
//!
//! [`FromValue`] reads a Rust value out of a [`Value`], failing with a JS `TypeError`
//! ([`Error::Js`]) that names the expected type; [`IntoValue`] builds a [`Value`]. Both are
//! implemented for the primitives, `String`, `Option<T>`, `Vec<T>`, `HashMap<String, T>`,
//! [`Value`] itself and the handles ([`ExternalCopy`], [`AnyReference`], [`Callback`]);
//! any serde type goes through the [`Serde`] wrapper, straight to and from [`Value`] (no
//! JSON in between).
//!
//! Integers convert exactly or not at all: a number with a fraction, or outside the
//! target's range, is a `TypeError`, never rounded; a `BigInt` converts into an integer
//! type it fits in. A Rust integer that a JS number cannot hold exactly (beyond 2^53)
//! becomes a `BigInt`.

use std::collections::HashMap;
use std::hash::BuildHasher;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{AnyReference, Callback, Error, ExternalCopy, Result, Value};

/// A Rust value read out of a [`Value`]: the arguments of typed host functions
/// ([`Callback::wrap`]).
///
/// Fails with a JS `TypeError` ([`Error::Js`]) naming the expected type. Implemented for
/// the primitives, `String`, `Option<T>` (`undefined` and `null` are `None`), `Vec<T>`
/// (from an array or a `Set`), `HashMap<String, T>` (from an object or a `Map` with string
/// keys), [`Value`] itself, the handles ([`ExternalCopy`], [`AnyReference`], [`Callback`])
/// and any serde type through [`Serde`]. Integers convert exactly or not at all: a number
/// with a fraction or outside the target's range is a `TypeError`, never rounded; a
/// `BigInt` converts into an integer type it fits in.
///
/// ```
/// use engine_api::{FromValue, IntoValue, Serde, Value};
///
/// assert_eq!(f64::from_value(Value::from(1.5)).unwrap(), 1.5);
/// assert_eq!(Option::<String>::from_value(Value::Undefined).unwrap(), None);
/// assert_eq!(Vec::<u8>::from_value(Value::from(vec![1, 2])).unwrap(), vec![1, 2]);
/// let err = u8::from_value(Value::from(300)).unwrap_err();
/// assert_eq!(err.as_js().unwrap().name, "TypeError");
/// assert_eq!((1u64 << 60).into_value().unwrap(), Value::BigInt("1152921504606846976".into()));
///
/// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
/// struct Point { x: i32, y: i32 }
/// let v = Serde(Point { x: 1, y: 2 }).into_value().unwrap();
/// assert_eq!(v.get("x"), Some(&Value::from(1)));
/// assert_eq!(Serde::<Point>::from_value(v).unwrap().0, Point { x: 1, y: 2 });
/// ```
pub trait FromValue: Sized {
    /// What this type accepts, for error messages (`"a number"`, `"a string"`, ..).
    fn expected() -> String;

    /// Converts, or fails with a `TypeError`.
    fn from_value(value: Value) -> Result<Self>;
}

/// A Rust value turned into a [`Value`]: the results of typed host functions.
///
/// Implemented for the types [`FromValue`] is, the other way; `()` is `undefined`, `None`
/// is `null`, and an integer that a JS number cannot hold exactly (beyond 2^53) becomes a
/// `BigInt` instead of being rounded.
pub trait IntoValue {
    /// Converts. Fails for what has no [`Value`] form (a serde type that does not
    /// serialize, data nested deeper than [`MAX_TRANSFER_DEPTH`](crate::MAX_TRANSFER_DEPTH)).
    fn into_value(self) -> Result<Value>;
}

/// A serde type as a host function argument or result (or any [`FromValue`] /
/// [`IntoValue`] position): it converts straight between [`Value`] and `T` through serde.
///
/// See [`Value::to_serde`] and [`Value::from_serde`] for the mapping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Serde<T>(pub T);

/// A short description of what `value` is, for error messages.
pub(crate) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Undefined => "undefined",
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::BigInt(_) => "a bigint",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
        Value::Map(_) => "a Map",
        Value::Set(_) => "a Set",
        Value::Date(_) => "a Date",
        Value::RegExp { .. } => "a RegExp",
        Value::Error(_) => "an Error",
        Value::ArrayBuffer(_) => "an ArrayBuffer",
        Value::TypedArray { .. } => "a typed array",
        Value::SharedArrayBuffer(_) => "a SharedArrayBuffer",
        Value::Reference(_) => "a reference",
        Value::ExternalCopy(_) | Value::CopyInto(_) => "an external copy",
        Value::DerefInto(_) => "a dereferenced reference",
        Value::Callback(_) => "a function",
        Value::Backref(_) => "a shared reference",
        Value::TypedArrayView { .. } => "a typed array",
    }
}

/// The `TypeError` for `value` where `T` was expected.
fn mismatch<T: FromValue>(value: &Value) -> Error {
    Error::js(
        "TypeError",
        format!("expected {}, got {}", T::expected(), describe(value)),
    )
}

/// Prefixes the message of a conversion `TypeError` with where it happened
/// (`argument 1: expected a number, got a string`).
pub(crate) fn at(place: impl std::fmt::Display, e: Error) -> Error {
    match e {
        Error::Js(mut js) if js.name == "TypeError" => {
            js.message = format!("{place}: {}", js.message);
            Error::Js(js)
        }
        other => other,
    }
}

impl FromValue for Value {
    fn expected() -> String {
        "any value".into()
    }
    fn from_value(value: Value) -> Result<Self> {
        Ok(value)
    }
}

impl FromValue for bool {
    fn expected() -> String {
        "a boolean".into()
    }
    fn from_value(value: Value) -> Result<Self> {
        value.as_bool().ok_or_else(|| mismatch::<Self>(&value))
    }
}

impl FromValue for f64 {
    fn expected() -> String {
        "a number".into()
    }
    fn from_value(value: Value) -> Result<Self> {
        value.as_f64().ok_or_else(|| mismatch::<Self>(&value))
    }
}

impl FromValue for f32 {
    fn expected() -> String {
        "a number".into()
    }
    fn from_value(value: Value) -> Result<Self> {
        // Narrowing a float is what f32 means; no integer is rounded here.
        value
            .as_f64()
            .map(|n| n as f32)
            .ok_or_else(|| mismatch::<Self>(&value))
    }
}

/// Integers: from an integral number in range, or a BigInt that fits.
macro_rules! integer {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn expected() -> String {
                format!("an integer in {}..={}", <$t>::MIN, <$t>::MAX)
            }
            fn from_value(value: Value) -> Result<Self> {
                let got = match &value {
                    Value::Number(n) if n.fract() == 0.0 => {
                        // Exact: i128 holds every integral f64 in the ranges we accept.
                        if n.abs() < 1.7e38 { <$t>::try_from(*n as i128).ok() } else { None }
                    }
                    Value::BigInt(s) => s.parse::<$t>().ok(),
                    _ => None,
                };
                got.ok_or_else(|| mismatch::<Self>(&value))
            }
        }

        impl IntoValue for $t {
            fn into_value(self) -> Result<Value> {
                Ok(integer_value(self as i128))
            }
        }
    )*};
}

/// An integer as a number when a JS number holds it exactly, else as a BigInt.
pub(crate) fn integer_value(n: i128) -> Value {
    const EXACT: i128 = 1 << 53;
    if (-EXACT..=EXACT).contains(&n) {
        Value::Number(n as f64)
    } else {
        Value::BigInt(n.to_string())
    }
}

integer!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, i128);

impl FromValue for u128 {
    fn expected() -> String {
        format!("an integer in 0..={}", u128::MAX)
    }
    fn from_value(value: Value) -> Result<Self> {
        let got = match &value {
            Value::Number(n) if n.fract() == 0.0 && *n >= 0.0 && *n < 1.7e38 => Some(*n as u128),
            Value::BigInt(s) => s.parse().ok(),
            _ => None,
        };
        got.ok_or_else(|| mismatch::<Self>(&value))
    }
}

impl IntoValue for u128 {
    fn into_value(self) -> Result<Value> {
        Ok(unsigned_value(self))
    }
}

/// [`integer_value`] for the one width `i128` does not cover.
pub(crate) fn unsigned_value(n: u128) -> Value {
    match i128::try_from(n) {
        Ok(n) => integer_value(n),
        Err(_) => Value::BigInt(n.to_string()),
    }
}

impl FromValue for String {
    fn expected() -> String {
        "a string".into()
    }
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::String(s) => Ok(s),
            other => Err(mismatch::<Self>(&other)),
        }
    }
}

impl FromValue for char {
    fn expected() -> String {
        "a one-character string".into()
    }
    fn from_value(value: Value) -> Result<Self> {
        let mut chars = value.as_str().unwrap_or_default().chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(c),
            _ => Err(mismatch::<Self>(&value)),
        }
    }
}

/// `undefined` and `null` are `None`.
impl<T: FromValue> FromValue for Option<T> {
    fn expected() -> String {
        format!("{} or undefined", T::expected())
    }
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Undefined | Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// From an array or a `Set`.
impl<T: FromValue> FromValue for Vec<T> {
    fn expected() -> String {
        format!("an array of {}", T::expected())
    }
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Array(items) | Value::Set(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| T::from_value(v).map_err(|e| at(format_args!("element {i}"), e)))
                .collect(),
            other => Err(mismatch::<Self>(&other)),
        }
    }
}

/// From a plain object, or a `Map` whose keys are all strings.
impl<T: FromValue, S: BuildHasher + Default> FromValue for HashMap<String, T, S> {
    fn expected() -> String {
        format!("an object of {}", T::expected())
    }
    fn from_value(value: Value) -> Result<Self> {
        let entry = |k: String, v: Value| {
            let v = T::from_value(v).map_err(|e| at(format_args!("property {k:?}"), e))?;
            Ok((k, v))
        };
        match value {
            Value::Object(props) => props.into_iter().map(|(k, v)| entry(k, v)).collect(),
            Value::Map(entries) if entries.iter().all(|(k, _)| k.as_str().is_some()) => entries
                .into_iter()
                .map(|(k, v)| entry(k.as_str().unwrap_or_default().to_owned(), v))
                .collect(),
            other => Err(mismatch::<Self>(&other)),
        }
    }
}

/// Handles, taken as they are.
macro_rules! handle {
    ($($t:ident: $what:literal <- $($variant:ident)|+;)*) => {$(
        impl FromValue for $t {
            fn expected() -> String {
                $what.into()
            }
            fn from_value(value: Value) -> Result<Self> {
                match value {
                    $(Value::$variant(h))|+ => Ok(h),
                    other => Err(mismatch::<Self>(&other)),
                }
            }
        }
    )*};
}

handle! {
    ExternalCopy: "an external copy" <- ExternalCopy | CopyInto;
    AnyReference: "a reference" <- Reference | DerefInto;
    Callback: "a host function" <- Callback;
}

impl<T: DeserializeOwned> FromValue for Serde<T> {
    fn expected() -> String {
        std::any::type_name::<T>().into()
    }
    fn from_value(value: Value) -> Result<Self> {
        let out = value.to_serde::<T>();
        // Conversion failures are the guest's wrong argument: a TypeError, like the rest.
        crate::drop_values([value]);
        out.map(Serde).map_err(|e| match e {
            Error::Deserialize(m) | Error::NotTransferable(m) => Error::js(
                "TypeError",
                format!("expected {}: {m}", std::any::type_name::<T>()),
            ),
            other => other,
        })
    }
}

impl<T: Serialize> IntoValue for Serde<T> {
    fn into_value(self) -> Result<Value> {
        Value::from_serde(&self.0)
    }
}

/// Types whose [`From`] impl into [`Value`] is exact.
macro_rules! into_by_from {
    ($($t:ty),*) => {$(
        impl IntoValue for $t {
            fn into_value(self) -> Result<Value> {
                Ok(Value::from(self))
            }
        }
    )*};
}

into_by_from!(
    Value,
    bool,
    f64,
    f32,
    String,
    &str,
    (),
    ExternalCopy,
    AnyReference,
    Callback
);

impl IntoValue for char {
    fn into_value(self) -> Result<Value> {
        Ok(Value::String(self.to_string()))
    }
}

/// `None` is `null`.
impl<T: IntoValue> IntoValue for Option<T> {
    fn into_value(self) -> Result<Value> {
        self.map_or(Ok(Value::Null), IntoValue::into_value)
    }
}

impl<T: IntoValue> IntoValue for Vec<T> {
    fn into_value(self) -> Result<Value> {
        self.into_iter()
            .map(IntoValue::into_value)
            .collect::<Result<_>>()
            .map(Value::Array)
    }
}

/// A plain object (in the map's iteration order).
impl<T: IntoValue, S> IntoValue for HashMap<String, T, S> {
    fn into_value(self) -> Result<Value> {
        self.into_iter()
            .map(|(k, v)| Ok((k, v.into_value()?)))
            .collect::<Result<_>>()
            .map(Value::Object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn type_error(e: Error) -> String {
        let js = e.as_js().expect("a JS error").clone();
        assert_eq!(js.name, "TypeError");
        js.message
    }

    #[test]
    fn integers_convert_exactly_or_fail() {
        assert_eq!(i32::from_value(Value::from(-7)).unwrap(), -7);
        assert!(type_error(i32::from_value(Value::from(1.5)).unwrap_err()).contains("integer"));
        assert!(u8::from_value(Value::from(-1)).is_err());
        assert!(u64::from_value(Value::Number(f64::NAN)).is_err());
        assert!(i64::from_value(Value::Number(f64::INFINITY)).is_err());
        let big = Value::BigInt("18446744073709551615".into());
        assert_eq!(u64::from_value(big.clone()).unwrap(), u64::MAX);
        assert!(i64::from_value(big).is_err());
        assert_eq!(
            u128::from_value(Value::BigInt(u128::MAX.to_string())).unwrap(),
            u128::MAX
        );
        for n in [0u64, 1 << 53, u64::MAX] {
            assert_eq!(u64::from_value(n.into_value().unwrap()).unwrap(), n);
        }
        for n in [i64::MIN, -(1 << 53) - 1, 0, i64::MAX] {
            assert_eq!(i64::from_value(n.into_value().unwrap()).unwrap(), n);
        }
        assert_eq!(
            u128::MAX.into_value().unwrap(),
            Value::BigInt(u128::MAX.to_string())
        );
    }

    #[test]
    fn containers_name_where_the_mismatch_is() {
        let v = Value::Array(vec![1.into(), "x".into()]);
        let msg = type_error(Vec::<f64>::from_value(v).unwrap_err());
        assert_eq!(msg, "element 1: expected a number, got a string");
        let m = Value::Map(vec![("a".into(), 1.into())]);
        let got = HashMap::<String, u8>::from_value(m).unwrap();
        assert_eq!(got["a"], 1);
        let bad = Value::Map(vec![(1.into(), 1.into())]);
        assert!(HashMap::<String, u8>::from_value(bad).is_err());
        assert_eq!(Option::<bool>::from_value(Value::Null).unwrap(), None);
        assert!(char::from_value(Value::from("ab")).is_err());
    }

    #[test]
    fn serde_mismatch_is_a_type_error() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct P {
            x: u8,
        }
        let e = Serde::<P>::from_value(Value::object([("x", Value::from("no"))])).unwrap_err();
        assert!(type_error(e).contains("P"));
    }
}
