//! Structured clone out of an isolate: a V8 value as a [`Value`].

use std::collections::HashMap;

use engine_api::{Error, ErrorValue, Result, TypedArrayKind, Value};

use crate::convert::{MAX_DEPTH, STACK_MARGIN, get, handle_value, str_of};
use crate::copy_budget::Budget;
use crate::shared_memory::shared_buffer_of;

/// Structured clone of `v`, within the isolate's memory limit and the call's deadline.
/// Identity is kept: an object met again is a [`Value::Backref`] to its number, a typed
/// array over a buffer already copied a [`Value::TypedArrayView`] (see `Value`'s docs).
pub(crate) fn copy<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    v: v8::Local<'s, v8::Value>,
) -> Result<Value> {
    let mut cx = CopyOut {
        depth: 0,
        seen: Seen::default(),
        budget: Budget::new(scope),
    };
    copy_rec(scope, v, &mut cx)
}

/// The state of one copy out: how deep it is, the objects it numbered, and the budget.
struct CopyOut<'s> {
    depth: usize,
    seen: Seen<'s>,
    budget: Budget,
}

/// The objects one copy numbered, by identity hash.
#[derive(Default)]
struct Seen<'s> {
    next: u32,
    by_hash: HashMap<i32, Vec<(v8::Local<'s, v8::Object>, Numbered)>>,
}

/// What an object got: its number and, for a buffer, which of its bytes that number
/// holds (a typed array copies only the bytes it views).
#[derive(Clone, Copy)]
struct Numbered {
    number: u32,
    start: usize,
    len: usize,
}

impl<'s> Seen<'s> {
    fn get(&self, obj: v8::Local<'s, v8::Object>) -> Option<Numbered> {
        let list = self.by_hash.get(&obj.get_identity_hash().get())?;
        list.iter()
            .find(|(o, _)| o.strict_equals(obj.into()))
            .map(|(_, n)| *n)
    }

    fn set(&mut self, obj: v8::Local<'s, v8::Object>, n: Numbered) {
        let list = self
            .by_hash
            .entry(obj.get_identity_hash().get())
            .or_default();
        match list.iter_mut().find(|(o, _)| o.strict_equals(obj.into())) {
            Some(entry) => entry.1 = n,
            None => list.push((obj, n)),
        }
    }

    /// The next `count` numbers (the first returned).
    fn take(&mut self, count: u32) -> Result<u32> {
        let n = self.next;
        self.next = n
            .checked_add(count)
            .ok_or_else(|| Error::NotTransferable("a value of too many objects".into()))?;
        Ok(n)
    }

    /// Numbers `obj`, an object that is not a buffer.
    fn number(&mut self, obj: v8::Local<'s, v8::Object>) -> Result<()> {
        let number = self.take(1)?;
        self.set(
            obj,
            Numbered {
                number,
                start: 0,
                len: 0,
            },
        );
        Ok(())
    }
}

/// Host bytes the identity table takes per numbered object (its entry and hash slot).
const SEEN_ENTRY: usize = 64;

/// Host bytes of one element slot of each container kind.
const VALUE_SLOT: usize = std::mem::size_of::<Value>();
const PROPERTY_SLOT: usize = std::mem::size_of::<(String, Value)>();
const ENTRY_SLOT: usize = std::mem::size_of::<(Value, Value)>();

/// A string primitive as Rust text, measured before it is converted: `None` if `v` is not
/// a string (nothing here calls a guest's `toString`).
fn string_of<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    v: v8::Local<'s, v8::Value>,
    budget: &mut Budget,
) -> Result<Option<String>> {
    let Ok(s) = v8::Local::<v8::String>::try_from(v) else {
        return Ok(None);
    };
    // One byte per UTF-16 unit up front (UTF-8 takes 1-3); the rest once it is known.
    let units = s.length();
    budget.charge(units)?;
    let text = s.to_rust_string_lossy(scope);
    budget.charge(text.len().saturating_sub(units))?;
    Ok(Some(text))
}

fn copy_rec<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    v: v8::Local<'s, v8::Value>,
    cx: &mut CopyOut<'s>,
) -> Result<Value> {
    // Small frames on the recursive path: every case lives in its own function.
    cx.budget.step()?;
    let Ok(obj) = v8::Local::<v8::Object>::try_from(v) else {
        return copy_primitive(scope, v, &mut cx.budget);
    };
    if v.is_function() {
        return Err(Error::NotTransferable("a function".into()));
    }
    if let Some(h) = handle_value(scope, v)? {
        return Ok(h);
    }
    if v.is_promise() || v.is_proxy() || v.is_weak_map() || v.is_weak_set() {
        return Err(not_transferable(scope, obj));
    }
    if v.is_array_buffer() || v.is_array_buffer_view() {
        // Numbered with the bytes they hold (see `Numbered`).
        return copy_buffer(scope, v, obj, cx);
    }
    if let Some(n) = cx.seen.get(obj) {
        return Ok(Value::Backref(n.number));
    }
    if cx.depth >= MAX_DEPTH || crate::thread_stack::stack_low_on(STACK_MARGIN) {
        return Err(Error::NotTransferable("a value nested too deeply".into()));
    }
    cx.budget.charge(SEEN_ENTRY)?;
    cx.seen.number(obj)?;
    cx.depth += 1;
    let r = if v.is_array() {
        copy_array(scope, v, cx)
    } else if v.is_map() || v.is_set() {
        copy_collection(scope, v, cx)
    } else if v.is_date() || v.is_reg_exp() || v.is_native_error() || v.is_shared_array_buffer() {
        copy_leaf(scope, v, obj, &mut cx.budget)
    } else {
        copy_plain(scope, obj, cx)
    };
    cx.depth -= 1;
    r
}

/// An `ArrayBuffer` (a back-reference when this copy holds all its bytes already) or a
/// view (over a buffer this copy holds the viewed bytes of, else over a copy of them).
#[inline(never)]
fn copy_buffer<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    v: v8::Local<'s, v8::Value>,
    obj: v8::Local<'s, v8::Object>,
    cx: &mut CopyOut<'s>,
) -> Result<Value> {
    if let Ok(ab) = v8::Local::<v8::ArrayBuffer>::try_from(v) {
        let len = ab.byte_length();
        if let Some(n) = cx.seen.get(obj)
            && n.start == 0
            && n.len == len
        {
            return Ok(Value::Backref(n.number));
        }
        cx.budget.charge(len)?;
        let number = cx.seen.take(1)?;
        cx.seen.set(
            obj,
            Numbered {
                number,
                start: 0,
                len,
            },
        );
        let store = ab.get_backing_store();
        return Ok(Value::ArrayBuffer(store_bytes(&store, 0, len)));
    }
    if let Some(n) = cx.seen.get(obj) {
        return Ok(Value::Backref(n.number));
    }
    cx.budget.charge(2 * SEEN_ENTRY)?;
    let view = v8::Local::<v8::ArrayBufferView>::try_from(v).map_err(|_| unexpected("a view"))?;
    let kind = view_kind(v).ok_or_else(|| not_transferable(scope, obj))?;
    let (start, len) = (view.byte_offset(), view.byte_length());
    // Shared memory is not tracked: a view over it copies the bytes it views.
    let buffer = view
        .buffer(scope)
        .filter(|b| !b.is_shared_array_buffer())
        .map(v8::Local::<v8::Object>::from);
    let held = buffer.and_then(|b| cx.seen.get(b)).filter(|n| {
        start >= n.start
            && start + len <= n.start + n.len
            && (start - n.start).is_multiple_of(kind.element_size())
    });
    if let Some(n) = held {
        cx.seen.number(obj)?;
        return Ok(Value::TypedArrayView {
            kind,
            buffer: n.number,
            byte_offset: start - n.start,
            byte_length: len,
        });
    }
    cx.budget.charge(len)?;
    // The view, then its buffer (holding the viewed bytes).
    let number = cx.seen.take(2)?;
    cx.seen.set(
        obj,
        Numbered {
            number,
            start: 0,
            len: 0,
        },
    );
    if let Some(b) = buffer
        && cx.seen.get(b).is_none()
    {
        cx.seen.set(
            b,
            Numbered {
                number: number + 1,
                start,
                len,
            },
        );
    }
    let mut bytes = vec![0u8; len];
    view.copy_contents(&mut bytes);
    Ok(Value::TypedArray { kind, bytes })
}

#[inline(never)]
fn not_transferable<'s>(scope: &mut v8::PinScope<'s, '_>, obj: v8::Local<'s, v8::Object>) -> Error {
    Error::NotTransferable(format!(
        "a {}",
        obj.get_constructor_name().to_rust_string_lossy(scope)
    ))
}

#[inline(never)]
fn copy_primitive<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    v: v8::Local<'s, v8::Value>,
    budget: &mut Budget,
) -> Result<Value> {
    Ok(if v.is_undefined() {
        Value::Undefined
    } else if v.is_null() {
        Value::Null
    } else if v.is_boolean() {
        Value::Bool(v.is_true())
    } else if v.is_number() {
        Value::Number(v.number_value(scope).unwrap_or(f64::NAN))
    } else if let Ok(b) = v8::Local::<v8::BigInt>::try_from(v) {
        // About 19.3 decimal digits per 64-bit word, measured before V8 prints it.
        budget.charge(b.word_count().saturating_mul(20).saturating_add(2))?;
        Value::BigInt(str_of(scope, v))
    } else if let Some(s) = string_of(scope, v, budget)? {
        Value::String(s)
    } else if v.is_symbol() {
        return Err(Error::NotTransferable("a symbol".into()));
    } else {
        return Err(Error::NotTransferable("an unknown value".into()));
    })
}

/// A value V8 classified as one kind and then refused to cast to it.
fn unexpected(kind: &str) -> Error {
    crate::backend_error(format!("expected {kind}"))
}

#[inline(never)]
fn copy_array<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    v: v8::Local<'s, v8::Value>,
    cx: &mut CopyOut<'s>,
) -> Result<Value> {
    let arr = v8::Local::<v8::Array>::try_from(v).map_err(|_| unexpected("an array"))?;
    let len = arr.length() as usize;
    // Holes are `undefined` slots: a sparse array is measured by its length.
    cx.budget.charge(len.saturating_mul(VALUE_SLOT))?;
    let mut out = Vec::with_capacity(len);
    for i in 0..arr.length() {
        let item = arr.get_index(scope, i).ok_or_else(crate::empty)?;
        out.push(copy_rec(scope, item, cx)?);
    }
    Ok(Value::Array(out))
}

#[inline(never)]
fn copy_collection<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    v: v8::Local<'s, v8::Value>,
    cx: &mut CopyOut<'s>,
) -> Result<Value> {
    if let Ok(m) = v8::Local::<v8::Map>::try_from(v) {
        let n = m.size();
        cx.budget.charge(n.saturating_mul(ENTRY_SLOT))?;
        let a = m.as_array(scope);
        let mut out = Vec::with_capacity(a.length() as usize / 2);
        for i in (0..a.length()).step_by(2) {
            let k = a.get_index(scope, i).ok_or_else(crate::empty)?;
            let val = a.get_index(scope, i + 1).ok_or_else(crate::empty)?;
            out.push((copy_rec(scope, k, cx)?, copy_rec(scope, val, cx)?));
        }
        return Ok(Value::Map(out));
    }
    let s = v8::Local::<v8::Set>::try_from(v).map_err(|_| unexpected("a set"))?;
    cx.budget.charge(s.size().saturating_mul(VALUE_SLOT))?;
    let a = s.as_array(scope);
    let mut out = Vec::with_capacity(a.length() as usize);
    for i in 0..a.length() {
        let k = a.get_index(scope, i).ok_or_else(crate::empty)?;
        out.push(copy_rec(scope, k, cx)?);
    }
    Ok(Value::Set(out))
}

#[inline(never)]
fn copy_plain<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    obj: v8::Local<'s, v8::Object>,
    cx: &mut CopyOut<'s>,
) -> Result<Value> {
    let names = obj
        .get_own_property_names(
            scope,
            v8::GetPropertyNamesArgs {
                mode: v8::KeyCollectionMode::OwnOnly,
                property_filter: v8::PropertyFilter::ONLY_ENUMERABLE
                    | v8::PropertyFilter::SKIP_SYMBOLS,
                index_filter: v8::IndexFilter::IncludeIndices,
                key_conversion: v8::KeyConversionMode::ConvertToString,
            },
        )
        .ok_or_else(crate::empty)?;
    let len = names.length() as usize;
    cx.budget.charge(len.saturating_mul(PROPERTY_SLOT))?;
    let mut props = Vec::with_capacity(len);
    for i in 0..names.length() {
        let k = names.get_index(scope, i).ok_or_else(crate::empty)?;
        let name = string_of(scope, k, &mut cx.budget)?.ok_or_else(|| unexpected("a key"))?;
        let val = obj.get(scope, k).ok_or_else(crate::empty)?;
        props.push((name, copy_rec(scope, val, cx)?));
    }
    Ok(Value::Object(props))
}

/// Values without children: Date, RegExp, Error, SharedArrayBuffer.
#[inline(never)]
fn copy_leaf<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    v: v8::Local<'s, v8::Value>,
    obj: v8::Local<'s, v8::Object>,
    budget: &mut Budget,
) -> Result<Value> {
    if let Ok(d) = v8::Local::<v8::Date>::try_from(v) {
        return Ok(Value::Date(d.value_of()));
    }
    if let Ok(re) = v8::Local::<v8::RegExp>::try_from(v) {
        let source = re.get_source(scope);
        let source = string_of(scope, source.into(), budget)?.unwrap_or_default();
        let flags = match get(scope, obj, "flags") {
            Some(f) => string_of(scope, f, budget)?.unwrap_or_default(),
            None => String::new(),
        };
        return Ok(Value::RegExp { source, flags });
    }
    if v.is_native_error() {
        // Only string values are taken: a `name` or `message` that is an object is not
        // converted (its `toString` would be guest code running inside the copy).
        let mut text = |key: &str| -> Result<Option<String>> {
            match get(scope, obj, key) {
                Some(x) => string_of(scope, x, budget),
                None => Err(crate::empty()),
            }
        };
        let name = text("name")?;
        let message = text("message")?;
        let stack = text("stack")?;
        return Ok(Value::Error(ErrorValue {
            name: name.unwrap_or_else(|| "Error".into()),
            message: message.unwrap_or_default(),
            stack,
        }));
    }
    let sab =
        v8::Local::<v8::SharedArrayBuffer>::try_from(v).map_err(|_| unexpected("a buffer"))?;
    Ok(Value::SharedArrayBuffer(shared_buffer_of(sab, budget)?))
}

pub(crate) fn store_bytes(
    store: &v8::SharedRef<v8::BackingStore>,
    offset: usize,
    len: usize,
) -> Vec<u8> {
    match store.data() {
        None => Vec::new(),
        Some(p) if offset + len <= store.byte_length() => {
            // SAFETY: the range lies within the backing store, which `store` keeps alive.
            unsafe { std::slice::from_raw_parts((p.as_ptr() as *const u8).add(offset), len) }
                .to_vec()
        }
        Some(_) => Vec::new(),
    }
}

fn view_kind(v: v8::Local<v8::Value>) -> Option<TypedArrayKind> {
    use TypedArrayKind::*;
    Some(if v.is_uint8_array() {
        Uint8
    } else if v.is_uint8_clamped_array() {
        Uint8Clamped
    } else if v.is_int8_array() {
        Int8
    } else if v.is_uint16_array() {
        Uint16
    } else if v.is_int16_array() {
        Int16
    } else if v.is_uint32_array() {
        Uint32
    } else if v.is_int32_array() {
        Int32
    } else if v.is_float32_array() {
        Float32
    } else if v.is_float64_array() {
        Float64
    } else if v.is_big_int64_array() {
        BigInt64
    } else if v.is_big_uint64_array() {
        BigUint64
    } else if v.is_data_view() {
        DataView
    } else {
        return None;
    })
}
