//! `SharedArrayBuffer` memory handed to V8: the registry that recognises it when it comes
//! back, and its release when V8 lets go.

use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::Mutex;

use engine_api::{Result, SharedBuffer};

use crate::copy_budget::Budget;
use crate::copy_out::store_bytes;

/// Shared memory handed to V8, by data pointer: (live backing stores, the buffer).
static SHARED: Mutex<Option<HashMap<usize, (usize, SharedBuffer)>>> = Mutex::new(None);

fn shared_registry<R>(f: impl FnOnce(&mut HashMap<usize, (usize, SharedBuffer)>) -> R) -> R {
    let mut g = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    f(g.get_or_insert_with(HashMap::new))
}

pub(crate) fn shared_buffer_of(
    sab: v8::Local<v8::SharedArrayBuffer>,
    budget: &mut Budget,
) -> Result<SharedBuffer> {
    let store = sab.get_backing_store();
    let key = store.data().map_or(0, |p| p.as_ptr() as usize);
    if let Some(buf) = shared_registry(|r| r.get(&key).map(|(_, b)| b.clone())) {
        return Ok(buf);
    }
    // Guest-made shared memory is not ours to share: the host gets a copy.
    budget.charge(sab.byte_length())?;
    Ok(SharedBuffer::from_bytes(&store_bytes(
        &store,
        0,
        sab.byte_length(),
    )))
}

unsafe extern "C" fn release_shared(data: *mut c_void, _len: usize, deleter_data: *mut c_void) {
    // SAFETY: `deleter_data` is the `Box<SharedBuffer>` leaked in `shared_array_buffer`.
    let buf = unsafe { Box::from_raw(deleter_data as *mut SharedBuffer) };
    shared_registry(|r| {
        if let Some(e) = r.get_mut(&(data as usize)) {
            e.0 -= 1;
            if e.0 == 0 {
                r.remove(&(data as usize));
            }
        }
    });
    drop(buf);
}

pub(crate) fn shared_array_buffer<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    buf: &SharedBuffer,
) -> v8::Local<'s, v8::Value> {
    let ptr = buf.as_ptr() as *mut c_void;
    shared_registry(|r| r.entry(ptr as usize).or_insert((0, buf.clone())).0 += 1);
    let keep = Box::into_raw(Box::new(buf.clone())) as *mut c_void;
    // SAFETY: the memory is `buf`'s `[AtomicU8]` (interior mutability, so V8 may write it);
    // the boxed clone keeps it alive until V8 calls `release_shared`.
    let store = unsafe {
        v8::SharedArrayBuffer::new_backing_store_from_ptr(ptr, buf.len(), release_shared, keep)
    };
    v8::SharedArrayBuffer::with_backing_store(scope, &store.make_shared()).into()
}
