//! `Value` <-> V8 values: structured clone, transfers, and JS errors.

use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use engine_api::{
    Error, ErrorValue, ExternalCopy, Result, SharedBuffer, TransferOptions, TypedArrayKind, Value,
};

use crate::isolate::Core;
use crate::ivm::{self, Tag};
use crate::{V8Reference, callbacks};

/// Deepest nesting copied in either direction (keeps the host stack bounded).
const MAX_DEPTH: usize = engine_api::MAX_TRANSFER_DEPTH;

/// Stack kept free below a copy (V8 and the host still need some).
const STACK_MARGIN: usize = 256 * 1024;

/// What a non-primitive becomes when no transfer option is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fallback {
    /// `undefined` (results of eval / run / evaluate).
    Undefined,
    /// A reference (results of get / apply).
    Reference,
    /// An error (arguments).
    Error,
}

/// Transfers `v` out of the isolate per `opts` (the promise flag is handled by the caller).
pub(crate) fn to_value<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    v: v8::Local<'s, v8::Value>,
    opts: &TransferOptions,
    fallback: Fallback,
) -> Result<Value> {
    if opts.reference {
        return reference(scope, v);
    }
    if opts.external_copy {
        return Ok(Value::ExternalCopy(ExternalCopy::new(copy(scope, v)?)?));
    }
    if opts.copy || !v.is_object() {
        return copy(scope, v);
    }
    if let Some(h) = handle_value(scope, v)? {
        return Ok(h);
    }
    match fallback {
        Fallback::Undefined => Ok(Value::Undefined),
        Fallback::Reference => reference(scope, v),
        Fallback::Error => Err(Error::NotTransferable(
            "a non-primitive value needs { copy }, { externalCopy } or { reference }".into(),
        )),
    }
}

/// A new reference to `v`.
pub(crate) fn reference<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    v: v8::Local<'s, v8::Value>,
) -> Result<Value> {
    let isolate = Core::of(scope).isolate()?;
    let global = v8::Global::new(scope, v);
    Ok(Value::Reference(engine_api::Reference::to_any(
        &V8Reference::new(&isolate, global),
    )))
}

/// The host value behind an ivm object (`Reference`, `ExternalCopy`, markers), if `v` is one.
fn handle_value<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    v: v8::Local<'s, v8::Value>,
) -> Result<Option<Value>> {
    let Some((tag, id)) = ivm::tag_of(scope, v) else {
        return Ok(None);
    };
    let core = Core::of(scope);
    let t = core.tables();
    let gone = || Error::Released("reference");
    Ok(Some(match tag {
        Tag::Reference => Value::Reference(t.refs.get(&id).cloned().ok_or_else(gone)?),
        Tag::DerefInto => Value::DerefInto(t.refs.get(&id).cloned().ok_or_else(gone)?),
        Tag::ExternalCopy => Value::ExternalCopy(
            t.copies
                .get(&id)
                .cloned()
                .ok_or(Error::Released("external copy"))?,
        ),
        Tag::CopyInto => Value::CopyInto(
            t.copies
                .get(&id)
                .cloned()
                .ok_or(Error::Released("external copy"))?,
        ),
    }))
}

/// Structured clone of `v`, within the isolate's memory limit and the call's deadline.
pub(crate) fn copy<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    v: v8::Local<'s, v8::Value>,
) -> Result<Value> {
    let mut cx = CopyOut {
        stack: Vec::new(),
        budget: Budget::new(scope),
    };
    copy_rec(scope, v, &mut cx)
}

/// What one copy between an isolate and the host may still take. A copy runs Rust loops
/// that V8's termination cannot stop, so it checks the call's deadline, the isolate's
/// disposal and its memory limit itself, and measures what it allocates before it does.
pub(crate) struct Budget {
    core: Arc<Core>,
    /// Host bytes this copy may still allocate (the isolate's memory limit).
    left: usize,
    deadline: Option<Instant>,
    steps: u32,
}

impl Budget {
    /// Steps between two checks of the clock and the isolate's state.
    const CHECK_EVERY: u32 = 256;

    pub(crate) fn new(scope: &v8::Isolate) -> Self {
        let core = Core::of(scope);
        Budget {
            left: core.limits.limit,
            deadline: crate::isolate::call_deadline(),
            core,
            steps: 0,
        }
    }

    /// Takes `bytes` of the budget before they are allocated. Going over the isolate's
    /// memory limit ends the call with `MemoryLimit` (the isolate is disposed).
    fn charge(&mut self, bytes: usize) -> Result<()> {
        match self.left.checked_sub(bytes) {
            Some(left) => self.left = left,
            None => {
                self.left = 0;
                self.core.limits.exceed();
                return Err(Error::MemoryLimit);
            }
        }
        self.step()
    }

    /// One unit of work: every few, the deadline and the isolate's state are checked.
    fn step(&mut self) -> Result<()> {
        self.steps = self.steps.wrapping_add(1);
        if !self.steps.is_multiple_of(Self::CHECK_EVERY) {
            return Ok(());
        }
        if self.core.limits.is_exceeded() {
            return Err(Error::MemoryLimit);
        }
        if self.core.is_disposed() {
            return Err(Error::Disposed);
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Error::timeout());
        }
        Ok(())
    }
}

/// The state of one copy out: the objects being copied (for cycles) and the budget.
struct CopyOut<'s> {
    stack: Vec<v8::Local<'s, v8::Object>>,
    budget: Budget,
}

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

pub(crate) fn str_of(scope: &mut v8::PinScope, v: v8::Local<v8::Value>) -> String {
    v.to_rust_string_lossy(scope)
}

pub(crate) fn get<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    obj: v8::Local<'s, v8::Object>,
    key: &str,
) -> Option<v8::Local<'s, v8::Value>> {
    let k = v8::String::new(scope, key)?;
    obj.get(scope, k.into())
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
    if cx.stack.len() >= MAX_DEPTH || crate::limits::stack_low_on(STACK_MARGIN) {
        return Err(Error::NotTransferable("a value nested too deeply".into()));
    }
    if cx.stack.iter().any(|o| o.strict_equals(v)) {
        return Err(Error::NotTransferable("a cyclic value".into()));
    }
    cx.stack.push(obj);
    let r = if v.is_array() {
        copy_array(scope, v, cx)
    } else if v.is_map() || v.is_set() {
        copy_collection(scope, v, cx)
    } else if v.is_date()
        || v.is_reg_exp()
        || v.is_native_error()
        || v.is_array_buffer()
        || v.is_shared_array_buffer()
        || v.is_array_buffer_view()
    {
        copy_leaf(scope, v, obj, &mut cx.budget)
    } else {
        copy_plain(scope, obj, cx)
    };
    cx.stack.pop();
    r
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

/// Values without children: Date, RegExp, Error, buffers and views.
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
    if let Ok(ab) = v8::Local::<v8::ArrayBuffer>::try_from(v) {
        budget.charge(ab.byte_length())?;
        let store = ab.get_backing_store();
        return Ok(Value::ArrayBuffer(store_bytes(&store, 0, ab.byte_length())));
    }
    if let Ok(sab) = v8::Local::<v8::SharedArrayBuffer>::try_from(v) {
        return Ok(Value::SharedArrayBuffer(shared_buffer_of(sab, budget)?));
    }
    let view = v8::Local::<v8::ArrayBufferView>::try_from(v).map_err(|_| unexpected("a view"))?;
    let kind = view_kind(v).ok_or_else(|| not_transferable(scope, obj))?;
    budget.charge(view.byte_length())?;
    let mut bytes = vec![0u8; view.byte_length()];
    view.copy_contents(&mut bytes);
    Ok(Value::TypedArray { kind, bytes })
}

fn store_bytes(store: &v8::SharedRef<v8::BackingStore>, offset: usize, len: usize) -> Vec<u8> {
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

/// Shared memory handed to V8, by data pointer: (live backing stores, the buffer).
static SHARED: Mutex<Option<HashMap<usize, (usize, SharedBuffer)>>> = Mutex::new(None);

fn shared_registry<R>(f: impl FnOnce(&mut HashMap<usize, (usize, SharedBuffer)>) -> R) -> R {
    let mut g = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    f(g.get_or_insert_with(HashMap::new))
}

fn shared_buffer_of(
    sab: v8::Local<v8::SharedArrayBuffer>,
    budget: &mut Budget,
) -> Result<SharedBuffer> {
    let store = sab.get_backing_store();
    let key = store.data().map_or(0, |p| p.as_ptr() as usize);
    if let Some(buf) = shared_registry(|r| r.get(&key).map(|(_, b)| b.clone())) {
        return Ok(buf);
    }
    // Guest-made shared memory is not ours to share: the host gets a copy.
    budget.charge(sab.byte_length())?;
    Ok(SharedBuffer::from_bytes(&store_bytes(
        &store,
        0,
        sab.byte_length(),
    )))
}

unsafe extern "C" fn release_shared(data: *mut c_void, _len: usize, deleter_data: *mut c_void) {
    // SAFETY: `deleter_data` is the `Box<SharedBuffer>` leaked in `shared_array_buffer`.
    let buf = unsafe { Box::from_raw(deleter_data as *mut SharedBuffer) };
    shared_registry(|r| {
        if let Some(e) = r.get_mut(&(data as usize)) {
            e.0 -= 1;
            if e.0 == 0 {
                r.remove(&(data as usize));
            }
        }
    });
    drop(buf);
}

fn shared_array_buffer<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    buf: &SharedBuffer,
) -> v8::Local<'s, v8::Value> {
    let ptr = buf.as_ptr() as *mut c_void;
    shared_registry(|r| r.entry(ptr as usize).or_insert((0, buf.clone())).0 += 1);
    let keep = Box::into_raw(Box::new(buf.clone())) as *mut c_void;
    // SAFETY: the memory is `buf`'s `[AtomicU8]` (interior mutability, so V8 may write it);
    // the boxed clone keeps it alive until V8 calls `release_shared`.
    let store = unsafe {
        v8::SharedArrayBuffer::new_backing_store_from_ptr(ptr, buf.len(), release_shared, keep)
    };
    v8::SharedArrayBuffer::with_backing_store(scope, &store.make_shared()).into()
}

/// Builds `value` inside the isolate.
pub(crate) fn from_value<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    value: &Value,
) -> Result<v8::Local<'s, v8::Value>> {
    let mut cx = CopyIn {
        keys: Keys::default(),
        budget: Budget::new(scope),
    };
    from_value_rec(scope, value, 0, &mut cx)
}

/// The state of one copy in: the property names made so far and the budget (whose
/// memory side V8's own heap limit keeps; the copy checks the deadline and the isolate).
struct CopyIn<'v, 's> {
    keys: Keys<'v, 's>,
    budget: Budget,
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

pub(crate) fn string<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    s: &str,
) -> Result<v8::Local<'s, v8::String>> {
    v8::String::new(scope, s).ok_or_else(|| Error::NotTransferable("a string too long".into()))
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
            if depth > MAX_DEPTH || crate::limits::stack_low_on(STACK_MARGIN) {
                return Err(Error::NotTransferable("a value nested too deeply".into()));
            }
            from_composite(scope, value, depth + 1, cx)
        }
        _ => from_leaf(scope, value),
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
        Value::Array(items) => {
            let mut locals = Vec::with_capacity(items.len());
            for item in items {
                locals.push(from_value_rec(scope, item, d, cx)?);
            }
            v8::Array::new_with_elements(scope, &locals).into()
        }
        Value::Object(props) => {
            let obj = v8::Object::new(scope);
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
            for (k, v) in entries {
                let key = from_value_rec(scope, k, d, cx)?;
                let val = from_value_rec(scope, v, d, cx)?;
                m.set(scope, key, val).ok_or_else(crate::empty)?;
            }
            m.into()
        }
        Value::Set(items) => {
            let s = v8::Set::new(scope);
            for item in items {
                let v = from_value_rec(scope, item, d, cx)?;
                s.add(scope, v).ok_or_else(crate::empty)?;
            }
            s.into()
        }
        Value::CopyInto(c) => from_value_rec(scope, c.value()?, d, cx)?,
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
        Value::TypedArray { kind, bytes } => typed_array(scope, *kind, bytes)?,
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
    // Through the isolate's allocator, so the bytes count against its limit.
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

fn typed_array<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    kind: TypedArrayKind,
    bytes: &[u8],
) -> Result<v8::Local<'s, v8::Value>> {
    use TypedArrayKind::*;
    let size = kind.element_size();
    if !bytes.len().is_multiple_of(size) {
        return Err(Error::InvalidArgument(format!(
            "{} of {} bytes",
            kind.name(),
            bytes.len()
        )));
    }
    let ab = array_buffer(scope, bytes)?;
    let n = bytes.len() / size;
    let v: Option<v8::Local<v8::Value>> = match kind {
        Int8 => v8::Int8Array::new(scope, ab, 0, n).map(Into::into),
        Uint8 => v8::Uint8Array::new(scope, ab, 0, n).map(Into::into),
        Uint8Clamped => v8::Uint8ClampedArray::new(scope, ab, 0, n).map(Into::into),
        Int16 => v8::Int16Array::new(scope, ab, 0, n).map(Into::into),
        Uint16 => v8::Uint16Array::new(scope, ab, 0, n).map(Into::into),
        Int32 => v8::Int32Array::new(scope, ab, 0, n).map(Into::into),
        Uint32 => v8::Uint32Array::new(scope, ab, 0, n).map(Into::into),
        Float32 => v8::Float32Array::new(scope, ab, 0, n).map(Into::into),
        Float64 => v8::Float64Array::new(scope, ab, 0, n).map(Into::into),
        BigInt64 => v8::BigInt64Array::new(scope, ab, 0, n).map(Into::into),
        BigUint64 => v8::BigUint64Array::new(scope, ab, 0, n).map(Into::into),
        DataView => Some(v8::DataView::new(scope, ab, 0, n).into()),
    };
    v.ok_or_else(|| Error::NotTransferable(format!("a {} too large", kind.name())))
}

pub(crate) use crate::errors::{error_from, error_object, throw};
