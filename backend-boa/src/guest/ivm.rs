//! The seed's JS-side API inside the guest: the global `ivm` with `ivm.Reference` and
//! `ivm.ExternalCopy`.

use std::cell::Cell;

use boa_engine::{
    Context, Finalize, JsData, JsNativeError, JsObject, JsResult, JsValue, NativeFunction, Trace,
    js_string,
    object::{ConstructorBuilder, ObjectInitializer, builtins::JsPromise},
    property::Attribute,
};

use crate::abi::{HostRequest, HostResponse, Transfer, WireValue};

use super::convert::{self, CopyError};
use super::host;

/// What an ivm object stands for.
#[derive(Clone, Trace, Finalize)]
enum Target {
    /// A reference living in the host.
    Host(#[unsafe_ignore_trace] u32),
    /// A reference to a value of this guest.
    Local(JsValue),
}

/// The native data of ivm objects.
#[derive(Clone, Trace, Finalize, JsData)]
enum Ivm {
    /// `ivm.Reference`.
    Reference {
        target: Target,
        #[unsafe_ignore_trace]
        type_of: String,
        #[unsafe_ignore_trace]
        released: Cell<bool>,
    },
    /// What `reference.derefInto()` returns.
    Deref {
        target: Target,
        #[unsafe_ignore_trace]
        type_of: String,
    },
    /// `ivm.ExternalCopy` (host copy id).
    ExternalCopy {
        #[unsafe_ignore_trace]
        id: u32,
        #[unsafe_ignore_trace]
        released: Cell<bool>,
    },
    /// What `externalCopy.copyInto()` returns.
    CopyInto(#[unsafe_ignore_trace] u32),
}

/// The prototypes of this realm's ivm classes.
#[derive(Trace, Finalize, JsData)]
struct Protos {
    reference: JsObject,
    external_copy: JsObject,
}

fn protos<R>(ctx: &Context, f: impl FnOnce(&Protos) -> R) -> Option<R> {
    ctx.realm().host_defined().get::<Protos>().map(f)
}

fn make(data: Ivm, ctx: &mut Context, external: bool) -> JsObject {
    let proto = protos(ctx, |p| {
        if external {
            p.external_copy.clone()
        } else {
            p.reference.clone()
        }
    });
    let type_of = match &data {
        Ivm::Reference { type_of, .. } => Some(type_of.clone()),
        _ => None,
    };
    let obj = JsObject::from_proto_and_data(proto, data);
    if let Some(t) = type_of {
        let _ = obj.create_data_property(js_string!("typeof"), js_string!(t.as_str()), ctx);
    }
    obj
}

/// An `ivm.Reference` for host reference `id`.
pub fn host_reference(id: u32, type_of: &str, ctx: &mut Context) -> JsValue {
    let data = Ivm::Reference {
        target: Target::Host(id),
        type_of: type_of.to_string(),
        released: Cell::new(false),
    };
    make(data, ctx, false).into()
}

/// An `ivm.ExternalCopy` for host copy `id`.
pub fn external_copy(id: u32, ctx: &mut Context) -> JsValue {
    let data = Ivm::ExternalCopy {
        id,
        released: Cell::new(false),
    };
    make(data, ctx, true).into()
}

/// How an ivm object crosses to the host (`None`: not an ivm object).
pub fn outgoing(obj: &JsObject, ctx: &mut Context) -> Option<Result<WireValue, CopyError>> {
    let data = obj.downcast_ref::<Ivm>()?.clone();
    Some(match &data {
        Ivm::Reference { released, .. } if released.get() => Err(CopyError::NotTransferable(
            "the reference was released".into(),
        )),
        Ivm::Reference {
            target: Target::Host(id),
            type_of,
            ..
        }
        | Ivm::Deref {
            target: Target::Host(id),
            type_of,
        } => Ok(WireValue::HostReference {
            id: *id,
            type_of: type_of.clone(),
        }),
        Ivm::Reference {
            target: Target::Local(v),
            ..
        } => Ok(convert::new_handle(v, ctx)),
        Ivm::Deref {
            target: Target::Local(v),
            ..
        } => convert::copy_out(v, ctx),
        Ivm::ExternalCopy { id, .. } => Ok(WireValue::ExternalCopy { id: *id }),
        Ivm::CopyInto(id) => match host::request(&HostRequest::ReadExternalCopy { id: *id }) {
            Ok(HostResponse::Value(w)) => Ok(w),
            Ok(_) => Err(CopyError::NotTransferable("bad external copy".into())),
            Err((_, m)) => Err(CopyError::NotTransferable(m)),
        },
    })
}

fn type_error(message: &str) -> boa_engine::JsError {
    JsNativeError::typ()
        .with_message(message.to_string())
        .into()
}

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

/// `(arguments.copy, result transfer)` from apply's options (`{ arguments, result }`).
fn apply_options(options: &JsValue, ctx: &mut Context) -> JsResult<(bool, Transfer)> {
    let Some(o) = options.as_object() else {
        return transfer_flags(&JsValue::undefined(), ctx).map(|t| (false, t));
    };
    let args = o.get(js_string!("arguments"), ctx)?;
    let result = o.get(js_string!("result"), ctx)?;
    let args = transfer_flags(&args, ctx)?;
    Ok((
        args.copy || args.external_copy,
        transfer_flags(&result, ctx)?,
    ))
}

fn arg(args: &[JsValue], i: usize) -> JsValue {
    args.get(i).cloned().unwrap_or_default()
}

fn wire_arg(v: &JsValue, copy: bool, ctx: &mut Context) -> JsResult<WireValue> {
    convert::arg_out(v, copy, ctx).map_err(CopyError::into_js)
}

/// Array-like to a list.
fn list(v: &JsValue, ctx: &mut Context) -> JsResult<Vec<JsValue>> {
    let Some(o) = v.as_object() else {
        return Ok(Vec::new());
    };
    let len = o.get(js_string!("length"), ctx)?.to_length(ctx)?;
    (0..len).map(|i| o.get(i, ctx)).collect()
}

fn apply_mode(this: &JsValue, args: &[JsValue], ctx: &mut Context, mode: u8) -> JsResult<JsValue> {
    let target = this_target(this)?;
    let receiver = arg(args, 0);
    let values = list(&arg(args, 1), ctx)?;
    let (copy, mut result) = apply_options(&arg(args, 2), ctx)?;
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
            host::apply(*id, receiver, wires, mode, result, ctx)
        }
        Target::Local(f) => {
            let f = f
                .as_callable()
                .ok_or_else(|| type_error("Reference is not a function"))?;
            let out = f.call(&receiver, &values, ctx);
            match mode {
                0 => out,
                1 => Ok(JsPromise::from_result(out, ctx)?.into()),
                _ => Ok(JsValue::undefined()),
            }
        }
    }
}

fn apply_sync(this: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    apply_mode(this, args, ctx, 0)
}
/// `applySyncPromise`: a sync call whose promise result the host awaits first.
fn apply_sync_promise(this: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    apply_mode(this, args, ctx, 3)
}
fn apply_async(this: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    apply_mode(this, args, ctx, 1)
}
fn apply_ignored(this: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    apply_mode(this, args, ctx, 2)
}

fn key_wire(v: &JsValue, ctx: &mut Context) -> JsResult<WireValue> {
    convert::copy_out(v, ctx).map_err(CopyError::into_js)
}

fn get_sync(this: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let key = arg(args, 0);
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
                },
                ctx,
            )?;
            host::value_of(r, ctx)
        }
        Target::Local(v) => {
            let key = key.to_property_key(ctx)?;
            v.to_object(ctx)?.get(key, ctx)
        }
    }
}

fn set_sync(this: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let (key, value) = (arg(args, 0), arg(args, 1));
    match &this_target(this)? {
        Target::Host(target) => {
            let target = *target;
            let t = transfer_flags(&arg(args, 2), ctx)?;
            let key = key_wire(&key, ctx)?;
            let value = wire_arg(&value, t.copy || t.external_copy, ctx)?;
            let r = host::call(&HostRequest::Set { target, key, value }, ctx)?;
            host::value_of(r, ctx)
        }
        Target::Local(v) => {
            let key = key.to_property_key(ctx)?;
            Ok(v.to_object(ctx)?.set(key, value, false, ctx)?.into())
        }
    }
}

fn delete_sync(this: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let key = arg(args, 0);
    match &this_target(this)? {
        Target::Host(target) => {
            let target = *target;
            let key = key_wire(&key, ctx)?;
            let r = host::call(&HostRequest::Delete { target, key }, ctx)?;
            host::value_of(r, ctx)
        }
        Target::Local(v) => {
            let key = key.to_property_key(ctx)?;
            Ok(v.to_object(ctx)?.delete_property_or_throw(key, ctx)?.into())
        }
    }
}

fn copy_sync(this: &JsValue, _: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
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
fn promised(
    f: fn(&JsValue, &[JsValue], &mut Context) -> JsResult<JsValue>,
    this: &JsValue,
    args: &[JsValue],
    ctx: &mut Context,
) -> JsResult<JsValue> {
    let out = f(this, args, ctx);
    Ok(JsPromise::from_result(out, ctx)?.into())
}

fn deref(this: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    match &this_target(this)? {
        Target::Local(v) => Ok(v.clone()),
        Target::Host(_) => Err(type_error("Cannot dereference this from current isolate")),
    }
}

fn deref_into(this: &JsValue, _: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let target = this_target(this)?;
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

fn release(this: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
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

fn new_reference(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let value = arg(args, 0);
    let data = Ivm::Reference {
        type_of: convert::type_of(&value),
        target: Target::Local(value),
        released: Cell::new(false),
    };
    Ok(make(data, ctx, false).into())
}

fn this_copy_id(this: &JsValue) -> JsResult<u32> {
    match this
        .as_object()
        .and_then(|o| o.downcast_ref::<Ivm>().map(|d| d.clone()))
        .as_ref()
    {
        Some(Ivm::ExternalCopy { released, .. }) if released.get() => {
            Err(type_error("ExternalCopy has been released"))
        }
        Some(Ivm::ExternalCopy { id, .. }) => Ok(*id),
        _ => Err(type_error("not an ivm.ExternalCopy")),
    }
}

fn new_external_copy(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let value = convert::copy_out(&arg(args, 0), ctx).map_err(CopyError::into_js)?;
    match host::call(&HostRequest::NewExternalCopy { value }, ctx)? {
        HostResponse::Id(id) => Ok(external_copy(id, ctx)),
        _ => Err(type_error("host did not create the external copy")),
    }
}

fn external_copy_copy(this: &JsValue, _: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let id = this_copy_id(this)?;
    let r = host::call(&HostRequest::ReadExternalCopy { id }, ctx)?;
    host::value_of(r, ctx)
}

fn external_copy_copy_into(this: &JsValue, _: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let id = this_copy_id(this)?;
    Ok(make(Ivm::CopyInto(id), ctx, true).into())
}

type Method = fn(&JsValue, &[JsValue], &mut Context) -> JsResult<JsValue>;

/// Installs `ivm` in the current realm.
pub fn install(ctx: &mut Context) -> JsResult<()> {
    let methods: [(&str, Method, usize); 12] = [
        ("applySync", apply_sync, 3),
        ("applyIgnored", apply_ignored, 3),
        ("apply", apply_async, 3),
        ("getSync", get_sync, 2),
        ("setSync", set_sync, 3),
        ("deleteSync", delete_sync, 1),
        ("copySync", copy_sync, 0),
        ("deref", deref, 0),
        ("derefInto", deref_into, 0),
        ("release", release, 0),
        ("get", |t, a, c| promised(get_sync, t, a, c), 2),
        ("copy", |t, a, c| promised(copy_sync, t, a, c), 0),
    ];
    let more: [(&str, Method, usize); 5] = [
        ("applySyncPromise", apply_sync_promise, 3),
        ("set", |t, a, c| promised(set_sync, t, a, c), 3),
        (
            "setIgnored",
            |t, a, c| {
                set_sync(t, a, c)
                    .or(Ok(JsValue::undefined()))
                    .map(|_| JsValue::undefined())
            },
            3,
        ),
        ("delete", |t, a, c| promised(delete_sync, t, a, c), 1),
        (
            "deleteIgnored",
            |t, a, c| {
                delete_sync(t, a, c)
                    .or(Ok(JsValue::undefined()))
                    .map(|_| JsValue::undefined())
            },
            1,
        ),
    ];
    let mut builder = ConstructorBuilder::new(ctx, NativeFunction::from_fn_ptr(new_reference));
    builder.name("Reference").length(1);
    for (name, f, len) in methods.into_iter().chain(more) {
        builder.method(NativeFunction::from_fn_ptr(f), js_string!(name), len);
    }
    let reference = builder.build();

    let mut builder = ConstructorBuilder::new(ctx, NativeFunction::from_fn_ptr(new_external_copy));
    builder.name("ExternalCopy").length(1);
    let copy_methods: [(&str, Method, usize); 3] = [
        ("copy", external_copy_copy, 0),
        ("copyInto", external_copy_copy_into, 0),
        ("release", release, 0),
    ];
    for (name, f, len) in copy_methods {
        builder.method(NativeFunction::from_fn_ptr(f), js_string!(name), len);
    }
    let external = builder.build();

    let ivm = ObjectInitializer::new(ctx)
        .property(
            js_string!("Reference"),
            reference.constructor(),
            Attribute::all(),
        )
        .property(
            js_string!("ExternalCopy"),
            external.constructor(),
            Attribute::all(),
        )
        .build();
    ctx.realm().host_defined_mut().insert(Protos {
        reference: reference.prototype(),
        external_copy: external.prototype(),
    });
    ctx.register_global_property(
        js_string!("ivm"),
        ivm,
        Attribute::WRITABLE | Attribute::CONFIGURABLE,
    )?;
    Ok(())
}
