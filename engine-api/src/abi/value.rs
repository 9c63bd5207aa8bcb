//! `WireValue`: a value on the wire, and the depth limit its decoding enforces.

use serde::{Deserialize, Serialize};

use super::Handle;

/// A value on the wire, in either direction.
///
/// Decoding refuses values nested deeper than [`MAX_WIRE_DEPTH`], so a hostile guest cannot
/// exhaust the host's native stack with a deeply nested message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum WireValue {
    /// `undefined`.
    Undefined,
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A BigInt in decimal.
    BigInt(String),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<WireValue>),
    /// A plain object.
    Object(Vec<(String, WireValue)>),
    /// A Map.
    Map(Vec<(WireValue, WireValue)>),
    /// A Set.
    Set(Vec<WireValue>),
    /// A Date (ms since epoch).
    Date(f64),
    /// A RegExp.
    RegExp {
        /// Pattern.
        source: String,
        /// Flags.
        flags: String,
    },
    /// An Error object.
    Error {
        /// `name`.
        name: String,
        /// `message`.
        message: String,
        /// `stack`.
        stack: Option<String>,
    },
    /// An ArrayBuffer (also a SharedArrayBuffer, copied: the guest cannot share memory).
    ArrayBuffer(Vec<u8>),
    /// A typed array or DataView; `kind` is the constructor name (`Uint8Array`, ..).
    TypedArray {
        /// Constructor name.
        kind: String,
        /// Viewed bytes.
        bytes: Vec<u8>,
    },
    /// Guest → host: a new guest handle to a value that was not copied (a reference).
    /// Host → guest: the value behind one of this guest's own handles (`derefInto`).
    GuestHandle {
        /// The handle.
        handle: Handle,
        /// `typeof` the value (`null` is "null"), for the host's `Reference::type_of`.
        type_of: String,
    },
    /// Host → guest: a reference living in the host (a callback, or a value of another
    /// isolate). The guest sees an `ivm.Reference`-like object whose methods call
    /// [`HostRequest`](super::HostRequest)s with this id.
    HostReference {
        /// The host's id for it.
        id: u32,
        /// `typeof` the referenced value.
        type_of: String,
    },
    /// Host → guest: a plain function calling host callback `id`.
    HostFunction {
        /// The host's id for it.
        id: u32,
        /// 0 = sync (returns the value), 1 = async (returns a promise), 2 = ignored.
        mode: u8,
    },
    /// Host → guest: an `ivm.ExternalCopy`-like object for host copy `id`.
    /// Guest → host (result with `external_copy`): never; the host wraps copied data.
    ExternalCopy {
        /// The host's id for it.
        id: u32,
    },
    /// The object numbered `n` in this message (as [`Value::Backref`](crate::Value::Backref)).
    Backref(u32),
    /// A view over buffer number `buffer` of this message (as
    /// [`Value::TypedArrayView`](crate::Value::TypedArrayView)); `kind` as in `TypedArray`.
    TypedArrayView {
        /// Constructor name.
        kind: String,
        /// The number of the viewed buffer.
        buffer: u32,
        /// Where the view starts, in bytes.
        byte_offset: u64,
        /// How many bytes it views.
        byte_length: u64,
    },
    /// Host → guest: an `ivm.Reference` to the value behind one of this guest's own handles
    /// (a reference to a value of the isolate itself, passed back in: it stays a
    /// reference, as on V8).
    OwnReference {
        /// The handle.
        handle: Handle,
        /// `typeof` the value.
        type_of: String,
    },
    /// Guest → host: what `derefInto()` of host reference `id` returns: the value it
    /// refers to, dereferenced where it arrives (only its own isolate can).
    HostDeref {
        /// The host's id of the reference.
        id: u32,
    },
}

/// How deeply a [`WireValue`] may nest (arrays, objects, maps, sets inside each other):
/// a little more than [`crate::MAX_TRANSFER_DEPTH`], which both sides enforce first.
pub const MAX_WIRE_DEPTH: usize = crate::MAX_TRANSFER_DEPTH + 12;

thread_local! {
    static DECODE_DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts one level of nesting while a `WireValue` decodes.
struct DepthGuard;

impl DepthGuard {
    fn enter() -> Option<DepthGuard> {
        DECODE_DEPTH.with(|d| {
            if d.get() >= MAX_WIRE_DEPTH {
                None
            } else {
                d.set(d.get() + 1);
                Some(DepthGuard)
            }
        })
    }
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        DECODE_DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

impl<'de> Deserialize<'de> for WireValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let _guard = DepthGuard::enter()
            .ok_or_else(|| <D::Error as serde::de::Error>::custom("value nested too deeply"))?;
        WireValueDef::deserialize(d)
    }
}

/// The derived decoder behind `WireValue`'s depth-checked one (same shape, field for field).
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(remote = "WireValue")]
enum WireValueDef {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    BigInt(String),
    String(String),
    Array(Vec<WireValue>),
    Object(Vec<(String, WireValue)>),
    Map(Vec<(WireValue, WireValue)>),
    Set(Vec<WireValue>),
    Date(f64),
    RegExp {
        source: String,
        flags: String,
    },
    Error {
        name: String,
        message: String,
        stack: Option<String>,
    },
    ArrayBuffer(Vec<u8>),
    TypedArray {
        kind: String,
        bytes: Vec<u8>,
    },
    GuestHandle {
        handle: Handle,
        type_of: String,
    },
    HostReference {
        id: u32,
        type_of: String,
    },
    HostFunction {
        id: u32,
        mode: u8,
    },
    ExternalCopy {
        id: u32,
    },
    Backref(u32),
    TypedArrayView {
        kind: String,
        buffer: u32,
        byte_offset: u64,
        byte_length: u64,
    },
    OwnReference {
        handle: Handle,
        type_of: String,
    },
    HostDeref {
        id: u32,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{decode, encode};

    #[test]
    fn roundtrip() {
        let v = WireValue::Array(vec![
            WireValue::Object(vec![("k".into(), WireValue::Number(1.5))]),
            WireValue::TypedArray {
                kind: "Uint8Array".into(),
                bytes: vec![1, 2],
            },
            WireValue::Backref(0),
            WireValue::TypedArrayView {
                kind: "DataView".into(),
                buffer: 3,
                byte_offset: 1,
                byte_length: u64::MAX,
            },
        ]);
        assert_eq!(decode::<WireValue>(&encode(&v)), Some(v));
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        // Runs on a 2 MiB stack, the default of Rust threads: the deepest accepted value
        // decodes there, and a hostile million-deep message is refused, not overflowed.
        let handle = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(|| {
                let mut v = WireValue::Null;
                for _ in 0..MAX_WIRE_DEPTH - 1 {
                    v = WireValue::Array(vec![v]);
                }
                let bytes = encode(&v);
                let ok = decode::<WireValue>(&bytes).is_some();
                std::mem::forget(v);
                // Variant index of Array and length 1, repeated, then a Null.
                let array = encode(&WireValue::Array(vec![WireValue::Null]));
                let (prefix, _) = array.split_at(array.len() - 1);
                let mut hostile = prefix.repeat(1_000_000);
                hostile.extend_from_slice(&encode(&WireValue::Null));
                let refused = decode::<WireValue>(&hostile).is_none();
                let again = decode::<WireValue>(&encode(&WireValue::Array(vec![]))).is_some();
                (ok, refused, again)
            })
            .unwrap();
        assert_eq!(handle.join().unwrap(), (true, true, true));
    }
}
