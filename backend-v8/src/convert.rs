//! `Value` <-> V8 values: transfers per `TransferOptions` (copy, external copy, reference)
//! and the helpers both directions share. The structured clone itself is in `copy_out.rs`
//! and `copy_in.rs`; JS errors are in `errors.rs`.

use engine_api::{Error, ExternalCopy, Result, TransferOptions, Value};

use crate::V8Reference;
use crate::isolate_core::Core;
use crate::ivm::{self, Tag};

/// Deepest nesting copied in either direction (keeps the host stack bounded).
pub(crate) const MAX_DEPTH: usize = engine_api::MAX_TRANSFER_DEPTH;

/// Stack kept free below a copy (V8 and the host still need some).
pub(crate) const STACK_MARGIN: usize = 256 * 1024;

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
pub(crate) fn handle_value<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    v: v8::Local<'s, v8::Value>,
) -> Result<Option<Value>> {
    let Some((tag, id)) = ivm::tag_of(scope, v) else {
        return Ok(None);
    };
    let core = Core::of(scope);
    let mut t = core.tables();
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
        Tag::CopyIntoOnce => {
            let c = t
                .copies
                .remove(&id)
                .ok_or(Error::Released("external copy"))?;
            if let Some(size) = t.guest_copies.remove(&id) {
                core.limits.unreserve(size);
            }
            Value::CopyInto(c)
        }
    }))
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

pub(crate) fn string<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    s: &str,
) -> Result<v8::Local<'s, v8::String>> {
    v8::String::new(scope, s).ok_or_else(|| Error::NotTransferable("a string too long".into()))
}

pub(crate) use crate::copy_in::from_value;
pub(crate) use crate::copy_out::copy;
pub(crate) use crate::errors::{error_from, error_object, throw};
