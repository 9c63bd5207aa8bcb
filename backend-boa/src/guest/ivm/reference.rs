//! `ivm.Reference` methods: each calls the matching `HostRequest` for a host reference,
//! or acts on the local value for `new ivm.Reference(value)`.

use std::cell::Cell;

use boa_engine::{Context, JsObject, JsResult, JsValue, js_string, object::builtins::JsPromise};

use engine_api::PropertyRefusal;
use engine_api::abi::{HostRequest, Transfer, WireValue, guest_options};

use super::{Ivm, Target, arg, list, make, options, require_new, type_error};
use crate::guest::convert::{self, CopyError};
use crate::guest::{host, properties};

/// The live target of a Reference `this`.
fn this_target(this: &JsValue) -> JsResult<Target> {
    let data = this
        .as_object()
        .and_then(|o| o.downcast_ref::<Ivm>().map(|d| d.clone()))
        .ok_or_else(|| type_error("not an ivm.Reference"))?;
    match &data {
        Ivm::Reference { released, .. } if released.get() => {
            Err(type_error("Reference has been released"))
        }
        Ivm::Reference { target, .. } => Ok(target.clone()),
        _ => Err(type_error("not an ivm.Reference")),
    }
}

/// Transfer flags of a `TransferOptions`-shaped object (`undefined` gives none).
fn transfer_flags(obj: &JsValue, ctx: &mut Context) -> JsResult<Transfer> {
    let mut t = Transfer {
        fallback_reference: true,
        ..Transfer::default()
    };
    if let Some(o) = obj.as_object() {
        t.copy = o.get(js_string!("copy"), ctx)?.to_boolean();
        t.external_copy = o.get(js_string!("externalCopy"), ctx)?.to_boolean();
        t.reference = o.get(js_string!("reference"), ctx)?.to_boolean();
        t.promise = o.get(js_string!("promise"), ctx)?.to_boolean();
    }
    Ok(t)
}

/// `(arguments.copy, result transfer, timeout in ms)` from apply's options
/// (`{ arguments, result, timeout }`).
fn apply_options(options: &JsValue, ctx: &mut Context) -> JsResult<(bool, Transfer, Option<u64>)> {
    let Some(o) = options.as_object() else {
        return transfer_flags(&JsValue::undefined(), ctx).map(|t| (false, t, None));
    };
    let args = o.get(js_string!("arguments"), ctx)?;
    let result = o.get(js_string!("result"), ctx)?;
    let timeout = o.get(js_string!("timeout"), ctx)?;
    let args = transfer_flags(&args, ctx)?;
    // As isolated-vm: a positive number of milliseconds; anything else means none.
    let timeout = match timeout.as_number() {
        Some(ms) if ms >= 1.0 => Some(ms.min(u64::MAX as f64) as u64),
        _ => None,
    };
    Ok((
        args.copy || args.external_copy,
        transfer_flags(&result, ctx)?,
        timeout,
    ))
}

fn wire_arg(v: &JsValue, copy: bool, ctx: &mut Context) -> JsResult<WireValue> {
    convert::arg_out(v, copy, ctx).map_err(CopyError::into_js)
}

fn apply_mode(this: &JsValue, args: &[JsValue], ctx: &mut Context, mode: u8) -> JsResult<JsValue> {
    options::check(&arg(args, 2), &guest_options::APPLY, ctx)?;
    let target = this_target(this)?;
    let receiver = arg(args, 0);
    let values = list(&arg(args, 1), ctx)?;
    let (copy, mut result, timeout) = apply_options(&arg(args, 2), ctx)?;
    let mode = if mode == 3 {
        result.promise = true;
        0
    } else {
        mode
    };
    match &target {
        Target::Host(id) => {
            let receiver = wire_arg(&receiver, copy, ctx)?;
            let wires = values
                .iter()
                .map(|v| wire_arg(v, copy, ctx))
                .collect::<JsResult<Vec<_>>>()?;
            host::apply(*id, receiver, wires, mode, result, timeout, ctx)
        }
        Target::Local(f) => {
            let f = f
                .as_callable()
                .ok_or_else(|| type_error("Reference is not a function"))?;
            let receiver = super::in_place(&receiver, ctx)?;
            let values = values
                .iter()
                .map(|v| super::in_place(v, ctx))
                .collect::<JsResult<Vec<_>>>()?;
            let out = f.call(&receiver, &values, ctx);
            match mode {
                0 => out,
                1 => Ok(JsPromise::from_result(out, ctx)?.into()),
                _ => Ok(JsValue::undefined()),
            }
        }
    }
}

pub(super) fn apply_sync(this: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    apply_mode(this, args, ctx, 0)
}
/// `applySyncPromise`: a sync call whose promise result the host awaits first.
pub(super) fn apply_sync_promise(
    this: &JsValue,
    args: &[JsValue],
    ctx: &mut Context,
) -> JsResult<JsValue> {
    apply_mode(this, args, ctx, 3)
}
pub(super) fn apply_async(
    this: &JsValue,
    args: &[JsValue],
    ctx: &mut Context,
) -> JsResult<JsValue> {
    apply_mode(this, args, ctx, 1)
}
pub(super) fn apply_ignored(
    this: &JsValue,
    args: &[JsValue],
    ctx: &mut Context,
) -> JsResult<JsValue> {
    apply_mode(this, args, ctx, 2)
}

/// A property key for a host reference: copied; an object is refused before it is copied
/// (converting it to a key would run its code), and a symbol cannot leave the isolate.
fn key_wire(v: &JsValue, ctx: &mut Context) -> JsResult<WireValue> {
    if v.is_object() {
        return Err(properties::refused(PropertyRefusal::ObjectKey));
    }
    if v.is_symbol() {
        return Err(type_error("a symbol key cannot cross into another isolate"));
    }
    convert::copy_out(v, ctx).map_err(CopyError::into_js)
}

/// `accessors` of `ref.get` / `ref.set` options.
fn accessors_flag(options: &JsValue, ctx: &mut Context) -> JsResult<bool> {
    match options.as_object() {
        Some(o) => Ok(o.get(js_string!("accessors"), ctx)?.to_boolean()),
        None => Ok(false),
    }
}

/// The object a local reference holds (V8 refuses a primitive the same way).
fn local_object(v: &JsValue) -> JsResult<JsObject> {
    v.as_object()
        .ok_or_else(|| type_error("the referenced value is not an object"))
}

/// Whether `this` reference follows the prototype chain.
fn inherits(this: &JsValue) -> bool {
    this.as_object().is_some_and(|o| {
        matches!(
            o.downcast_ref::<Ivm>().as_deref(),
            Some(Ivm::Reference { inherit: true, .. })
        )
    })
}

pub(super) fn get_sync(this: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    options::check(&arg(args, 1), &guest_options::PROPERTY, ctx)?;
    let key = arg(args, 0);
    let accessors = accessors_flag(&arg(args, 1), ctx)?;
    match &this_target(this)? {
        Target::Host(target) => {
            let target = *target;
            let result = transfer_flags(&arg(args, 1), ctx)?;
            let key = key_wire(&key, ctx)?;
            let r = host::call(
                &HostRequest::Get {
                    target,
                    key,
                    result,
                    accessors,
                },
                ctx,
            )?;
            host::value_of(r, ctx)
        }
        Target::Local(v) => {
            properties::get(&local_object(v)?, &key, accessors, inherits(this), ctx)
        }
    }
}

pub(super) fn set_sync(this: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    options::check(&arg(args, 2), &guest_options::PROPERTY, ctx)?;
    let (key, value) = (arg(args, 0), arg(args, 1));
    let accessors = accessors_flag(&arg(args, 2), ctx)?;
    match &this_target(this)? {
        Target::Host(target) => {
            let target = *target;
            let t = transfer_flags(&arg(args, 2), ctx)?;
            let key = key_wire(&key, ctx)?;
            let value = wire_arg(&value, t.copy || t.external_copy, ctx)?;
            let r = host::call(
                &HostRequest::Set {
                    target,
                    key,
                    value,
                    accessors,
                },
                ctx,
            )?;
            host::value_of(r, ctx)
        }
        Target::Local(v) => {
            Ok(properties::set(&local_object(v)?, &key, value, accessors, ctx)?.into())
        }
    }
}

pub(super) fn delete_sync(
    this: &JsValue,
    args: &[JsValue],
    ctx: &mut Context,
) -> JsResult<JsValue> {
    let key = arg(args, 0);
    match &this_target(this)? {
        Target::Host(target) => {
            let target = *target;
            let key = key_wire(&key, ctx)?;
            let r = host::call(&HostRequest::Delete { target, key }, ctx)?;
            host::value_of(r, ctx)
        }
        Target::Local(v) => Ok(properties::delete(&local_object(v)?, &key, ctx)?.into()),
    }
}

pub(super) fn copy_sync(this: &JsValue, _: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    match &this_target(this)? {
        Target::Host(target) => {
            let r = host::call(&HostRequest::Copy { target: *target }, ctx)?;
            host::value_of(r, ctx)
        }
        Target::Local(v) => {
            let w = convert::copy_out(v, ctx).map_err(CopyError::into_js)?;
            host::wire_in(w, ctx)
        }
    }
}

/// Wraps a sync method's outcome in a promise.
pub(super) fn promised(
    f: fn(&JsValue, &[JsValue], &mut Context) -> JsResult<JsValue>,
    this: &JsValue,
    args: &[JsValue],
    ctx: &mut Context,
) -> JsResult<JsValue> {
    let out = f(this, args, ctx);
    Ok(JsPromise::from_result(out, ctx)?.into())
}

pub(super) fn deref(this: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let opts = arg(args, 0);
    options::check(&opts, &guest_options::RELEASE, ctx)?;
    let v = match &this_target(this)? {
        Target::Local(v) => v.clone(),
        Target::Host(_) => {
            return Err(type_error("Cannot dereference this from current isolate"));
        }
    };
    if options::flag(&opts, "release", ctx)? {
        release(this, &[], ctx)?;
    }
    Ok(v)
}

pub(super) fn deref_into(this: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let opts = arg(args, 0);
    options::check(&opts, &guest_options::RELEASE, ctx)?;
    let target = this_target(this)?;
    if options::flag(&opts, "release", ctx)? {
        // Released for the guest; the marker keeps what it stands for (a host reference is
        // not released to the host: the marker still names it).
        if let Some(Ivm::Reference { released, .. }) = this
            .as_object()
            .as_ref()
            .and_then(|o| o.downcast_ref::<Ivm>())
            .as_deref()
        {
            released.set(true);
        }
    }
    let type_of = match &target {
        Target::Local(v) => convert::type_of(v),
        Target::Host(_) => this
            .as_object()
            .and_then(|o| match &*o.downcast_ref::<Ivm>()? {
                Ivm::Reference { type_of, .. } => Some(type_of.clone()),
                _ => None,
            })
            .unwrap_or_default(),
    };
    Ok(make(Ivm::Deref { target, type_of }, ctx, false).into())
}

pub(super) fn release(this: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    let Some(obj) = this.as_object() else {
        return Ok(JsValue::undefined());
    };
    // Mark released while borrowed; tell the host after the borrow ends.
    let host_id = match obj.downcast_ref::<Ivm>().as_deref() {
        Some(Ivm::Reference {
            target, released, ..
        }) => match (released.replace(true), target) {
            (false, Target::Host(id)) => Some(*id),
            _ => None,
        },
        Some(Ivm::ExternalCopy { id, released }) => (!released.replace(true)).then_some(*id),
        _ => None,
    };
    if let Some(target) = host_id {
        let _ = host::request(&HostRequest::Release { target });
    }
    Ok(JsValue::undefined())
}

pub(super) fn new_reference(
    new_target: &JsValue,
    args: &[JsValue],
    ctx: &mut Context,
) -> JsResult<JsValue> {
    require_new(new_target, "Reference")?;
    options::check(&arg(args, 1), &guest_options::NEW_REFERENCE, ctx)?;
    let value = arg(args, 0);
    // `new ivm.Reference(value, { unsafeInherit: true })`: `get` follows the prototype chain.
    let inherit = match arg(args, 1).as_object() {
        Some(o) => o.get(js_string!("unsafeInherit"), ctx)?.to_boolean(),
        None => false,
    };
    let data = Ivm::Reference {
        type_of: convert::type_of(&value),
        target: Target::Local(value),
        released: Cell::new(false),
        inherit,
    };
    Ok(make(data, ctx, false).into())
}
