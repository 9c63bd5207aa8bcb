//! Structured clone into an isolate: a [`Value`] built as a V8 value.

use engine_api::{Error, Result, TypedArrayKind, Value};

use crate::convert::{MAX_DEPTH, STACK_MARGIN, error_object, string};
use crate::copy_budget::Budget;
use crate::isolate_core::Core;
use crate::shared_memory::shared_array_buffer;
use crate::{V8Reference, callbacks, ivm};

/// Builds `value` inside the isolate, with its shared objects and cycles
/// ([`Value::Backref`]) rebuilt as shared objects and cycles.
pub(crate) fn from_value<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    value: &Value,
) -> Result<v8::Local<'s, v8::Value>> {
    let mut cx = CopyIn {
        keys: Keys::default(),
        budget: Budget::new(scope),
        made: value.has_backrefs().then(Vec::new),
    };
    from_value_rec(scope, value, 0, &mut cx)
}

/// The state of one copy in: the property names made so far, the budget (whose memory
/// side V8's own heap limit keeps; the copy checks the deadline and the isolate), and,
/// when the value has back-references, the objects made so far by number.
struct CopyIn<'v, 's> {
    keys: Keys<'v, 's>,
    budget: Budget,
    /// The objects made, in visit order (`None`: a tree, nothing refers back).
    made: Option<Vec<v8::Local<'s, v8::Value>>>,
}

impl<'s> CopyIn<'_, 's> {
    /// Numbers `v`, the next object of this copy.
    fn made(&mut self, v: v8::Local<'s, v8::Value>) -> v8::Local<'s, v8::Value> {
        if let Some(made) = &mut self.made {
            made.push(v);
        }
        v
    }

    /// Object number `n`, which must have been made already.
    fn made_before(&self, n: u32) -> Result<v8::Local<'s, v8::Value>> {
        let made = self.made.as_deref().unwrap_or_default();
        made.get(n as usize).copied().ok_or_else(|| {
            Error::InvalidArgument(format!(
                "a back-reference to object {n} where only {} came before it",
                made.len()
            ))
        })
    }
}

/// The property names one copy made so far: objects of one shape (10,000 records) look
/// their names up here instead of in V8's string table each time.
#[derive(Default)]
struct Keys<'v, 's> {
    list: Vec<(&'v str, v8::Local<'s, v8::String>)>,
    /// Where the next name probably is (the one after the last hit).
    hint: usize,
}

impl<'v, 's> Keys<'v, 's> {
    /// Names remembered at most (beyond, names are looked up in V8 each time).
    const MAX: usize = 64;

    fn get(
        &mut self,
        scope: &mut v8::PinScope<'s, '_>,
        name: &'v str,
    ) -> Result<v8::Local<'s, v8::String>> {
        if let Some((n, k)) = self.list.get(self.hint)
            && *n == name
        {
            self.hint += 1;
            return Ok(*k);
        }
        if let Some(i) = self.list.iter().position(|(n, _)| *n == name) {
            self.hint = i + 1;
            return Ok(self.list[i].1);
        }
        let k = key(scope, name)?;
        if self.list.len() < Self::MAX {
            self.list.push((name, k));
            self.hint = self.list.len();
        }
        Ok(k)
    }
}

/// An internalized string, for property names.
fn key<'s>(scope: &mut v8::PinScope<'s, '_>, s: &str) -> Result<v8::Local<'s, v8::String>> {
    v8::String::new_from_utf8(scope, s.as_bytes(), v8::NewStringType::Internalized)
        .ok_or_else(|| Error::NotTransferable("a property name too long".into()))
}

fn from_value_rec<'v, 's>(
    scope: &mut v8::PinScope<'s, '_>,
    value: &'v Value,
    depth: usize,
    cx: &mut CopyIn<'v, 's>,
) -> Result<v8::Local<'s, v8::Value>> {
    // Small frames on the recursive path: composite values in their own functions.
    cx.budget.step()?;
    match value {
        Value::Array(_) | Value::Object(_) | Value::Map(_) | Value::Set(_) | Value::CopyInto(_) => {
            if depth > MAX_DEPTH || crate::thread_stack::stack_low_on(STACK_MARGIN) {
                return Err(Error::NotTransferable("a value nested too deeply".into()));
            }
            from_composite(scope, value, depth + 1, cx)
        }
        Value::Backref(n) => cx.made_before(*n),
        Value::TypedArray { .. } | Value::TypedArrayView { .. } => from_view(scope, value, cx),
        Value::Date(_)
        | Value::RegExp { .. }
        | Value::Error(_)
        | Value::ArrayBuffer(_)
        | Value::SharedArrayBuffer(_) => {
            let v = from_leaf(scope, value)?;
            Ok(cx.made(v))
        }
        _ => from_leaf(scope, value),
    }
}

/// A typed array: over a new buffer of its bytes (numbered after it), or over a buffer
/// this copy made already.
#[inline(never)]
fn from_view<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    value: &Value,
    cx: &mut CopyIn<'_, 's>,
) -> Result<v8::Local<'s, v8::Value>> {
    match value {
        Value::TypedArray { kind, bytes } => {
            check_elements(*kind, bytes.len())?;
            let ab = array_buffer(scope, bytes)?;
            let view = typed_array(scope, *kind, ab, 0, bytes.len())?;
            cx.made(view);
            cx.made(ab.into());
            Ok(view)
        }
        Value::TypedArrayView {
            kind,
            buffer,
            byte_offset,
            byte_length,
        } => {
            let buf = cx.made_before(*buffer)?;
            let view = if let Ok(ab) = v8::Local::<v8::ArrayBuffer>::try_from(buf) {
                engine_api::check_view(*kind, ab.byte_length(), *byte_offset, *byte_length)?;
                typed_array(scope, *kind, ab, *byte_offset, *byte_length)?
            } else if let Ok(sab) = v8::Local::<v8::SharedArrayBuffer>::try_from(buf) {
                // The v8 crate makes views over ArrayBuffers only: this one views a copy.
                engine_api::check_view(*kind, sab.byte_length(), *byte_offset, *byte_length)?;
                let store = sab.get_backing_store();
                let bytes = crate::copy_out::store_bytes(&store, *byte_offset, *byte_length);
                let ab = array_buffer(scope, &bytes)?;
                typed_array(scope, *kind, ab, 0, bytes.len())?
            } else {
                return Err(Error::InvalidArgument(format!(
                    "a typed array view over object {buffer}, which is not a buffer"
                )));
            };
            Ok(cx.made(view))
        }
        other => from_leaf(scope, other),
    }
}

#[inline(never)]
fn from_composite<'v, 's>(
    scope: &mut v8::PinScope<'s, '_>,
    value: &'v Value,
    d: usize,
    cx: &mut CopyIn<'v, 's>,
) -> Result<v8::Local<'s, v8::Value>> {
    Ok(match value {
        Value::Array(items) if cx.made.is_some() => {
            // Made before its items, which may refer back to it: as many `undefined`s,
            // then each replaced (own data properties: no setter of a prototype runs).
            let holes = vec![v8::undefined(scope).into(); items.len()];
            let arr = v8::Array::new_with_elements(scope, &holes);
            cx.made(arr.into());
            for (i, item) in items.iter().enumerate() {
                let v = from_value_rec(scope, item, d, cx)?;
                let i = u32::try_from(i)
                    .map_err(|_| Error::NotTransferable("an array too long".into()))?;
                arr.set_index(scope, i, v).ok_or_else(crate::empty)?;
            }
            arr.into()
        }
        Value::Array(items) => {
            let mut locals = Vec::with_capacity(items.len());
            for item in items {
                locals.push(from_value_rec(scope, item, d, cx)?);
            }
            v8::Array::new_with_elements(scope, &locals).into()
        }
        Value::Object(props) => {
            let obj = v8::Object::new(scope);
            cx.made(obj.into());
            for (k, v) in props {
                // Internalized keys let objects of one shape share their hidden class.
                let key = cx.keys.get(scope, k)?;
                let val = from_value_rec(scope, v, d, cx)?;
                obj.create_data_property(scope, key.into(), val)
                    .ok_or_else(crate::empty)?;
            }
            obj.into()
        }
        Value::Map(entries) => {
            let m = v8::Map::new(scope);
            cx.made(m.into());
            for (k, v) in entries {
                let key = from_value_rec(scope, k, d, cx)?;
                let val = from_value_rec(scope, v, d, cx)?;
                m.set(scope, key, val).ok_or_else(crate::empty)?;
            }
            m.into()
        }
        Value::Set(items) => {
            let s = v8::Set::new(scope);
            cx.made(s.into());
            for item in items {
                let v = from_value_rec(scope, item, d, cx)?;
                s.add(scope, v).ok_or_else(crate::empty)?;
            }
            s.into()
        }
        Value::CopyInto(c) => {
            // An external copy's data is numbered on its own.
            let data = c.value()?;
            let outer = std::mem::replace(&mut cx.made, data.has_backrefs().then(Vec::new));
            let v = from_value_rec(scope, data, d, cx);
            cx.made = outer;
            v?
        }
        other => from_leaf(scope, other)?,
    })
}

#[inline(never)]
fn from_leaf<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    value: &Value,
) -> Result<v8::Local<'s, v8::Value>> {
    Ok(match value {
        Value::Undefined => v8::undefined(scope).into(),
        Value::Null => v8::null(scope).into(),
        Value::Bool(b) => v8::Boolean::new(scope, *b).into(),
        Value::Number(n) => v8::Number::new(scope, *n).into(),
        Value::BigInt(s) => bigint(scope, s)?,
        Value::String(s) => string(scope, s)?.into(),
        Value::Date(ms) => v8::Date::new(scope, *ms).ok_or_else(crate::empty)?.into(),
        Value::RegExp { source, flags } => {
            let pattern = string(scope, source)?;
            let mut f = v8::RegExpCreationFlags::empty();
            for c in flags.chars() {
                f |= match c {
                    'g' => v8::RegExpCreationFlags::GLOBAL,
                    'i' => v8::RegExpCreationFlags::IGNORE_CASE,
                    'm' => v8::RegExpCreationFlags::MULTILINE,
                    'y' => v8::RegExpCreationFlags::STICKY,
                    'u' => v8::RegExpCreationFlags::UNICODE,
                    's' => v8::RegExpCreationFlags::DOT_ALL,
                    'd' => v8::RegExpCreationFlags::HAS_INDICES,
                    'v' => v8::RegExpCreationFlags::UNICODE_SETS,
                    _ => v8::RegExpCreationFlags::empty(),
                };
            }
            v8::RegExp::new(scope, pattern, f)
                .ok_or_else(|| Error::NotTransferable(format!("an invalid RegExp /{source}/")))?
                .into()
        }
        Value::Error(e) => error_object(scope, &e.name, &e.message, e.stack.as_deref())?,
        Value::ArrayBuffer(bytes) => array_buffer(scope, bytes)?.into(),
        Value::SharedArrayBuffer(buf) => shared_array_buffer(scope, buf),
        Value::Reference(r) => ivm::make_reference(scope, r.clone())?,
        Value::ExternalCopy(c) => {
            c.value()?;
            ivm::make_external_copy(scope, c.clone())?
        }
        Value::DerefInto(r) => {
            let own = Core::of(scope).id;
            match r.downcast_ref::<V8Reference>() {
                Some(v8ref) if v8ref.isolate_id() == own => v8ref.local(scope)?,
                _ => return Err(Error::WrongIsolate),
            }
        }
        Value::Callback(cb) => callbacks::function(scope, cb.clone())?.into(),
        _ => return Err(Error::NotTransferable("an unknown value kind".into())),
    })
}

fn bigint<'s>(scope: &mut v8::PinScope<'s, '_>, s: &str) -> Result<v8::Local<'s, v8::Value>> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::NotTransferable(format!("an invalid BigInt {s:?}")));
    }
    // Decimal to little-endian 64-bit words.
    let mut words: Vec<u64> = vec![0];
    for b in digits.bytes() {
        let mut carry = (b - b'0') as u128;
        for w in words.iter_mut() {
            let x = (*w as u128) * 10 + carry;
            *w = x as u64;
            carry = x >> 64;
        }
        if carry > 0 {
            words.push(carry as u64);
        }
    }
    v8::BigInt::new_from_words(scope, neg, &words)
        .map(Into::into)
        .ok_or_else(|| Error::NotTransferable("a BigInt too large".into()))
}

fn array_buffer<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    bytes: &[u8],
) -> Result<v8::Local<'s, v8::ArrayBuffer>> {
    // Through the isolate's allocator, so the bytes count against its limit. V8 ends the
    // process when the allocator refuses a buffer made through its API (it does not for
    // the guest's `new ArrayBuffer`), so a buffer that would not fit is refused here first,
    // after collecting the garbage that may hold its room.
    let fits = |scope: &v8::PinScope<'s, '_>| {
        let limits = &Core::of(scope).limits;
        let ok = limits.try_reserve(bytes.len());
        if ok {
            limits.unreserve(bytes.len());
        }
        ok
    };
    if !fits(scope) {
        scope.low_memory_notification();
        if !fits(scope) {
            Core::of(scope).limits.exceed();
            return Err(Error::MemoryLimit);
        }
    }
    let ab = v8::ArrayBuffer::new(scope, bytes.len());
    if let Some(p) = ab.data() {
        // SAFETY: a fresh buffer of exactly `bytes.len()` bytes, not yet visible to JS.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), p.as_ptr() as *mut u8, bytes.len())
        };
    } else if !bytes.is_empty() {
        return Err(Error::MemoryLimit);
    }
    Ok(ab)
}

/// Fails unless `len` bytes are whole elements of `kind`.
fn check_elements(kind: TypedArrayKind, len: usize) -> Result<()> {
    if !len.is_multiple_of(kind.element_size()) {
        return Err(Error::InvalidArgument(format!(
            "{} of {len} bytes",
            kind.name()
        )));
    }
    Ok(())
}

/// A `kind` view of `byte_length` bytes of `ab` from `byte_offset` (checked by the caller).
fn typed_array<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    kind: TypedArrayKind,
    ab: v8::Local<'s, v8::ArrayBuffer>,
    off: usize,
    byte_length: usize,
) -> Result<v8::Local<'s, v8::Value>> {
    use TypedArrayKind::*;
    let n = byte_length / kind.element_size();
    let v: Option<v8::Local<v8::Value>> = match kind {
        Int8 => v8::Int8Array::new(scope, ab, off, n).map(Into::into),
        Uint8 => v8::Uint8Array::new(scope, ab, off, n).map(Into::into),
        Uint8Clamped => v8::Uint8ClampedArray::new(scope, ab, off, n).map(Into::into),
        Int16 => v8::Int16Array::new(scope, ab, off, n).map(Into::into),
        Uint16 => v8::Uint16Array::new(scope, ab, off, n).map(Into::into),
        Int32 => v8::Int32Array::new(scope, ab, off, n).map(Into::into),
        Uint32 => v8::Uint32Array::new(scope, ab, off, n).map(Into::into),
        Float32 => v8::Float32Array::new(scope, ab, off, n).map(Into::into),
        Float64 => v8::Float64Array::new(scope, ab, off, n).map(Into::into),
        BigInt64 => v8::BigInt64Array::new(scope, ab, off, n).map(Into::into),
        BigUint64 => v8::BigUint64Array::new(scope, ab, off, n).map(Into::into),
        DataView => Some(v8::DataView::new(scope, ab, off, n).into()),
    };
    v.ok_or_else(|| Error::NotTransferable(format!("a {} too large", kind.name())))
}
