//! Property access through a reference that runs no guest code unless asked (isolated-vm's
//! default, see `engine_api::PropertyOptions`): data properties only, accessors and
//! Proxies refused, and a key never converted through guest code. Serves the host's
//! `Request::Get` / `Set` / `Delete` and the guest's own `ivm.Reference` methods.

use boa_engine::{
    Context, JsError, JsNativeError, JsObject, JsResult, JsValue,
    builtins::{object::OrdinaryObject, proxy::Proxy},
    js_string,
    property::{PropertyDescriptor, PropertyKey},
};

use engine_api::PropertyRefusal;

/// The `TypeError` every backend throws for `refusal`.
pub fn refused(refusal: PropertyRefusal) -> JsError {
    JsNativeError::typ().with_message(refusal.message()).into()
}

/// `key` as a property key. An object is refused: its `toString` is guest code.
fn property_key(key: &JsValue, ctx: &mut Context) -> JsResult<PropertyKey> {
    if key.is_object() {
        return Err(refused(PropertyRefusal::ObjectKey));
    }
    // A primitive's ToPropertyKey runs no code.
    key.to_property_key(ctx)
}

/// An object's own property, as seen without running code.
enum Own {
    Missing,
    Data { value: JsValue, writable: bool },
    Accessor,
}

/// `obj`'s own property `key`. `obj` must not be a Proxy (looking would run its
/// `getOwnPropertyDescriptor` trap).
fn own(obj: &JsObject, key: &PropertyKey, ctx: &mut Context) -> JsResult<Own> {
    let args = [obj.clone().into(), JsValue::from(key)];
    let desc = OrdinaryObject::get_own_property_descriptor(&JsValue::undefined(), &args, ctx)?;
    let Some(desc) = desc.as_object() else {
        return Ok(Own::Missing);
    };
    // A fresh descriptor object: only its own fields are read (`Object.prototype` may
    // have a getter of the same name).
    if desc.has_own_property(js_string!("get"), ctx)?
        || desc.has_own_property(js_string!("set"), ctx)?
    {
        return Ok(Own::Accessor);
    }
    let value = desc.get(js_string!("value"), ctx)?;
    let writable = desc.get(js_string!("writable"), ctx)?.to_boolean();
    Ok(Own::Data { value, writable })
}

/// `obj[key]`: with `accessors` the ordinary `[[Get]]`; without, the own data property
/// (with `inherit`, the first one on the prototype chain) or `undefined`.
pub fn get(
    obj: &JsObject,
    key: &JsValue,
    accessors: bool,
    inherit: bool,
    ctx: &mut Context,
) -> JsResult<JsValue> {
    let key = property_key(key, ctx)?;
    if accessors {
        return obj.get(key, ctx);
    }
    let mut at = obj.clone();
    loop {
        if at.is::<Proxy>() {
            return Err(refused(PropertyRefusal::Proxy));
        }
        match own(&at, &key, ctx)? {
            Own::Data { value, .. } => return Ok(value),
            Own::Accessor => return Err(refused(PropertyRefusal::Accessor)),
            Own::Missing if !inherit => break,
            Own::Missing => {}
        }
        // Not a Proxy: its prototype is the slot, read without a trap.
        match at.prototype() {
            Some(proto) => at = proto,
            None => break,
        }
    }
    Ok(JsValue::undefined())
}

/// `obj[key] = value`: with `accessors` the ordinary `[[Set]]`; without, like
/// `CreateDataProperty` (an own writable data property is written, a missing one
/// defined; `false` for a read-only property or a non-extensible object).
pub fn set(
    obj: &JsObject,
    key: &JsValue,
    value: JsValue,
    accessors: bool,
    ctx: &mut Context,
) -> JsResult<bool> {
    let key = property_key(key, ctx)?;
    if accessors {
        return obj.set(key, value, false, ctx);
    }
    if obj.is::<Proxy>() {
        return Err(refused(PropertyRefusal::Proxy));
    }
    match own(obj, &key, ctx)? {
        Own::Accessor => Err(refused(PropertyRefusal::Accessor)),
        Own::Data {
            writable: false, ..
        } => Ok(false),
        // Only the value changes: the property keeps its attributes. Refused (the
        // TypeError of `..._or_throw`), it is `false`, as on V8.
        Own::Data { .. } => {
            let desc = PropertyDescriptor::builder().value(value);
            not_type_error(obj.define_property_or_throw(key, desc, ctx))
        }
        Own::Missing => obj.create_data_property(key, value, ctx),
    }
}

/// `delete obj[key]`; a Proxy is refused (its `deleteProperty` trap is code).
pub fn delete(obj: &JsObject, key: &JsValue, ctx: &mut Context) -> JsResult<bool> {
    let key = property_key(key, ctx)?;
    if obj.is::<Proxy>() {
        return Err(refused(PropertyRefusal::ProxyDelete));
    }
    // Without a Proxy, `[[Delete]]` does not throw: the TypeError is its `false`.
    not_type_error(obj.delete_property_or_throw(key, ctx))
}

/// A `TypeError` of an `..._or_throw` operation as the `false` it stands for.
fn not_type_error(r: JsResult<bool>) -> JsResult<bool> {
    match r {
        Err(e) if e.as_native().is_some_and(JsNativeError::is_type) => Ok(false),
        other => other,
    }
}
