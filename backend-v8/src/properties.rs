//! Property access through a reference that runs no guest code (isolated-vm's default,
//! see [`engine_api::PropertyOptions`]): data properties only, accessors and Proxies
//! refused, and a key never converted through guest code.
//!
//! A failure with an exception pending is the [`crate::empty`] marker, for the caller's
//! `TryCatch`.

use engine_api::{PropertyRefusal, Result};

use crate::isolate_core::Core;

/// `key` as a property name. An object key is refused: its `toString` is guest code.
pub(crate) fn name<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    key: v8::Local<'s, v8::Value>,
) -> Result<v8::Local<'s, v8::Name>> {
    if key.is_object() {
        return Err(PropertyRefusal::ObjectKey.error());
    }
    if let Ok(name) = v8::Local::<v8::Name>::try_from(key) {
        return Ok(name);
    }
    // A number, boolean, BigInt, null or undefined: its ToString runs no code.
    key.to_string(scope)
        .map(Into::into)
        .ok_or_else(crate::empty)
}

/// An object's own property, as seen without running code.
enum Own<'s> {
    Missing,
    Data {
        value: v8::Local<'s, v8::Value>,
        writable: bool,
    },
    Accessor,
}

/// `obj`'s own property `key`. `obj` must not be a Proxy (looking would run its
/// `getOwnPropertyDescriptor` trap).
fn own<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    obj: v8::Local<'s, v8::Object>,
    key: v8::Local<'s, v8::Name>,
) -> Result<Own<'s>> {
    let desc = obj
        .get_own_property_descriptor(scope, key)
        .ok_or_else(crate::empty)?;
    let Ok(desc) = v8::Local::<v8::Object>::try_from(desc) else {
        return Ok(Own::Missing);
    };
    if field(scope, desc, "get")?.is_some() || field(scope, desc, "set")?.is_some() {
        return Ok(Own::Accessor);
    }
    let value = match field(scope, desc, "value")? {
        Some(v) => v,
        None => v8::undefined(scope).into(),
    };
    let writable = field(scope, desc, "writable")?.is_some_and(|w| w.is_true());
    Ok(Own::Data { value, writable })
}

/// An own field of a fresh descriptor object (only own ones: `Object.prototype` may have
/// a getter of that name).
fn field<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    desc: v8::Local<'s, v8::Object>,
    name: &str,
) -> Result<Option<v8::Local<'s, v8::Value>>> {
    let key = v8::String::new(scope, name).ok_or_else(crate::empty)?;
    if !desc
        .has_own_property(scope, key.into())
        .ok_or_else(crate::empty)?
    {
        return Ok(None);
    }
    desc.get(scope, key.into())
        .map(Some)
        .ok_or_else(crate::empty)
}

/// `obj[key]` without running code: the own data property, or with `inherit` the first
/// one on the prototype chain; `undefined` when there is none.
pub(crate) fn get<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    obj: v8::Local<'s, v8::Object>,
    key: v8::Local<'s, v8::Name>,
    inherit: bool,
) -> Result<v8::Local<'s, v8::Value>> {
    let mut at = obj;
    loop {
        if at.is_proxy() {
            return Err(PropertyRefusal::Proxy.error());
        }
        match own(scope, at, key)? {
            Own::Data { value, .. } => return Ok(value),
            Own::Accessor => return Err(PropertyRefusal::Accessor.error()),
            Own::Missing if !inherit => break,
            Own::Missing => {}
        }
        // Not a Proxy: its prototype is read without a trap.
        match at
            .get_prototype(scope)
            .and_then(|p| v8::Local::<v8::Object>::try_from(p).ok())
        {
            Some(proto) => at = proto,
            None => break,
        }
    }
    Ok(v8::undefined(scope).into())
}

/// `obj[key] = value` without running code, like `CreateDataProperty`: an own writable
/// data property is written, a missing one defined; `false` for a read-only property or
/// a non-extensible object.
pub(crate) fn set<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    obj: v8::Local<'s, v8::Object>,
    key: v8::Local<'s, v8::Name>,
    value: v8::Local<'s, v8::Value>,
) -> Result<bool> {
    if obj.is_proxy() {
        return Err(PropertyRefusal::Proxy.error());
    }
    match own(scope, obj, key)? {
        Own::Accessor => Err(PropertyRefusal::Accessor.error()),
        Own::Data {
            writable: false, ..
        } => Ok(false),
        // Only the value changes: the property keeps its attributes.
        Own::Data { .. } => obj
            .define_property(scope, key, &v8::PropertyDescriptor::new_from_value(value))
            .ok_or_else(crate::empty),
        Own::Missing => obj
            .create_data_property(scope, key, value)
            .ok_or_else(crate::empty),
    }
}

/// `obj[key] = value` with accessors: the ordinary `[[Set]]` (setters and Proxy traps
/// run) and its answer, `false` where strict code would throw (a read-only property, a
/// getter without setter, a non-extensible object, a trap answering `false`), as
/// `Reflect.set` answers; V8's `Object::Set` answers `true` for those. Only if a
/// snapshot replaced `Reflect.set` with script code does this fall back to `Object::Set`.
pub(crate) fn set_with_accessors<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    obj: v8::Local<'s, v8::Object>,
    key: v8::Local<'s, v8::Name>,
    value: v8::Local<'s, v8::Value>,
) -> Result<bool> {
    let Some(set) = Core::of(scope).isolate()?.reflect_set(scope) else {
        return obj.set(scope, key.into(), value).ok_or_else(crate::empty);
    };
    let undefined = v8::undefined(scope).into();
    let done = set
        .call(scope, undefined, &[obj.into(), key.into(), value])
        .ok_or_else(crate::empty)?;
    Ok(done.is_true())
}

/// `Reflect.set` of a fresh context (no code ran there yet), unless a snapshot's script
/// replaced it with its own function (a builtin has no script).
pub(crate) fn fresh_reflect_set(
    scope: &mut v8::PinScope<'_, '_>,
) -> Option<v8::Global<v8::Function>> {
    let context = scope.get_current_context();
    let global = context.global(scope);
    let reflect = v8::String::new(scope, "Reflect")?;
    let reflect = global.get(scope, reflect.into())?;
    let reflect = v8::Local::<v8::Object>::try_from(reflect).ok()?;
    let set = v8::String::new(scope, "set")?;
    let set = reflect.get(scope, set.into())?;
    let set = v8::Local::<v8::Function>::try_from(set).ok()?;
    (set.script_id() == NO_SCRIPT).then(|| v8::Global::new(scope, set))
}

/// `Function::ScriptId` of a function that is not script code (V8's `kNoScriptId`).
const NO_SCRIPT: i32 = 0;

/// `delete obj[key]`; a Proxy is refused (its `deleteProperty` trap is code).
pub(crate) fn delete<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    obj: v8::Local<'s, v8::Object>,
    key: v8::Local<'s, v8::Name>,
) -> Result<bool> {
    if obj.is_proxy() {
        return Err(PropertyRefusal::ProxyDelete.error());
    }
    obj.delete(scope, key.into()).ok_or_else(crate::empty)
}
