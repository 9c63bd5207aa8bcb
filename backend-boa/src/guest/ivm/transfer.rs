//! `transferOut` and `transferList` of `new ivm.ExternalCopy`: which buffers to detach,
//! checked before the copy is made (a refused copy detaches nothing), detached after.

use boa_engine::{
    Context, JsObject, JsResult, JsValue, js_string,
    object::builtins::{JsArrayBuffer, JsDataView, JsTypedArray},
};

use engine_api::abi::guest_options::{MAX_TRANSFER_LIST, TransferRefusal};

use super::type_error;

fn refuse(r: TransferRefusal) -> boa_engine::JsError {
    type_error(&r.message())
}

/// A non-shared, attached `ArrayBuffer`, if `obj` is one.
fn attached(obj: &JsObject) -> Option<JsArrayBuffer> {
    let b = JsArrayBuffer::from_object(obj.clone()).ok()?;
    let attached = b.data().is_some();
    attached.then_some(b)
}

/// The buffers `transferList` names, each checked (`undefined`: none).
pub(super) fn listed(list: &JsValue, ctx: &mut Context) -> JsResult<Vec<JsArrayBuffer>> {
    if list.is_undefined() {
        return Ok(Vec::new());
    }
    let Some(array) = list.as_object().filter(|o| o.is_array()) else {
        return Err(type_error("option \"transferList\" must be an array"));
    };
    let len = array.get(js_string!("length"), ctx)?.to_length(ctx)?;
    if len > MAX_TRANSFER_LIST as u64 {
        return Err(refuse(TransferRefusal::TooLong));
    }
    let mut out: Vec<JsArrayBuffer> = Vec::with_capacity(len as usize);
    let mut seen: Vec<JsObject> = Vec::with_capacity(len as usize);
    for i in 0..len as usize {
        let entry = array.get(i, ctx)?;
        let Some(obj) = entry.as_object() else {
            return Err(refuse(TransferRefusal::NotArrayBuffer(i)));
        };
        if JsArrayBuffer::from_object(obj.clone()).is_err() {
            return Err(refuse(TransferRefusal::NotArrayBuffer(i)));
        }
        let Some(buffer) = attached(&obj) else {
            return Err(refuse(TransferRefusal::Detached(i)));
        };
        if seen.iter().any(|b| JsObject::equals(b, &obj)) {
            return Err(refuse(TransferRefusal::Duplicate(i)));
        }
        seen.push(obj);
        out.push(buffer);
    }
    Ok(out)
}

/// The buffer `transferOut` detaches: `value` itself or the buffer it views.
pub(super) fn out_buffer(value: &JsValue, ctx: &mut Context) -> JsResult<JsArrayBuffer> {
    let Some(obj) = value.as_object() else {
        return Err(refuse(TransferRefusal::NotABuffer));
    };
    let buffer = if let Ok(ta) = JsTypedArray::from_object(obj.clone()) {
        ta.buffer(ctx)?
    } else if let Ok(dv) = JsDataView::from_object(obj.clone()) {
        dv.buffer(ctx)?
    } else if JsArrayBuffer::from_object(obj.clone()).is_ok()
        || boa_engine::object::builtins::JsSharedArrayBuffer::from_object(obj.clone()).is_ok()
    {
        value.clone()
    } else {
        return Err(refuse(TransferRefusal::NotABuffer));
    };
    buffer
        .as_object()
        .and_then(|b| attached(&b))
        .ok_or_else(|| refuse(TransferRefusal::NotDetachable))
}

/// Detaches every buffer once the copy holds their bytes (a buffer named twice, by
/// `transferOut` and in `transferList`, once).
pub(super) fn detach(buffers: &[JsArrayBuffer]) {
    for b in buffers {
        // Buffers made by scripts have no detach key; one detached meanwhile (by a getter
        // of the list) stays detached.
        let _ = b.detach(&JsValue::undefined());
    }
}
