//! The array buffer allocator of an isolate: C allocations counted against its
//! [`Limits`].

use std::ffi::c_void;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::limits::Limits;

unsafe extern "C" fn allocate(limits: &Limits, len: usize) -> *mut c_void {
    if !limits.reserve_buffer(len) {
        return std::ptr::null_mut();
    }
    // SAFETY: plain C allocation; a zero length still gets a unique pointer.
    let p = unsafe { libc::calloc(len.max(1), 1) };
    if p.is_null() {
        limits.external.fetch_sub(len, Ordering::AcqRel);
    }
    p
}

unsafe extern "C" fn allocate_uninitialized(limits: &Limits, len: usize) -> *mut c_void {
    if !limits.reserve_buffer(len) {
        return std::ptr::null_mut();
    }
    // SAFETY: plain C allocation; a zero length still gets a unique pointer.
    let p = unsafe { libc::malloc(len.max(1)) };
    if p.is_null() {
        limits.external.fetch_sub(len, Ordering::AcqRel);
    }
    p
}

unsafe extern "C" fn free(limits: &Limits, data: *mut c_void, len: usize) {
    limits.external.fetch_sub(len, Ordering::AcqRel);
    // SAFETY: `data` came from `calloc`/`malloc` above (V8 frees what it allocated here).
    unsafe { libc::free(data) };
}

unsafe extern "C" fn drop_limits(limits: *const Limits) {
    // SAFETY: the allocator owns one `Arc` count, handed over by `Arc::into_raw` below.
    drop(unsafe { Arc::from_raw(limits) });
}

static VTABLE: v8::RustAllocatorVtable<Limits> = v8::RustAllocatorVtable {
    allocate,
    allocate_uninitialized,
    free,
    drop: drop_limits,
};

/// An array buffer allocator that counts against `limits`.
pub(crate) fn allocator(limits: &Arc<Limits>) -> v8::UniqueRef<v8::Allocator> {
    let raw = Arc::into_raw(limits.clone());
    // SAFETY: `raw` is a live `Limits` matching `VTABLE`; `drop_limits` releases it.
    unsafe { v8::new_rust_allocator(raw, &VTABLE) }
}
