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
    /// The array buffer allocator refused a buffer, and none was allocated since: V8
    /// collects and retries it (see [`Limits::reserve_buffer`]).
    refused: AtomicBool,
    /// V8 began its last-resort collection for the refused buffer: the next refusal is
    /// final.
    collected_for_buffer: AtomicBool,
}

impl Limits {
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Limits {
            limit,
            external: AtomicUsize::new(0),
            exceeded: AtomicBool::new(false),
            handle: OnceLock::new(),
            refused: AtomicBool::new(false),
            collected_for_buffer: AtomicBool::new(false),
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

    /// [`Limits::reserve`] for the array buffer allocator. V8 retries a buffer the
    /// allocator refused after collecting garbage, last after collecting all it can (which
    /// gives back the bytes of dropped buffers): only a refusal after that one ends the
    /// isolate, so that garbage never does.
    pub(crate) fn reserve_buffer(&self, len: usize) -> bool {
        if self.try_reserve(len) {
            self.refused.store(false, Ordering::Release);
            self.collected_for_buffer.store(false, Ordering::Release);
            return true;
        }
        if self.collected_for_buffer.swap(false, Ordering::AcqRel) {
            self.refused.store(false, Ordering::Release);
            self.exceed();
        } else {
            self.refused.store(true, Ordering::Release);
        }
        false
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
    // V8 aborts the process unless the new limit exceeds what the heap already holds,
    // which can be far above the limit (V8 lets a first large young object through).
    let running = crate::lock_stack::running_heap_size(limits);
    let held = running.unwrap_or(0);
    // A buffer was refused and the heap is far from its limit: V8 calls this as it begins
    // its last-resort collection for that buffer, not for the heap (a heap at its limit,
    // or one whose collections are ineffective, holds more than half of it). The buffer's
    // retry decides after the collection; the heap limit stays as it is.
    if limits.refused.load(Ordering::Acquire) && running.is_some_and(|h| h < limits.limit / 2) {
        limits.collected_for_buffer.store(true, Ordering::Release);
        return current_heap_limit;
    }
    limits.exceed();
    current_heap_limit
        .saturating_mul(2)
        .max(held.saturating_add(limits.limit))
}
