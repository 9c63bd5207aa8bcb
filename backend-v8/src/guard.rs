//! The guard over built-ins that V8 would let past the memory limit or the deadline.
//!
//! - Resizable `ArrayBuffer`s and growable `SharedArrayBuffer`s: V8 reserves and commits
//!   their memory through its page allocator, past the isolate's array buffer allocator
//!   that counts every other buffer. Their creation and growth (constructors, `resize`,
//!   `grow`, `transfer`) count the bytes before V8 commits them.
//! - `Array.prototype.fill` and `Array.from` over more elements than the limit can hold:
//!   V8 runs them without interrupt checks, so they end at once instead
//!   (`Array(1e9).fill(0)` ran 6 s past a 100 ms deadline, to 1.1 GB).
//!
//! Over the limit the call ends in `MemoryLimit`.
//!
//! What the guard counts is given back when the buffer is collected (a `FinalizationRegistry`
//! of the guard's own, whose cleanup V8 posts as a task that the backend runs when a call
//! ends: V8 gives a shared isolate no per-object GC callback of its own).

use engine_api::{Error, Result};

use crate::isolate_core::Core;

/// The guard: given what it needs (taken from the context before any guest code ran), it
/// defines the guarded constructors and methods and returns them, in [`LAZY`] order (all
/// but the one being read: V8 replaces that one with what its lazy getter answers).
const GUARD: &str = r#"(function (o, reserve, release, resolving) {
  'use strict';
  const AB = o[0], SAB = o[1], abp = o[2], sabp = o[3];
  const apply = o[4], construct = o[5], defineProperty = o[6];
  const WeakMapC = o[7], weakGet = o[8], weakSet = o[9];
  const Registry = o[10], register = o[11], ProxyC = o[12];
  const resize = o[13], transfer = o[14], grow = o[15];
  const abByteLength = o[16], abMax = o[17], abResizable = o[18];
  const sabByteLength = o[19], sabMax = o[20], sabGrowable = o[21], global = o[22];
  // What each live buffer holds counted, given back once it is collected.
  const counted = new WeakMapC();
  const registry = new Registry((held) => release(held.bytes));
  const count = (buffer, bytes) => {
    reserve(bytes);
    let held = apply(weakGet, counted, [buffer]);
    if (held === undefined) {
      held = { __proto__: null, bytes: 0 };
      apply(weakSet, counted, [buffer, held]);
      apply(register, registry, [buffer, held]);
    }
    held.bytes += bytes;
  };
  const hidden = (value) =>
    ({ __proto__: null, value, writable: true, enumerable: false, configurable: true });
  const guarded = (Original, byteLength, growable) => new ProxyC(Original, {
    __proto__: null,
    construct(target, args, newTarget) {
      const buffer = construct(target, args, newTarget);
      if (apply(growable, buffer, [])) count(buffer, apply(byteLength, buffer, []));
      return buffer;
    },
  });
  const grower = (name, original, byteLength, max) => {
    const f = function (length) {
      const n = +length;
      const before = apply(byteLength, this, []);
      if (n > before && n <= apply(max, this, [])) count(this, n - before);
      return apply(original, this, [n]);
    };
    defineProperty(f, 'name', { __proto__: null, value: name, configurable: true });
    return f;
  };
  const GuardedAB = guarded(AB, abByteLength, abResizable);
  const GuardedSAB = guarded(SAB, sabByteLength, sabGrowable);
  const resizeW = grower('resize', resize, abByteLength, abMax);
  const growW = grower('grow', grow, sabByteLength, sabMax);
  // A resizable buffer's transfer stays resizable: a new length past the old is new memory.
  const transferW = {
    transfer(length) {
      const before = apply(abByteLength, this, []);
      const n = length === undefined ? before : +length;
      const resizable = apply(abResizable, this, []);
      if (resizable && n > before && n <= apply(abMax, this, [])) reserve(n - before);
      const moved = apply(transfer, this, length === undefined ? [] : [n]);
      if (resizable) {
        // The memory moved to the new buffer: so does what it counts (the detached one
        // gives nothing back when collected).
        const held = apply(weakGet, counted, [this]);
        const bytes = (held === undefined ? 0 : held.bytes) + (n > before ? n - before : 0);
        if (held !== undefined) held.bytes = 0;
        if (bytes > 0) {
          release(bytes);
          count(moved, bytes);
        }
      }
      return moved;
    },
  }.transfer;
  // Array operations over more elements than the limit can hold (8 bytes each at least)
  // end at once: V8 runs them without interrupt checks.
  const fill = o[23], from = o[24], arrayProto = o[25], ArrayC = o[26], isArray = o[27];
  const ownDescriptor = o[28], hasOwn = o[29], iterator = o[30], maxElements = o[31];
  const tooMany = (n) => {
    if (n > maxElements) reserve(n * 8);
  };
  const index = (x, len, otherwise) => {
    if (x === undefined) return otherwise;
    if (x !== x) return 0;
    if (x < 0) return len + x > 0 ? len + x : 0;
    return x < len ? x : len;
  };
  // The length of an array, or the own data `length` of an array-like: read without
  // running guest code (V8 reads it again itself); otherwise undefined.
  const lengthOf = (o) => {
    if (apply(isArray, undefined, [o])) return o.length;
    if ((typeof o !== 'object' && typeof o !== 'function') || o === null) return undefined;
    const length = ownDescriptor(o, 'length');
    if (length === undefined || !apply(hasOwn, length, ['value'])) return undefined;
    return typeof length.value === 'number' ? length.value : undefined;
  };
  const fillW = {
    fill(value) {
      const start = arguments[1], end = arguments[2];
      const len = lengthOf(this);
      if (len !== undefined && (start === undefined || typeof start === 'number') &&
          (end === undefined || typeof end === 'number')) {
        tooMany(index(end, len, len) - index(start, len, 0));
      }
      return apply(fill, this, arguments);
    },
  }.fill;
  const fromW = {
    from(items) {
      if (typeof items === 'object' && items !== null && !apply(isArray, undefined, [items]) &&
          !(iterator in items)) {
        const len = lengthOf(items);
        if (len !== undefined) tooMany(len);
      }
      return apply(from, this, arguments);
    },
  }.from;
  const values = [GuardedAB, GuardedSAB, GuardedAB, resizeW, transferW, GuardedSAB, growW,
    fillW, fromW];
  const holders = [global, global, abp, abp, abp, sabp, sabp, arrayProto, ArrayC];
  const keys = ['ArrayBuffer', 'SharedArrayBuffer', 'constructor', 'resize', 'transfer',
    'constructor', 'grow', 'fill', 'from'];
  // The property being read now is V8's to replace, with the value its getter answers.
  for (let i = 0; i < 9; i++) {
    if (i !== resolving) defineProperty(holders[i], keys[i], hidden(values[i]));
  }
  return values;
})"#;

/// The properties that route to the guard, as (on the global or a prototype, key). Each
/// starts as a lazy data property: the first read of any of them installs the guard, so a
/// context that never touches these buffers pays nothing for it (~100 us otherwise).
const LAZY: [(Holder, &str); 9] = [
    (Holder::Global, "ArrayBuffer"),
    (Holder::Global, "SharedArrayBuffer"),
    (Holder::ArrayBufferPrototype, "constructor"),
    (Holder::ArrayBufferPrototype, "resize"),
    (Holder::ArrayBufferPrototype, "transfer"),
    (Holder::SharedArrayBufferPrototype, "constructor"),
    (Holder::SharedArrayBufferPrototype, "grow"),
    (Holder::ArrayPrototype, "fill"),
    (Holder::Array, "from"),
];

#[derive(Clone, Copy)]
enum Holder {
    Global,
    ArrayBufferPrototype,
    SharedArrayBufferPrototype,
    ArrayPrototype,
    Array,
}

/// V8's code cache of [`GUARD`].
static GUARD_CACHE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();

/// The shared state of one context's lazy properties: `[originals, reserve, release,
/// installed values or undefined, installing]`.
const STATE_LEN: u32 = 5;

/// Routes the current context's resizable and growable buffers and its huge array
/// operations through the guard (before any guest code runs there): takes what the guard
/// needs now, and installs it lazily.
pub(crate) fn install<'s>(scope: &mut v8::PinScope<'s, '_>) -> Result<()> {
    let damaged = || crate::backend_error("the context's buffer built-ins are not as expected");
    let global = scope.get_current_context().global(scope);
    let ab = object(scope, global, "ArrayBuffer").ok_or_else(damaged)?;
    let sab = object(scope, global, "SharedArrayBuffer").ok_or_else(damaged)?;
    let abp = object(scope, ab, "prototype").ok_or_else(damaged)?;
    let sabp = object(scope, sab, "prototype").ok_or_else(damaged)?;
    let reflect = object(scope, global, "Reflect").ok_or_else(damaged)?;
    let weak_map = object(scope, global, "WeakMap").ok_or_else(damaged)?;
    let weak_map_proto = object(scope, weak_map, "prototype").ok_or_else(damaged)?;
    let registry = object(scope, global, "FinalizationRegistry").ok_or_else(damaged)?;
    let registry_proto = object(scope, registry, "prototype").ok_or_else(damaged)?;
    let array = object(scope, global, "Array").ok_or_else(damaged)?;
    let array_proto = object(scope, array, "prototype").ok_or_else(damaged)?;
    let object_ctor = object(scope, global, "Object").ok_or_else(damaged)?;
    let object_proto = object(scope, object_ctor, "prototype").ok_or_else(damaged)?;
    let symbol = object(scope, global, "Symbol").ok_or_else(damaged)?;
    let max_elements = Core::of(scope).limits.limit / 8;
    let max_elements = v8::Number::new(scope, max_elements as f64).into();
    let get = crate::convert::get;
    let originals = [
        Some(ab.into()),
        Some(sab.into()),
        Some(abp.into()),
        Some(sabp.into()),
        get(scope, reflect, "apply"),
        get(scope, reflect, "construct"),
        get(scope, reflect, "defineProperty"),
        Some(weak_map.into()),
        get(scope, weak_map_proto, "get"),
        get(scope, weak_map_proto, "set"),
        Some(registry.into()),
        get(scope, registry_proto, "register"),
        get(scope, global, "Proxy"),
        get(scope, abp, "resize"),
        get(scope, abp, "transfer"),
        get(scope, sabp, "grow"),
        getter(scope, abp, "byteLength"),
        getter(scope, abp, "maxByteLength"),
        getter(scope, abp, "resizable"),
        getter(scope, sabp, "byteLength"),
        getter(scope, sabp, "maxByteLength"),
        getter(scope, sabp, "growable"),
        Some(global.into()),
        get(scope, array_proto, "fill"),
        get(scope, array, "from"),
        Some(array_proto.into()),
        Some(array.into()),
        get(scope, array, "isArray"),
        get(scope, object_ctor, "getOwnPropertyDescriptor"),
        get(scope, object_proto, "hasOwnProperty"),
        get(scope, symbol, "iterator"),
        Some(max_elements),
    ];
    let mut values = Vec::with_capacity(originals.len());
    for v in originals {
        values.push(v.filter(|v| !v.is_undefined()).ok_or_else(damaged)?);
    }
    let originals = v8::Array::new_with_elements(scope, &values);
    let reserve = v8::Function::builder(reserve)
        .build(scope)
        .ok_or_else(|| crate::backend_error("creating the buffer guard"))?;
    let release = v8::Function::builder(release)
        .build(scope)
        .ok_or_else(|| crate::backend_error("creating the buffer guard"))?;
    let undefined = v8::undefined(scope).into();
    let no = v8::Boolean::new(scope, false).into();
    let state = v8::Array::new_with_elements(
        scope,
        &[
            originals.into(),
            reserve.into(),
            release.into(),
            undefined,
            no,
        ],
    );
    for (index, (holder, key)) in LAZY.iter().enumerate() {
        let holder = match holder {
            Holder::Global => global,
            Holder::ArrayBufferPrototype => abp,
            Holder::SharedArrayBufferPrototype => sabp,
            Holder::ArrayPrototype => array_proto,
            Holder::Array => array,
        };
        let i = v8::Integer::new(scope, index as i32).into();
        let data = v8::Array::new_with_elements(scope, &[state.into(), i]);
        let key = v8::String::new(scope, key).ok_or_else(crate::empty)?;
        holder
            .set_lazy_data_property_with_data(
                scope,
                key.into(),
                lazy_guard,
                data.into(),
                v8::PropertyAttribute::DONT_ENUM,
                v8::SideEffectType::HasSideEffect,
                v8::SideEffectType::HasSideEffect,
            )
            .filter(|ok| *ok)
            .ok_or_else(|| crate::backend_error("defining the buffer guard"))?;
    }
    Ok(())
}

/// Property `key` of `o`, if it is an object.
fn object<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    o: v8::Local<'s, v8::Object>,
    key: &str,
) -> Option<v8::Local<'s, v8::Object>> {
    crate::convert::get(scope, o, key).and_then(|v| v8::Local::<v8::Object>::try_from(v).ok())
}

/// The getter of accessor property `key` of `o`.
fn getter<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    o: v8::Local<'s, v8::Object>,
    key: &str,
) -> Option<v8::Local<'s, v8::Value>> {
    let key = v8::String::new(scope, key)?;
    let desc = o.get_own_property_descriptor(scope, key.into())?;
    let desc = v8::Local::<v8::Object>::try_from(desc).ok()?;
    crate::convert::get(scope, desc, "get")
}

/// Element `i` of `a`.
fn at<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    a: v8::Local<'s, v8::Array>,
    i: u32,
) -> Result<v8::Local<'s, v8::Value>> {
    a.get_index(scope, i).ok_or_else(crate::empty)
}

/// The original value of lazy property `index` (what it read before the guard).
const ORIGINAL_OF: [u32; 9] = [0, 1, 0, 13, 14, 1, 15, 23, 24];

/// The getter of every lazy buffer property: installs the guard in the holder's context
/// (once) and answers the guarded value. While the guard defines its properties, V8 reads
/// the lazy ones again: those reads answer the originals.
fn lazy_guard<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    _key: v8::Local<'s, v8::Name>,
    args: v8::PropertyCallbackArguments<'s>,
    mut rv: v8::ReturnValue<'_, v8::Value>,
) {
    let result = (|| -> Result<v8::Local<'s, v8::Value>> {
        let data = v8::Local::<v8::Array>::try_from(args.data())
            .map_err(|_| crate::backend_error("buffer guard data"))?;
        let state = data.get_index(scope, 0).ok_or_else(crate::empty)?;
        let state = v8::Local::<v8::Array>::try_from(state)
            .map_err(|_| crate::backend_error("buffer guard state"))?;
        let index = data
            .get_index(scope, 1)
            .and_then(|i| i.uint32_value(scope))
            .filter(|i| (*i as usize) < LAZY.len())
            .ok_or_else(|| crate::backend_error("buffer guard index"))?;
        debug_assert_eq!(state.length(), STATE_LEN);
        if let Ok(values) = v8::Local::<v8::Array>::try_from(at(scope, state, 3)?) {
            return at(scope, values, index);
        }
        let originals = v8::Local::<v8::Array>::try_from(at(scope, state, 0)?)
            .map_err(|_| crate::backend_error("buffer guard originals"))?;
        if at(scope, state, 4)?.is_true() {
            return at(scope, originals, ORIGINAL_OF[index as usize]);
        }
        let yes = v8::Boolean::new(scope, true).into();
        state.set_index(scope, 4, yes);
        let installed = run_guard(scope, state, originals, index);
        let no = v8::Boolean::new(scope, false).into();
        state.set_index(scope, 4, no);
        let values = installed?;
        state.set_index(scope, 3, values.into());
        at(scope, values, index)
    })();
    match result {
        Ok(v) => rv.set(v),
        Err(e) if crate::is_empty(&e) => {}
        Err(e) => crate::convert::throw(scope, &e),
    }
}

/// Runs the guard with the context's originals; its guarded values, in [`LAZY`] order.
fn run_guard<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    state: v8::Local<'s, v8::Array>,
    originals: v8::Local<'s, v8::Array>,
    resolving: u32,
) -> Result<v8::Local<'s, v8::Array>> {
    let reserve = state.get_index(scope, 1).ok_or_else(crate::empty)?;
    let release = state.get_index(scope, 2).ok_or_else(crate::empty)?;
    let guard = crate::ivm::run_static(scope, GUARD, &GUARD_CACHE)?;
    let guard = v8::Local::<v8::Function>::try_from(guard)
        .map_err(|_| crate::backend_error("the buffer guard is not a function"))?;
    let recv = v8::undefined(scope).into();
    let resolving = v8::Integer::new_from_unsigned(scope, resolving);
    let values = guard
        .call(
            scope,
            recv,
            &[originals.into(), reserve, release, resolving.into()],
        )
        .ok_or_else(crate::empty)?;
    v8::Local::<v8::Array>::try_from(values)
        .map_err(|_| crate::backend_error("the buffer guard returned no values"))
}

/// The byte count the guard passes (its own arithmetic on byte lengths).
fn bytes_arg<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> usize {
    match args.get(0).number_value(scope) {
        Some(n) if n.is_finite() && n >= 0.0 => n as usize,
        _ => usize::MAX,
    }
}

/// `reserve(bytes)`: counts bytes a resizable buffer is about to take, or ends the call.
fn reserve<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: v8::FunctionCallbackArguments<'s>,
    _rv: v8::ReturnValue<'s, v8::Value>,
) {
    let bytes = bytes_arg(scope, &args);
    let limits = &Core::of(scope).limits;
    if limits.try_reserve(bytes) {
        return;
    }
    // Buffers the guest dropped give their bytes back once collected and cleaned up.
    scope.low_memory_notification();
    crate::platform::run_posted_tasks(scope);
    if !limits.reserve(bytes) {
        // The isolate is over its limit and being terminated: the call ends in MemoryLimit.
        crate::convert::throw(scope, &Error::MemoryLimit);
    }
}

/// `release(bytes)`: a collected buffer gives back what it counted.
fn release<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: v8::FunctionCallbackArguments<'s>,
    _rv: v8::ReturnValue<'s, v8::Value>,
) {
    let bytes = bytes_arg(scope, &args);
    if bytes != usize::MAX {
        Core::of(scope).limits.unreserve(bytes);
    }
}
