//! Memory limits: the heap, array buffers and what else the guest holds outside the heap.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// The memory budget of one isolate, shared with V8's callbacks and its array buffer
/// allocator.
pub(crate) struct Limits {
    /// The limit in bytes (heap and array buffers each).
    pub limit: usize,
    /// Bytes held by array buffers allocated through this isolate's allocator.
    pub external: AtomicUsize,
    /// Set once the isolate went over its limit; it is disposed after the current call.
    pub exceeded: AtomicBool,
    /// For terminating the running code from V8's callbacks.
    pub handle: OnceLock<v8::IsolateHandle>,
}

impl Limits {
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Limits {
            limit,
            external: AtomicUsize::new(0),
            exceeded: AtomicBool::new(false),
            handle: OnceLock::new(),
        })
    }

    pub fn is_exceeded(&self) -> bool {
        self.exceeded.load(Ordering::Acquire)
    }

    /// Marks the isolate as over its limit and stops the running code.
    pub(crate) fn exceed(&self) {
        self.exceeded.store(true, Ordering::Release);
        if let Some(h) = self.handle.get() {
            h.terminate_execution();
        }
    }

    /// Counts `len` bytes the guest holds outside V8's heap (array buffers, external
    /// copies it made), or marks the isolate over its limit.
    pub(crate) fn reserve(&self, len: usize) -> bool {
        self.try_reserve(len) || {
            self.exceed();
            false
        }
    }

    /// [`Limits::reserve`] that leaves the isolate alone when `len` does not fit.
    pub(crate) fn try_reserve(&self, len: usize) -> bool {
        let mut cur = self.external.load(Ordering::Relaxed);
        loop {
            let Some(next) = cur.checked_add(len).filter(|n| *n <= self.limit) else {
                return false;
            };
            match self.external.compare_exchange_weak(
                cur,
                next,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => cur = actual,
            }
        }
    }
}

impl Limits {
    /// Gives back what [`Limits::reserve`] counted.
    pub(crate) fn unreserve(&self, len: usize) {
        let _ = self
            .external
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(len))
            });
    }
}

/// V8 calls this when the heap nears its limit: stop the guest, mark the isolate for
/// disposal and grant headroom so V8 can unwind instead of aborting the process.
pub(crate) unsafe extern "C" fn near_heap_limit(
    data: *mut c_void,
    current_heap_limit: usize,
    _initial_heap_limit: usize,
) -> usize {
    // SAFETY: `data` is `Arc::as_ptr` of the isolate's `Limits`, which the isolate's
    // allocator keeps alive for as long as the isolate exists.
    let limits = unsafe { &*(data as *const Limits) };
    limits.exceed();
    // V8 aborts the process unless the new limit exceeds what the heap already holds,
    // which can be far above the limit (V8 lets a first large young object through).
    let held = crate::lock_stack::running_heap_size(limits).unwrap_or(0);
    current_heap_limit
        .saturating_mul(2)
        .max(held.saturating_add(limits.limit))
}
