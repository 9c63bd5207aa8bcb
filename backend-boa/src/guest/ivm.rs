//! The seed's JS-side API inside the guest: the global `ivm` with `ivm.Reference`,
//! `ivm.ExternalCopy` and `ivm.lib`, frozen as isolated-vm's.

use std::cell::Cell;

use boa_engine::{
    Context, Finalize, JsData, JsNativeError, JsObject, JsResult, JsValue, NativeFunction, Trace,
    js_string,
    object::{ConstructorBuilder, IntegrityLevel, ObjectInitializer},
    property::Attribute,
};

use engine_api::abi::{HostRequest, HostResponse, WireValue};

use super::convert::{self, CopyError};
use super::{errors, host};

mod external_copy;
mod lib;
mod options;
mod reference;
mod transfer;

use external_copy::{external_copy_copy, external_copy_copy_into, new_external_copy};

use reference::{
    apply_async, apply_ignored, apply_sync, apply_sync_promise, copy_sync, delete_sync, deref,
    deref_into, get_sync, new_reference, promised, release, set_sync,
};

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
        /// `get` follows the prototype chain (`{ unsafeInherit: true }`).
        #[unsafe_ignore_trace]
        inherit: bool,
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
    CopyInto {
        #[unsafe_ignore_trace]
        id: u32,
        /// `transferIn`: the first crossing releases the host copy.
        #[unsafe_ignore_trace]
        transfer_in: bool,
        #[unsafe_ignore_trace]
        used: Cell<bool>,
    },
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
    // What `derefInto()` and `copyInto()` return is a frozen plain object, as on V8.
    let marker = matches!(data, Ivm::Deref { .. } | Ivm::CopyInto { .. });
    let proto = if marker {
        Some(ctx.intrinsics().constructors().object().prototype())
    } else {
        protos(ctx, |p| {
            if external {
                p.external_copy.clone()
            } else {
                p.reference.clone()
            }
        })
    };
    let type_of = match &data {
        Ivm::Reference { type_of, .. } => Some(type_of.clone()),
        _ => None,
    };
    let obj = JsObject::from_proto_and_data(proto, data);
    if let Some(t) = type_of {
        let _ = obj.create_data_property(js_string!("typeof"), js_string!(t.as_str()), ctx);
    }
    if marker {
        let _ = obj.set_integrity_level(IntegrityLevel::Frozen, ctx);
    }
    obj
}

/// An `ivm.Reference` for host reference `id`.
pub fn host_reference(id: u32, type_of: &str, ctx: &mut Context) -> JsValue {
    let data = Ivm::Reference {
        target: Target::Host(id),
        type_of: type_of.to_string(),
        released: Cell::new(false),
        inherit: false,
    };
    make(data, ctx, false).into()
}

/// An `ivm.Reference` to `value` of this guest (a reference the host passes back in).
pub fn own_reference(value: JsValue, type_of: &str, inherit: bool, ctx: &mut Context) -> JsValue {
    let data = Ivm::Reference {
        target: Target::Local(value),
        type_of: type_of.to_string(),
        released: Cell::new(false),
        inherit,
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
        } => Ok(WireValue::HostReference {
            id: *id,
            type_of: type_of.clone(),
        }),
        Ivm::Deref {
            target: Target::Host(id),
            ..
        } => Ok(WireValue::HostDeref { id: *id }),
        Ivm::Reference {
            target: Target::Local(v),
            inherit,
            ..
        } => {
            let wire = convert::new_handle(v, ctx);
            if let (true, WireValue::GuestHandle { handle, .. }) = (*inherit, &wire) {
                super::handles::mark_inheriting(*handle);
            }
            Ok(wire)
        }
        Ivm::Deref {
            target: Target::Local(v),
            ..
        } => convert::copy_out(v, ctx),
        Ivm::ExternalCopy { id, .. } => Ok(WireValue::ExternalCopy { id: *id }),
        Ivm::CopyInto { used, .. } if used.get() => Err(CopyError::NotTransferable(
            "the external copy was released (transferred in)".into(),
        )),
        Ivm::CopyInto {
            id, transfer_in, ..
        } => {
            let read = match host::request(&HostRequest::ReadExternalCopy { id: *id }) {
                Ok(HostResponse::Value(w)) => Ok(w),
                Ok(_) => Err(CopyError::NotTransferable("bad external copy".into())),
                Err(f) => Err(CopyError::NotTransferable(f.message)),
            };
            if *transfer_in {
                // Read or not, the transfer used the marker up (as isolated-vm's).
                if let Some(Ivm::CopyInto { used, .. }) = obj.downcast_ref::<Ivm>().as_deref() {
                    used.set(true);
                }
                let _ = host::request(&HostRequest::Release { target: *id });
            }
            read
        }
    })
}

/// What `value` stands for when passed to a function of this guest itself: a `derefInto`
/// or `copyInto` marker is replaced by its value (as a crossing to another isolate would),
/// anything else passes as it is.
fn in_place(value: &JsValue, ctx: &mut Context) -> JsResult<JsValue> {
    let Some(obj) = value.as_object() else {
        return Ok(value.clone());
    };
    let data = obj.downcast_ref::<Ivm>().map(|d| d.clone());
    match &data {
        Some(Ivm::Deref {
            target: Target::Local(v),
            ..
        }) => Ok(v.clone()),
        Some(Ivm::Deref {
            target: Target::Host(_),
            ..
        }) => Err(type_error("Cannot dereference this from current isolate")),
        Some(Ivm::CopyInto { .. }) => match outgoing(&obj, ctx) {
            Some(Ok(wire)) => host::wire_in(wire, ctx),
            Some(Err(e)) => Err(e.into_js()),
            None => Ok(value.clone()),
        },
        _ => Ok(value.clone()),
    }
}

fn type_error(message: &str) -> boa_engine::JsError {
    JsNativeError::typ()
        .with_message(message.to_string())
        .into()
}

/// Refuses a call of constructor `class` without `new`, with V8's message. Boa passes
/// `new.target` as `this` to a constructor, and `undefined` to a plain call.
fn require_new(new_target: &JsValue, class: &str) -> JsResult<()> {
    if new_target.is_undefined() {
        return Err(type_error(&format!(
            "Class constructor {class} cannot be invoked without 'new'"
        )));
    }
    Ok(())
}

pub(super) fn arg(args: &[JsValue], i: usize) -> JsValue {
    args.get(i).cloned().unwrap_or_default()
}

/// Array-like to a list.
pub(super) fn list(v: &JsValue, ctx: &mut Context) -> JsResult<Vec<JsValue>> {
    let Some(o) = v.as_object() else {
        return Ok(Vec::new());
    };
    let len = o.get(js_string!("length"), ctx)?.to_length(ctx)?;
    (0..len).map(|i| o.get(i, ctx)).collect()
}

type Method = fn(&JsValue, &[JsValue], &mut Context) -> JsResult<JsValue>;

/// Installs `ivm` in the current realm (and the `Name: message` line of its error stacks).
pub fn install(ctx: &mut Context) -> JsResult<()> {
    errors::install_stack_header(ctx)?;
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

    let lib = ObjectInitializer::new(ctx)
        .function(
            NativeFunction::from_fn_ptr(lib::hrtime),
            js_string!("hrtime"),
            1,
        )
        .build();
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
        .property(js_string!("lib"), lib.clone(), Attribute::all())
        .build();
    // As isolated-vm's: guest code cannot change the API (or what other code of its own
    // sees of it).
    for obj in [
        reference.constructor(),
        reference.prototype(),
        external.constructor(),
        external.prototype(),
        lib,
        ivm.clone(),
    ] {
        obj.set_integrity_level(IntegrityLevel::Frozen, ctx)?;
    }
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
