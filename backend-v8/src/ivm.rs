//! The seed's guest-side API: `ivm.Reference`, `ivm.ExternalCopy` and the objects that
//! stand for host references and copies inside the guest.
//!
//! The classes are JavaScript (below); they reach the host through native functions that
//! only the bootstrap closure sees. Objects are recognised by private symbols.

use engine_api::{
    AnyReference, ApplyOptions, Error, ExternalCopy, PropertyOptions, PropertyRefusal, Result,
    TransferOptions, Value,
};

use crate::V8Reference;
use crate::convert::{self, Fallback};
use crate::host_promise;
use crate::isolate_core::Core;

const BOOTSTRAP: &str = r#"(function (native) {
  'use strict';
  // An object literal: nothing the guest can have replaced before a lazy bootstrap.
  const secret = {};
  const list = (args) => (args === undefined || args === null ? [] : Array.from(args));
  class Reference {
    #id;
    constructor(value, token, id) {
      if (token !== secret) native.options(token, 3);
      this.#id = token === secret ? id : native.newReference(value, token);
      native.tag(this, 0, this.#id);
    }
    get typeof() { return native.refTypeof(this.#id); }
    applySync(receiver, args, options) {
      native.options(options, 0);
      return native.refApply(this.#id, receiver, list(args), options, 0);
    }
    applyIgnored(receiver, args, options) {
      native.options(options, 0);
      native.refApply(this.#id, receiver, list(args), options, 1);
    }
    apply(receiver, args, options) {
      native.options(options, 0);
      return native.refApply(this.#id, receiver, list(args), options, 2);
    }
    applySyncPromise(receiver, args, options) {
      native.options(options, 0);
      const o = Object.assign({}, options);
      o.result = Object.assign({}, o.result, { promise: true });
      return native.refApply(this.#id, receiver, list(args), o, 0);
    }
    getSync(key, options) { native.options(options, 1); return native.refGet(this.#id, key, options); }
    get(key, options) { return Promise.resolve().then(() => this.getSync(key, options)); }
    setSync(key, value, options) { native.options(options, 1); return native.refSet(this.#id, key, value, options); }
    set(key, value, options) { return Promise.resolve().then(() => this.setSync(key, value, options)); }
    setIgnored(key, value, options) { try { this.setSync(key, value, options); } catch (e) {} }
    deleteSync(key) { return native.refDelete(this.#id, key); }
    delete(key) { return Promise.resolve().then(() => this.deleteSync(key)); }
    deleteIgnored(key) { try { this.deleteSync(key); } catch (e) {} }
    copySync() { return native.refCopy(this.#id); }
    copy() { return Promise.resolve().then(() => this.copySync()); }
    deref(options) {
      native.options(options, 2);
      const v = native.refDeref(this.#id);
      if (options && options.release) this.release();
      return v;
    }
    derefInto(options) {
      native.options(options, 2);
      // With release, the marker keeps the reference under an id of its own.
      const id = options && options.release ? native.refMove(this.#id) : this.#id;
      const m = {};
      native.tag(m, 1, id);
      native.freeze(m);
      return m;
    }
    release() { native.refRelease(this.#id); }
  }
  class ExternalCopy {
    #id;
    constructor(value, token, id) {
      if (token !== secret) native.options(token, 4);
      this.#id = token === secret ? id : native.newCopy(value, token);
      native.tag(this, 2, this.#id);
    }
    copy(options) {
      native.options(options, 6);
      const v = native.copyCopy(this.#id);
      // transferIn moves the data in and invalidates the handle: a release, for the guest.
      if (options && (options.release || options.transferIn)) this.release();
      return v;
    }
    copyInto(options) {
      native.options(options, 5);
      const transferIn = !!(options && options.transferIn);
      // With release (or transferIn) the marker keeps the data under an id of its own;
      // a transferIn marker gives it up on its first crossing (kind 4).
      const id = transferIn || (options && options.release) ? native.copyMove(this.#id) : this.#id;
      const m = {};
      native.tag(m, transferIn ? 4 : 3, id);
      native.freeze(m);
      return m;
    }
    release() { native.copyRelease(this.#id); }
  }
  const lib = {
    hrtime(previous) { return native.hrtime(previous); },
  };
  // As isolated-vm's, the API is frozen (by a native: the guest may have replaced
  // `Object.freeze` before this lazy bootstrap ran).
  const ivm = { Reference, ExternalCopy, lib };
  for (const o of [Reference, Reference.prototype, ExternalCopy, ExternalCopy.prototype, lib, ivm]) {
    native.freeze(o);
  }
  return {
    ivm,
    makeReference: (id) => new Reference(undefined, secret, id),
    makeExternalCopy: (id) => new ExternalCopy(undefined, secret, id),
  };
})"#;

/// What a tagged guest object stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tag {
    Reference,
    DerefInto,
    ExternalCopy,
    CopyInto,
    /// A `copyInto({ transferIn: true })` marker: its first crossing takes the data.
    CopyIntoOnce,
}

fn private<'s>(scope: &mut v8::PinScope<'s, '_>, name: &str) -> v8::Local<'s, v8::Private> {
    let name = v8::String::new(scope, name);
    v8::Private::for_api(scope, name)
}

/// The (kind, id) private keys, looked up once per isolate.
fn tag_keys<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    core: &Core,
) -> (v8::Local<'s, v8::Private>, v8::Local<'s, v8::Private>) {
    let mut cache = core.tag_keys.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((k, i)) = cache.as_ref() {
        return (v8::Local::new(scope, k), v8::Local::new(scope, i));
    }
    let (k, i) = (private(scope, "isovm.kind"), private(scope, "isovm.id"));
    *cache = Some((v8::Global::new(scope, k), v8::Global::new(scope, i)));
    (k, i)
}

/// The tag of `v`, if it is one of this module's objects.
pub(crate) fn tag_of<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    v: v8::Local<'s, v8::Value>,
) -> Option<(Tag, u64)> {
    let obj = v8::Local::<v8::Object>::try_from(v).ok()?;
    let core = Core::of(scope);
    if !core.tagged.load(std::sync::atomic::Ordering::Relaxed) {
        return None;
    }
    let (kind_key, id_key) = tag_keys(scope, &core);
    let kind = obj.get_private(scope, kind_key)?;
    if !kind.is_number() {
        return None;
    }
    let id = obj.get_private(scope, id_key)?.number_value(scope)? as u64;
    let tag = match kind.int32_value(scope)? {
        0 => Tag::Reference,
        1 => Tag::DerefInto,
        2 => Tag::ExternalCopy,
        3 => Tag::CopyInto,
        4 => Tag::CopyIntoOnce,
        _ => return None,
    };
    Some((tag, id))
}

/// The current context's ivm internals, booting the API on first use.
fn internals<'s>(scope: &mut v8::PinScope<'s, '_>) -> Result<v8::Local<'s, v8::Object>> {
    let key = private(scope, "isovm.internals");
    let global = scope.get_current_context().global(scope);
    if let Some(api) = global
        .get_private(scope, key)
        .and_then(|v| v8::Local::<v8::Object>::try_from(v).ok())
    {
        return Ok(api);
    }
    let api = boot(scope)?;
    global.set_private(scope, key, api.into());
    Ok(api)
}

fn call_internal<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    name: &str,
    id: u64,
) -> Result<v8::Local<'s, v8::Value>> {
    let obj = internals(scope)?;
    let key = v8::String::new(scope, name).ok_or_else(crate::empty)?;
    let f = obj
        .get(scope, key.into())
        .and_then(|f| v8::Local::<v8::Function>::try_from(f).ok())
        .ok_or_else(|| crate::backend_error("ivm API damaged"))?;
    let idv = v8::Number::new(scope, id as f64);
    let recv = v8::undefined(scope).into();
    f.call(scope, recv, &[idv.into()]).ok_or_else(crate::empty)
}

/// An `ivm.Reference` for `r` in the current context.
pub(crate) fn make_reference<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    r: AnyReference,
) -> Result<v8::Local<'s, v8::Value>> {
    let id = Core::of(scope).tables().add_ref(r);
    call_internal(scope, "makeReference", id)
}

/// An `ivm.ExternalCopy` for `c` in the current context.
pub(crate) fn make_external_copy<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    c: ExternalCopy,
) -> Result<v8::Local<'s, v8::Value>> {
    let id = Core::of(scope).tables().add_copy(c);
    call_internal(scope, "makeExternalCopy", id)
}

const NAMES: [&str; 18] = [
    "tag",
    "newReference",
    "refTypeof",
    "refApply",
    "refGet",
    "refSet",
    "refDelete",
    "refCopy",
    "refDeref",
    "refRelease",
    "newCopy",
    "copyCopy",
    "copyRelease",
    "options",
    "hrtime",
    "freeze",
    "refMove",
    "copyMove",
];

type Native = for<'s, 'i> fn(
    &mut v8::PinScope<'s, 'i>,
    &v8::FunctionCallbackArguments<'s>,
) -> Result<Option<Value>>;

/// V8's code cache of [`BOOTSTRAP`], made by the first context of the process.
static BOOT_CACHE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();

/// Prepares a new context: removes `WebAssembly` and defines `ivm` as a lazy global.
///
/// The API itself (two classes and their natives, about 50 us) boots on first use: when
/// the guest first reads `ivm`, or the host first passes it a reference or a copy. Most
/// contexts never need it, and they start that much faster.
pub(crate) fn install(scope: &mut v8::PinScope) -> Result<()> {
    // `eval` and `new Function` ask `source_limit::code_from_strings` first (a size bound).
    scope
        .get_current_context()
        .set_allow_generation_from_strings(false);
    crate::guard::install(scope)?;
    let global = scope.get_current_context().global(scope);
    // WebAssembly memory lives outside the heap and the array buffer allocator, so it
    // would escape the memory limit: guests get no `WebAssembly`.
    let wasm = v8::String::new(scope, "WebAssembly").ok_or_else(crate::empty)?;
    global.delete(scope, wasm.into());
    let ivm_key = v8::String::new(scope, "ivm").ok_or_else(crate::empty)?;
    let data = v8::undefined(scope).into();
    global
        .set_lazy_data_property_with_data(
            scope,
            ivm_key.into(),
            lazy_ivm,
            data,
            v8::PropertyAttribute::DONT_ENUM,
            v8::SideEffectType::HasSideEffect,
            v8::SideEffectType::HasSideEffect,
        )
        .filter(|ok| *ok)
        .ok_or_else(|| crate::backend_error("defining the ivm global"))?;
    Ok(())
}

/// The getter of the lazy `ivm` global: boots the API in the holder's context.
fn lazy_ivm<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    _key: v8::Local<'s, v8::Name>,
    args: v8::PropertyCallbackArguments<'s>,
    mut rv: v8::ReturnValue<'_, v8::Value>,
) {
    let result = (|| -> Result<v8::Local<'s, v8::Value>> {
        let context = args
            .holder()
            .get_creation_context(scope)
            .unwrap_or_else(|| scope.get_current_context());
        let scope = &mut v8::ContextScope::new(scope, context);
        let api = internals(scope)?;
        let key = v8::String::new(scope, "ivm").ok_or_else(crate::empty)?;
        let ivm = api.get(scope, key.into()).ok_or_else(crate::empty)?;
        Ok(v8::Local::new(scope, ivm))
    })();
    match result {
        Ok(ivm) => rv.set(ivm),
        Err(e) if crate::is_empty(&e) => {}
        Err(e) => convert::throw(scope, &e),
    }
}

/// Compiles and runs a static script of the backend in the current context, from a
/// process-wide code cache after the first time (V8 checks the cache against the source
/// and its flags, and compiles normally when it rejects it). A failure is the
/// [`crate::empty`] marker, with the exception left for the caller's `TryCatch`.
pub(crate) fn run_static<'s>(
    tc: &mut v8::PinScope<'s, '_>,
    code: &'static str,
    cache_slot: &std::sync::OnceLock<Vec<u8>>,
) -> Result<v8::Local<'s, v8::Value>> {
    let source =
        v8::String::new_external_onebyte_static(tc, code.as_bytes()).ok_or_else(crate::empty)?;
    let cache = cache_slot.get();
    let mut src = match cache {
        Some(bytes) => v8::script_compiler::Source::new_with_cached_data(
            source,
            None,
            v8::script_compiler::CachedData::new(bytes),
        ),
        None => v8::script_compiler::Source::new(source, None),
    };
    let options = match cache {
        Some(_) => v8::script_compiler::CompileOptions::ConsumeCodeCache,
        None => v8::script_compiler::CompileOptions::EagerCompile,
    };
    let reason = v8::script_compiler::NoCacheReason::NoReason;
    let script =
        v8::script_compiler::compile(tc, &mut src, options, reason).ok_or_else(crate::empty)?;
    let value = script.run(tc).ok_or_else(crate::empty)?;
    if cache.is_none()
        && let Some(data) = script.get_unbound_script(tc).create_code_cache()
    {
        let _ = cache_slot.set(data.to_vec());
    }
    Ok(value)
}

/// Runs the bootstrap in the current context: the internals object (`ivm`,
/// `makeReference`, `makeExternalCopy`).
fn boot<'s>(scope: &mut v8::PinScope<'s, '_>) -> Result<v8::Local<'s, v8::Object>> {
    v8::tc_scope!(let tc, scope);
    let native = v8::Object::new(tc);
    for (i, name) in NAMES.iter().enumerate() {
        let builder = match i {
            0 => v8::Function::builder(native_call::<0>),
            1 => v8::Function::builder(native_call::<1>),
            2 => v8::Function::builder(native_call::<2>),
            3 => v8::Function::builder(native_call::<3>),
            4 => v8::Function::builder(native_call::<4>),
            5 => v8::Function::builder(native_call::<5>),
            6 => v8::Function::builder(native_call::<6>),
            7 => v8::Function::builder(native_call::<7>),
            8 => v8::Function::builder(native_call::<8>),
            9 => v8::Function::builder(native_call::<9>),
            10 => v8::Function::builder(native_call::<10>),
            11 => v8::Function::builder(native_call::<11>),
            12 => v8::Function::builder(native_call::<12>),
            13 => v8::Function::builder(native_call::<13>),
            14 => v8::Function::builder(native_call::<14>),
            15 => v8::Function::builder(native_call::<15>),
            16 => v8::Function::builder(native_call::<16>),
            _ => v8::Function::builder(native_call::<17>),
        };
        let func = builder
            .build(tc)
            .ok_or_else(|| crate::backend_error("creating the ivm API"))?;
        let key = v8::String::new(tc, name).ok_or_else(crate::empty)?;
        native.set(tc, key.into(), func.into());
    }
    let boot = match run_static(tc, BOOTSTRAP, &BOOT_CACHE) {
        Ok(boot) => boot,
        Err(e) if crate::is_empty(&e) && tc.has_caught() => return Err(caught!(tc)),
        Err(e) => return Err(e),
    };
    let boot = v8::Local::<v8::Function>::try_from(boot)
        .map_err(|_| crate::backend_error("ivm bootstrap is not a function"))?;
    let recv = v8::undefined(tc).into();
    let Some(api) = boot.call(tc, recv, &[native.into()]) else {
        return Err(caught!(tc));
    };
    let api = v8::Local::<v8::Object>::try_from(api)
        .map_err(|_| crate::backend_error("ivm bootstrap returned no object"))?;
    Ok(api)
}

fn native_call<'s, const N: usize>(
    scope: &mut v8::PinScope<'s, '_>,
    args: v8::FunctionCallbackArguments<'s>,
    mut rv: v8::ReturnValue<'s, v8::Value>,
) {
    const TABLE: [Native; 18] = [
        tag,
        new_reference,
        ref_typeof,
        ref_apply,
        ref_get,
        ref_set,
        ref_delete,
        ref_copy,
        ref_deref,
        ref_release,
        new_copy,
        copy_copy,
        copy_release,
        crate::ivm_options::native,
        hrtime,
        freeze,
        ref_move,
        copy_move,
    ];
    match TABLE[N](scope, &args) {
        Ok(Some(v)) => {
            match convert::from_value(scope, &v) {
                Ok(local) => rv.set(local),
                Err(e) => convert::throw(scope, &e),
            }
            engine_api::drop_values([v]);
        }
        Ok(None) => {}
        // An exception is pending (or execution is terminating): leave it be.
        Err(e) if crate::is_empty(&e) => {}
        Err(e) => convert::throw(scope, &e),
    }
}

fn id_arg<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> Result<u64> {
    args.get(0)
        .number_value(scope)
        .map(|n| n as u64)
        .ok_or_else(|| Error::InvalidArgument("bad handle".into()))
}

fn reference_arg<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> Result<AnyReference> {
    let id = id_arg(scope, args)?;
    Core::of(scope)
        .tables()
        .refs
        .get(&id)
        .cloned()
        .ok_or(Error::Released("reference"))
}

fn tag<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> Result<Option<Value>> {
    let obj = v8::Local::<v8::Object>::try_from(args.get(0))
        .map_err(|_| Error::InvalidArgument("not an object".into()))?;
    let core = Core::of(scope);
    // A marker of a released handle is refused when made, as on Boa-WASI.
    let kind = args.get(1).int32_value(scope).unwrap_or(-1);
    let id = args.get(2).number_value(scope).unwrap_or(-1.0) as u64;
    {
        let t = core.tables();
        match kind {
            0 | 1 if !t.refs.contains_key(&id) => return Err(Error::Released("reference")),
            2..=4 if !t.copies.contains_key(&id) => {
                return Err(Error::Released("external copy"));
            }
            _ => {}
        }
    }
    core.tagged
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let (kind_key, id_key) = tag_keys(scope, &core);
    obj.set_private(scope, kind_key, args.get(1));
    obj.set_private(scope, id_key, args.get(2));
    Ok(None)
}

fn new_reference<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> Result<Option<Value>> {
    let Value::Reference(r) = convert::reference(scope, args.get(0))? else {
        return Err(crate::backend_error("reference expected"));
    };
    // `new ivm.Reference(value, { unsafeInherit: true })`: `get` follows the prototype chain.
    let inherit =
        member(scope, args.get(1), "unsafeInherit").is_some_and(|v| v.boolean_value(scope));
    let r = match r.downcast_ref::<V8Reference>() {
        Some(own) if inherit => {
            engine_api::Reference::to_any(&engine_api::Reference::inheriting(own))
        }
        _ => r,
    };
    let id = Core::of(scope).tables().add_ref(r);
    Ok(Some(Value::Number(id as f64)))
}

fn ref_typeof<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> Result<Option<Value>> {
    let r = reference_arg(scope, args)?;
    Ok(Some(Value::from(r.type_of()?.as_str())))
}

/// `{ copy, externalCopy, reference, promise }` from a guest options object.
fn transfer_options(scope: &mut v8::PinScope, v: v8::Local<v8::Value>) -> TransferOptions {
    let mut o = TransferOptions::default();
    let Ok(obj) = v8::Local::<v8::Object>::try_from(v) else {
        return o;
    };
    let flag = |name: &str| {
        v8::String::new(scope, name)
            .and_then(|k| obj.get(scope, k.into()))
            .is_some_and(|v| v.boolean_value(scope))
    };
    o.copy = flag("copy");
    o.external_copy = flag("externalCopy");
    o.reference = flag("reference");
    o.promise = flag("promise");
    o
}

fn member<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    obj: v8::Local<'s, v8::Value>,
    name: &str,
) -> Option<v8::Local<'s, v8::Value>> {
    let obj = v8::Local::<v8::Object>::try_from(obj).ok()?;
    let k = v8::String::new(scope, name)?;
    obj.get(scope, k.into()).filter(|v| !v.is_undefined())
}

fn ref_apply<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> Result<Option<Value>> {
    let r = reference_arg(scope, args)?;
    let options = args.get(3);
    let arguments = member(scope, options, "arguments")
        .map(|a| transfer_options(scope, a))
        .unwrap_or_default();
    let result = member(scope, options, "result")
        .map(|a| transfer_options(scope, a))
        .unwrap_or_default();
    let timeout = member(scope, options, "timeout")
        .and_then(|t| t.number_value(scope))
        .filter(|t| t.is_finite() && *t > 0.0)
        .map(|ms| std::time::Duration::from_secs_f64(ms / 1000.0));
    let receiver = convert::to_value(scope, args.get(1), &arguments, Fallback::Error)?;
    let list = v8::Local::<v8::Array>::try_from(args.get(2))
        .map_err(|_| Error::InvalidArgument("arguments must be an array".into()))?;
    let mut values = Vec::with_capacity(list.length() as usize);
    for i in 0..list.length() {
        let item = list.get_index(scope, i).ok_or_else(crate::empty)?;
        values.push(convert::to_value(scope, item, &arguments, Fallback::Error)?);
    }
    let opts = ApplyOptions {
        timeout,
        arguments,
        result,
    };
    let mode = args.get(4).int32_value(scope).unwrap_or(0);
    let core = Core::of(scope);
    match mode {
        0 => {
            let host_callback = r.downcast_ref::<engine_api::Callback>().is_some();
            core.lend(|| crate::cpu::host(|| r.apply(receiver, values, &opts)))
                .map(Some)
                // A reference to a host callback fails as the callback (as on boa-wasi).
                .map_err(|e| {
                    if host_callback {
                        Error::from_callback(e)
                    } else {
                        e
                    }
                })
        }
        1 => {
            core.outbox.spawn_ignored(move || {
                let _ = r.apply(receiver, values, &opts);
            });
            Ok(None)
        }
        _ => {
            let isolate = core.isolate()?;
            let (promise, id) = host_promise::promise(scope, &core).ok_or_else(crate::empty)?;
            core.outbox.spawn_ignored(move || {
                let result = r.apply(receiver, values, &opts);
                host_promise::settle(isolate, id, result);
            });
            let g = v8::Global::new(scope, v8::Local::<v8::Value>::from(promise));
            Ok(Some(Value::DerefInto(engine_api::Reference::to_any(
                &V8Reference::new(&core.isolate()?, g),
            ))))
        }
    }
}

/// The property key a `Reference` method was given (its second argument), copied; a
/// symbol passes as itself into `r`'s own isolate. An object is refused before it is
/// copied (converting it to a key would run its code).
fn key_arg<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
    r: &AnyReference,
) -> Result<Value> {
    let key = args.get(1);
    if key.is_object() {
        return Err(PropertyRefusal::ObjectKey.error());
    }
    if key.is_symbol() {
        let core = Core::of(scope);
        if r.isolate_id() != Some(core.id) {
            return Err(Error::NotTransferable(
                "a symbol key cannot cross into another isolate".into(),
            ));
        }
        let g = v8::Global::new(scope, key);
        let own = V8Reference::new(&core.isolate()?, g);
        return Ok(Value::DerefInto(engine_api::Reference::to_any(&own)));
    }
    convert::to_value(scope, key, &TransferOptions::copy(), Fallback::Error)
}

/// `{ accessors, ...TransferOptions }` of `ref.get` / `ref.set`.
fn property_options<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    v: v8::Local<'s, v8::Value>,
) -> PropertyOptions {
    PropertyOptions {
        transfer: transfer_options(scope, v),
        accessors: member(scope, v, "accessors").is_some_and(|a| a.boolean_value(scope)),
    }
}

fn ref_get<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> Result<Option<Value>> {
    let r = reference_arg(scope, args)?;
    let key = key_arg(scope, args, &r)?;
    let opts = property_options(scope, args.get(2));
    r.get(key, &opts).map(Some)
}

fn ref_set<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> Result<Option<Value>> {
    let r = reference_arg(scope, args)?;
    let key = key_arg(scope, args, &r)?;
    let opts = property_options(scope, args.get(3));
    let value = convert::to_value(scope, args.get(2), &opts.transfer, Fallback::Error)?;
    r.set(key, value, &opts).map(|b| Some(Value::Bool(b)))
}

fn ref_delete<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> Result<Option<Value>> {
    let r = reference_arg(scope, args)?;
    let key = key_arg(scope, args, &r)?;
    r.delete(key).map(|b| Some(Value::Bool(b)))
}

fn ref_copy<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> Result<Option<Value>> {
    let r = reference_arg(scope, args)?;
    r.copy().map(Some)
}

fn ref_deref<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> Result<Option<Value>> {
    let r = reference_arg(scope, args)?;
    Ok(Some(Value::DerefInto(r)))
}

fn ref_release<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> Result<Option<Value>> {
    let id = id_arg(scope, args)?;
    let r = Core::of(scope).tables().refs.remove(&id);
    drop(r);
    Ok(None)
}

fn new_copy<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> Result<Option<Value>> {
    let detach = crate::transfer_list::to_detach(scope, args.get(0), args.get(1))?;
    let data = convert::copy(scope, args.get(0))?;
    let copy = ExternalCopy::new(data)?;
    // The guest holds it until it releases it (or the isolate goes): it counts against
    // the isolate's memory limit meanwhile, like an array buffer.
    let core = Core::of(scope);
    let size = copy.size();
    if !core.limits.reserve(size) {
        return Err(Error::MemoryLimit);
    }
    let id = {
        let mut tables = core.tables();
        let id = tables.add_copy(copy);
        tables.guest_copies.insert(id, size);
        id
    };
    crate::transfer_list::detach(&detach)?;
    Ok(Some(Value::Number(id as f64)))
}

/// `refMove(id)`: the reference under a new id, the old one released (a `derefInto`
/// marker made with `release` keeps it).
fn ref_move<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> Result<Option<Value>> {
    let id = id_arg(scope, args)?;
    let core = Core::of(scope);
    let mut tables = core.tables();
    let r = tables
        .refs
        .remove(&id)
        .ok_or(Error::Released("reference"))?;
    Ok(Some(Value::Number(tables.add_ref(r) as f64)))
}

/// `copyMove(id)`: the copy (and what it counts against the limit) under a new id, the old
/// one released (a `copyInto` marker made with `release` or `transferIn` keeps it).
fn copy_move<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> Result<Option<Value>> {
    let id = id_arg(scope, args)?;
    let core = Core::of(scope);
    let mut tables = core.tables();
    let c = tables
        .copies
        .remove(&id)
        .ok_or(Error::Released("external copy"))?;
    let size = tables.guest_copies.remove(&id);
    let new = tables.add_copy(c);
    if let Some(size) = size {
        tables.guest_copies.insert(new, size);
    }
    Ok(Some(Value::Number(new as f64)))
}

fn copy_copy<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> Result<Option<Value>> {
    let id = id_arg(scope, args)?;
    let copy = Core::of(scope)
        .tables()
        .copies
        .get(&id)
        .cloned()
        .ok_or(Error::Released("external copy"))?;
    copy.copy().map(Some)
}

fn copy_release<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> Result<Option<Value>> {
    let id = id_arg(scope, args)?;
    let core = Core::of(scope);
    let (c, size) = {
        let mut tables = core.tables();
        (tables.copies.remove(&id), tables.guest_copies.remove(&id))
    };
    if let Some(size) = size {
        core.limits.unreserve(size);
    }
    drop(c);
    Ok(None)
}

/// The arbitrary past instant `ivm.lib.hrtime` counts from (its first use in the process).
static HRTIME_EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

const NANOS: u64 = 1_000_000_000;

/// `ivm.lib.hrtime([previous])`: `[seconds, nanoseconds]` of a monotonic clock, or the time
/// since `previous` (an earlier result), as Node's `process.hrtime`.
fn hrtime<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> Result<Option<Value>> {
    let elapsed = HRTIME_EPOCH.get_or_init(std::time::Instant::now).elapsed();
    let mut ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
    let previous = args.get(0);
    if !previous.is_undefined() {
        ns = ns.saturating_sub(previous_ns(scope, previous)?);
    }
    Ok(Some(Value::Array(vec![
        Value::Number((ns / NANOS) as f64),
        Value::Number((ns % NANOS) as f64),
    ])))
}

/// An earlier `hrtime` result: an array of two whole numbers (seconds, nanoseconds).
fn previous_ns<'s>(scope: &mut v8::PinScope<'s, '_>, v: v8::Local<'s, v8::Value>) -> Result<u64> {
    let bad = |m: &str| Error::js("TypeError", m);
    let array = v8::Local::<v8::Array>::try_from(v)
        .ok()
        .filter(|a| a.length() == 2)
        .ok_or_else(|| bad("hrtime diff must be 2-length array"))?;
    let mut parts = [0u64; 2];
    for (i, part) in parts.iter_mut().enumerate() {
        let n = array
            .get_index(scope, i as u32)
            .filter(|n| n.is_number())
            .and_then(|n| n.number_value(scope))
            .filter(|n| (0.0..=f64::from(u32::MAX)).contains(n) && n.fract() == 0.0)
            .ok_or_else(|| bad("hrtime diff must hold two whole numbers"))?;
        *part = n as u64;
    }
    Ok(parts[0].saturating_mul(NANOS).saturating_add(parts[1]))
}

/// Freezes its argument (an object of the bootstrap).
fn freeze<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> Result<Option<Value>> {
    let obj = v8::Local::<v8::Object>::try_from(args.get(0))
        .map_err(|_| Error::InvalidArgument("not an object".into()))?;
    match obj.set_integrity_level(scope, v8::IntegrityLevel::Frozen) {
        Some(true) => Ok(None),
        // An exception is pending (or execution is terminating).
        None => Err(crate::empty()),
        Some(false) => Err(crate::backend_error("freezing the ivm API")),
    }
}
