//! Resizable `ArrayBuffer`s and growable `SharedArrayBuffer`s against the memory limit.
//!
//! V8 reserves and commits their memory through its page allocator, past the isolate's
//! array buffer allocator that counts every other buffer. So every context routes their
//! creation and growth (constructors, `resize`, `grow`, `transfer`) through a guard that
//! counts the bytes before V8 commits them; over the limit the call ends in `MemoryLimit`.
//!
//! What the guard counts is given back when the buffer is collected (a `FinalizationRegistry`
//! of the guard's own, whose cleanup V8 posts as a task that the backend runs when a call
//! ends: V8 gives a shared isolate no per-object GC callback of its own).

use engine_api::{Error, Result};

use crate::isolate::Core;

/// Installs the guard in the current context (before any guest code runs there).
const GUARD: &str = r#"(function (reserve, release) {
  'use strict';
  // Everything the guard calls later is taken now, before any guest code can replace it.
  const { apply, construct, defineProperty, getOwnPropertyDescriptor } = Reflect;
  const { get: weakGet, set: weakSet } = WeakMap.prototype;
  const register = FinalizationRegistry.prototype.register;
  // What each live buffer holds counted, given back once it is collected.
  const counted = new WeakMap();
  const registry = new FinalizationRegistry((held) => release(held.bytes));
  const count = (buffer, bytes) => {
    reserve(bytes);
    let held = apply(weakGet, counted, [buffer]);
    if (held === undefined) {
      held = { bytes: 0 };
      apply(weakSet, counted, [buffer, held]);
      apply(register, registry, [buffer, held]);
    }
    held.bytes += bytes;
  };
  const getter = (proto, name) => getOwnPropertyDescriptor(proto, name).get;
  const hidden = (value) => ({ value, writable: true, enumerable: false, configurable: true });
  const guard = (name, growName, flag) => {
    const Original = globalThis[name];
    const proto = Original.prototype;
    const grow = proto[growName];
    const byteLength = getter(proto, 'byteLength');
    const maxByteLength = getter(proto, 'maxByteLength');
    const growable = getter(proto, flag);
    const Guarded = new Proxy(Original, {
      construct(target, args, newTarget) {
        const buffer = construct(target, args, newTarget);
        if (apply(growable, buffer, [])) count(buffer, apply(byteLength, buffer, []));
        return buffer;
      },
    });
    const methods = {
      [growName](length) {
        const n = +length;
        const before = apply(byteLength, this, []);
        if (n > before && n <= apply(maxByteLength, this, [])) count(this, n - before);
        return apply(grow, this, [n]);
      },
    };
    defineProperty(globalThis, name, hidden(Guarded));
    defineProperty(proto, 'constructor', hidden(Guarded));
    defineProperty(proto, growName, hidden(methods[growName]));
    return { proto, byteLength, maxByteLength, growable };
  };
  const ab = guard('ArrayBuffer', 'resize', 'resizable');
  guard('SharedArrayBuffer', 'grow', 'growable');
  // A resizable buffer's transfer stays resizable: a new length past the old is new memory.
  const transfer = ab.proto.transfer;
  const methods = {
    transfer(length) {
      const before = apply(ab.byteLength, this, []);
      const n = length === undefined ? before : +length;
      const resizable = apply(ab.growable, this, []);
      if (resizable && n > before && n <= apply(ab.maxByteLength, this, [])) {
        reserve(n - before);
      }
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
  };
  defineProperty(ab.proto, 'transfer', hidden(methods.transfer));
})"#;

/// V8's code cache of [`GUARD`].
static GUARD_CACHE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();

/// Routes the current context's resizable and growable buffers through the guard.
pub(crate) fn guard(scope: &mut v8::PinScope) -> Result<()> {
    let reserve = v8::Function::builder(reserve)
        .build(scope)
        .ok_or_else(|| crate::backend_error("creating the buffer guard"))?;
    let release = v8::Function::builder(release)
        .build(scope)
        .ok_or_else(|| crate::backend_error("creating the buffer guard"))?;
    let install = crate::ivm::run_static(scope, GUARD, &GUARD_CACHE)?;
    let install = v8::Local::<v8::Function>::try_from(install)
        .map_err(|_| crate::backend_error("the buffer guard is not a function"))?;
    let recv = v8::undefined(scope).into();
    install
        .call(scope, recv, &[reserve.into(), release.into()])
        .ok_or_else(|| crate::backend_error("installing the buffer guard"))?;
    Ok(())
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
    crate::run_posted_tasks(scope);
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
