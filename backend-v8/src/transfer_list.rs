//! `transferOut` and `transferList` of `new ivm.ExternalCopy`: which array buffers to
//! detach, checked before the copy is made (a refused copy detaches nothing), detached
//! once the copy holds their bytes.

use engine_api::Error;
use engine_api::abi::guest_options::{MAX_TRANSFER_LIST, TransferRefusal};

use crate::Result;

fn refuse(r: TransferRefusal) -> Error {
    Error::js("TypeError", r.message())
}

/// `options[name]`; an exception (a throwing getter) is pending on `Err(empty)`.
fn option<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    options: v8::Local<'s, v8::Value>,
    name: &str,
) -> Result<v8::Local<'s, v8::Value>> {
    match v8::Local::<v8::Object>::try_from(options) {
        Ok(obj) => crate::ivm_options::get(scope, obj, name),
        Err(_) => Ok(v8::undefined(scope).into()),
    }
}

fn attached(b: v8::Local<v8::ArrayBuffer>) -> bool {
    b.is_detachable() && !b.was_detached()
}

/// The buffers `options` asks to detach once `value` is copied, each checked.
pub(crate) fn to_detach<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    value: v8::Local<'s, v8::Value>,
    options: v8::Local<'s, v8::Value>,
) -> Result<Vec<v8::Local<'s, v8::ArrayBuffer>>> {
    let mut out: Vec<v8::Local<'s, v8::ArrayBuffer>> = Vec::new();
    let list = option(scope, options, "transferList")?;
    if !list.is_undefined() {
        let list = v8::Local::<v8::Array>::try_from(list)
            .map_err(|_| Error::js("TypeError", "option \"transferList\" must be an array"))?;
        let len = list.length() as usize;
        if len > MAX_TRANSFER_LIST {
            return Err(refuse(TransferRefusal::TooLong));
        }
        for i in 0..len {
            let entry = list.get_index(scope, i as u32).ok_or_else(crate::empty)?;
            let buffer = v8::Local::<v8::ArrayBuffer>::try_from(entry)
                .map_err(|_| refuse(TransferRefusal::NotArrayBuffer(i)))?;
            if !attached(buffer) {
                return Err(refuse(TransferRefusal::Detached(i)));
            }
            if out.iter().any(|b| b.strict_equals(entry)) {
                return Err(refuse(TransferRefusal::Duplicate(i)));
            }
            out.push(buffer);
        }
    }
    if option(scope, options, "transferOut")?.boolean_value(scope) {
        let buffer = if let Ok(b) = v8::Local::<v8::ArrayBuffer>::try_from(value) {
            Some(b)
        } else if let Ok(view) = v8::Local::<v8::ArrayBufferView>::try_from(value) {
            // A view over a SharedArrayBuffer has a buffer V8 will not detach.
            view.buffer(scope)
        } else if value.is_shared_array_buffer() {
            return Err(refuse(TransferRefusal::NotDetachable));
        } else {
            return Err(refuse(TransferRefusal::NotABuffer));
        };
        match buffer {
            Some(b) if attached(b) => out.push(b),
            _ => return Err(refuse(TransferRefusal::NotDetachable)),
        }
    }
    Ok(out)
}

/// Detaches each buffer (one listed twice, by `transferOut` and the list, once).
pub(crate) fn detach(buffers: &[v8::Local<v8::ArrayBuffer>]) -> Result<()> {
    for b in buffers {
        if !b.was_detached() && b.detach(None).is_none() {
            return Err(crate::empty());
        }
    }
    Ok(())
}
