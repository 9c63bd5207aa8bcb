//! The values that cross between the host and isolates.

use crate::{
    AnyReference, Callback, ErrorValue, ExternalCopy, SharedBuffer, TypeOf, TypedArrayKind,
};

/// How deeply a transferred value may nest (arrays, objects, maps, sets inside each other).
/// Every backend refuses deeper values with
/// [`Error::NotTransferable`](crate::Error::NotTransferable), so hostile data cannot
/// exhaust the host's native stack while it is copied.
pub const MAX_TRANSFER_DEPTH: usize = 500;

/// A value passed into or out of an isolate.
///
/// The data variants follow the structured clone algorithm and are backend-neutral: a value
/// copied out of a V8 isolate copies into a Boa-WASI isolate unchanged. The handle variants
/// (`Reference`, `ExternalCopy`, `CopyInto`, `DerefInto`, `Callback`) carry something that
/// is not plain data; each says how the receiving isolate sees it.
///
/// # Identity
///
/// One copy keeps identity as the structured clone algorithm (V8's `ValueSerializer`)
/// does: the objects of a copy (`Array`, `Object`, `Map`, `Set`, `Date`, `RegExp`,
/// `Error`, `ArrayBuffer`, `SharedArrayBuffer`, `TypedArray`, `TypedArrayView`) are
/// numbered from 0 in the order a depth-first walk first meets them (a container before
/// its children; array and set items, object values, and map keys then values, in
/// order). A `TypedArray` takes two numbers: the view, then its buffer. A later meeting
/// of an object already numbered is [`Value::Backref`] with its number; a typed array over
/// a buffer already numbered is [`Value::TypedArrayView`]. So `const a = {}; ({x: a, y: a})`
/// copies as `Object([("x", Object([])), ("y", Backref(1))])`, and `o.self = o` as
/// `Object([("self", Backref(0))])`; copying either into an isolate rebuilds the shared
/// object and the cycle. Primitives, handles and back-references take no number; the data
/// of an external copy (`ExternalCopy`, `CopyInto`) is numbered on its own.
///
/// A back-reference must point at an earlier object ([`Value::check_backrefs`]); one that
/// points forward or past the end is refused with a typed error by everything that reads
/// it. Consumers that need a tree (serde, JSON) read through [`Value::expand_backrefs`],
/// which copies shared objects once per place within [`MAX_EXPANSION_BYTES`](crate::MAX_EXPANSION_BYTES)
/// and refuses cycles. Equality (`==`) compares the numbered form as it is.
///
/// ```
/// use engine_api::Value;
/// let a = Value::object([("n", 1.into())]);
/// let shared = Value::object([("x", a.clone()), ("y", Value::Backref(1))]);
/// assert_eq!(shared.to_serde::<serde_json::Value>().unwrap()["y"]["n"], 1);
/// let cyclic = Value::object([("self", Value::Backref(0))]);
/// assert!(cyclic.to_serde::<serde_json::Value>().is_err());
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum Value {
    /// `undefined`.
    #[default]
    Undefined,
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A BigInt, in decimal with an optional leading `-`.
    BigInt(String),
    /// A string.
    String(String),
    /// An array (holes read as `undefined`).
    Array(Vec<Value>),
    /// A plain object: own enumerable string-keyed properties, in order.
    Object(Vec<(String, Value)>),
    /// A `Map`, in insertion order.
    Map(Vec<(Value, Value)>),
    /// A `Set`, in insertion order.
    Set(Vec<Value>),
    /// A `Date`, as milliseconds since the epoch (NaN for an invalid date).
    Date(f64),
    /// A `RegExp`.
    RegExp {
        /// The pattern.
        source: String,
        /// The flags (`gimsuy`..).
        flags: String,
    },
    /// An `Error` object (`name`, `message`, `stack`).
    Error(ErrorValue),
    /// An `ArrayBuffer`'s bytes.
    ArrayBuffer(Vec<u8>),
    /// A typed array or `DataView` over its own copy of the bytes it views. It takes two
    /// numbers in its copy: the view, then its buffer (which later views and a
    /// `Backref` to the buffer share).
    TypedArray {
        /// Which view.
        kind: TypedArrayKind,
        /// The viewed bytes (length is a multiple of the element size).
        bytes: Vec<u8>,
    },
    /// A `SharedArrayBuffer`: memory shared by every isolate it is passed to, on backends
    /// with [`Capability::SharedMemory`](crate::Capability::SharedMemory); copied elsewhere.
    SharedArrayBuffer(SharedBuffer),
    /// The guest sees an `ivm.Reference`-like object (`applySync`, `getSync`, ..).
    Reference(AnyReference),
    /// The guest sees an `ivm.ExternalCopy`-like object (`copy()`, `copyInto()`).
    ExternalCopy(ExternalCopy),
    /// The guest sees a fresh copy of the data (`externalCopy.copyInto()`).
    CopyInto(ExternalCopy),
    /// The guest sees the referenced value itself; only valid in the reference's own isolate
    /// (`reference.derefInto()`).
    DerefInto(AnyReference),
    /// The guest sees a plain function that calls the host closure.
    Callback(Callback),
    /// A later visit of an object this copy already holds (a shared reference or a
    /// cycle): the object numbered `n` (see [Identity](Value#identity)).
    Backref(u32),
    /// A typed array or `DataView` over a buffer this copy already holds: the object
    /// numbered `buffer` (an `ArrayBuffer`, a `SharedArrayBuffer`, or the buffer of an
    /// earlier `TypedArray`), viewed from `byte_offset` for `byte_length` bytes.
    TypedArrayView {
        /// Which view.
        kind: TypedArrayKind,
        /// The number of the viewed buffer.
        buffer: u32,
        /// Where the view starts in the buffer (a multiple of the element size).
        byte_offset: usize,
        /// How many bytes it views (a multiple of the element size).
        byte_length: usize,
    },
}

/// Drops values without recursion, so a value nested deeper than the native stack allows
/// (host data is not bound by [`MAX_TRANSFER_DEPTH`]) cannot overflow it.
pub fn drop_values(values: impl IntoIterator<Item = Value>) {
    let mut stack: Vec<Value> = values.into_iter().collect();
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(items) | Value::Set(items) => stack.extend(items),
            Value::Object(props) => stack.extend(props.into_iter().map(|(_, v)| v)),
            Value::Map(entries) => stack.extend(entries.into_iter().flat_map(|(k, v)| [k, v])),
            _ => {}
        }
    }
}

impl Value {
    /// The number inside, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The string inside, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean inside, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The reference inside (`Reference` or `DerefInto`), if any.
    pub fn as_reference(&self) -> Option<&AnyReference> {
        match self {
            Value::Reference(r) | Value::DerefInto(r) => Some(r),
            _ => None,
        }
    }

    /// Property `key` of a plain object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(props) => props.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Whether this is `undefined`.
    pub fn is_undefined(&self) -> bool {
        matches!(self, Value::Undefined)
    }

    /// Whether this is a primitive (always transferable by value).
    pub fn is_primitive(&self) -> bool {
        matches!(
            self,
            Value::Undefined
                | Value::Null
                | Value::Bool(_)
                | Value::Number(_)
                | Value::BigInt(_)
                | Value::String(_)
        )
    }

    /// A plain object from `(key, value)` pairs.
    pub fn object<K: Into<String>>(props: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(props.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// What `typeof` would say of this value (`null` is `"null"`).
    pub fn type_of(&self) -> TypeOf {
        match self {
            Value::Undefined => TypeOf::Undefined,
            Value::Null => TypeOf::Null,
            Value::Bool(_) => TypeOf::Boolean,
            Value::Number(_) => TypeOf::Number,
            Value::BigInt(_) => TypeOf::BigInt,
            Value::String(_) => TypeOf::String,
            Value::Callback(_) => TypeOf::Function,
            Value::DerefInto(r) => r.type_of().unwrap_or(TypeOf::Object),
            _ => TypeOf::Object,
        }
    }
}

/// Structural equality of the data variants; handles compare by identity.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Undefined, Undefined) | (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Number(a), Number(b)) => a == b || (a.is_nan() && b.is_nan()),
            (BigInt(a), BigInt(b)) | (String(a), String(b)) => a == b,
            (Array(a), Array(b)) | (Set(a), Set(b)) => a == b,
            (Object(a), Object(b)) => a == b,
            (Map(a), Map(b)) => a == b,
            (Date(a), Date(b)) => a == b || (a.is_nan() && b.is_nan()),
            (
                RegExp {
                    source: s1,
                    flags: f1,
                },
                RegExp {
                    source: s2,
                    flags: f2,
                },
            ) => s1 == s2 && f1 == f2,
            (Error(a), Error(b)) => a.name == b.name && a.message == b.message,
            (ArrayBuffer(a), ArrayBuffer(b)) => a == b,
            (
                TypedArray {
                    kind: k1,
                    bytes: b1,
                },
                TypedArray {
                    kind: k2,
                    bytes: b2,
                },
            ) => k1 == k2 && b1 == b2,
            (SharedArrayBuffer(a), SharedArrayBuffer(b)) => a.ptr_eq(b),
            (Reference(a), Reference(b)) | (DerefInto(a), DerefInto(b)) => a.ptr_eq(b),
            (ExternalCopy(a), ExternalCopy(b)) | (CopyInto(a), CopyInto(b)) => a.ptr_eq(b),
            (Callback(a), Callback(b)) => a.ptr_eq(b),
            (Backref(a), Backref(b)) => a == b,
            (
                TypedArrayView {
                    kind: k1,
                    buffer: b1,
                    byte_offset: o1,
                    byte_length: l1,
                },
                TypedArrayView {
                    kind: k2,
                    buffer: b2,
                    byte_offset: o2,
                    byte_length: l2,
                },
            ) => k1 == k2 && b1 == b2 && o1 == o2 && l1 == l2,
            _ => false,
        }
    }
}

macro_rules! from_number {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Value {
                Value::Number(n as f64)
            }
        }
    )*};
}
from_number!(f64, f32, i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<()> for Value {
    fn from(_: ()) -> Value {
        Value::Undefined
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Value {
        Value::Array(v.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

impl From<AnyReference> for Value {
    fn from(r: AnyReference) -> Value {
        Value::Reference(r)
    }
}

impl From<ExternalCopy> for Value {
    fn from(c: ExternalCopy) -> Value {
        Value::ExternalCopy(c)
    }
}

impl From<Callback> for Value {
    fn from(c: Callback) -> Value {
        Value::Callback(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_values_survives_a_million_levels() {
        let mut v = Value::Null;
        for _ in 0..1_000_000 {
            v = Value::Array(vec![v]);
        }
        drop_values([v]);
    }
}
