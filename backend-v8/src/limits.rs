//! Memory limits: the heap, array buffers and what else the guest holds outside the heap,
//! sources it compiles, and the stack left for the backend's own recursion.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use engine_api::{Error, Result};

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
    let held = crate::isolate::running_heap_size(limits).unwrap_or(0);
    current_heap_limit
        .saturating_mul(2)
        .max(held.saturating_add(limits.limit))
}

unsafe extern "C" fn allocate(limits: &Limits, len: usize) -> *mut c_void {
    if !limits.reserve(len) {
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
    if !limits.reserve(len) {
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

/// Sources longer than the memory limit divided by this are refused (as isolated-vm
/// does): V8 parses a source without interrupt checks and outside the heap limit.
const SOURCE_FRACTION: usize = 8;

/// The longest source an isolate with `limits` compiles: bytes of a host source, UTF-16
/// units of a guest's `eval`.
fn max_source(limits: &Limits) -> usize {
    limits.limit / SOURCE_FRACTION
}

/// `code` as a V8 string for compiling, unless it is longer than the isolate compiles.
pub(crate) fn source<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    code: &str,
) -> Result<v8::Local<'s, v8::String>> {
    let max = max_source(&crate::isolate::Core::of(scope).limits);
    if code.len() > max {
        return Err(Error::InvalidArgument(format!(
            "a source of {} bytes is longer than this isolate compiles ({max} bytes: an eighth of its memory limit)",
            code.len()
        )));
    }
    v8::String::new(scope, code).ok_or_else(|| Error::InvalidArgument("source too long".into()))
}

/// V8 asks this before `eval` or `new Function` compiles a string (every context refuses
/// code generation from strings unless this allows it): the same bound as [`source`].
pub(crate) fn code_from_strings<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    source: v8::Local<'s, v8::Value>,
    _is_code_like: bool,
) -> v8::ModifyCodeGenerationFromStringsResult<'s> {
    let max = max_source(&crate::isolate::Core::of(scope).limits);
    let codegen_allowed = match v8::Local::<v8::String>::try_from(source) {
        Ok(s) => s.length() <= max,
        // Not a string: V8 hands it back unevaluated, as `eval(5)` does.
        Err(_) => true,
    };
    v8::ModifyCodeGenerationFromStringsResult {
        codegen_allowed,
        modified_source: None,
    }
}

/// Gives the memory freed by disposed isolates back to the system. The C allocator keeps
/// freed memory in its arenas: after 1,000 isolates were disposed, 970 of 1,200 MB stayed
/// resident without this, 300 MB with it (V8's own page pool lets the rest go in seconds).
/// Trimming walks every arena, so it runs after every [`TRIM_EVERY`]th disposal, or when
/// the last trim is [`TRIM_AFTER_MS`] old.
pub(crate) fn release_freed_memory() {
    use std::sync::atomic::AtomicU64;
    static DISPOSED: AtomicU64 = AtomicU64::new(0);
    static LAST_MS: AtomicU64 = AtomicU64::new(0);
    let now = crate::cpu::now_ms();
    let n = DISPOSED.fetch_add(1, Ordering::Relaxed) + 1;
    let last = LAST_MS.load(Ordering::Relaxed);
    if !n.is_multiple_of(TRIM_EVERY) && now.saturating_sub(last) < TRIM_AFTER_MS {
        return;
    }
    if LAST_MS
        .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
        .is_err()
    {
        return;
    }
    trim();
}

/// Disposals between two trims at most.
const TRIM_EVERY: u64 = 32;
/// Milliseconds after which the next disposal trims.
const TRIM_AFTER_MS: u64 = 200;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: `malloc_trim` only returns free memory of glibc's arenas to the system.
    unsafe { libc::malloc_trim(0) };
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

thread_local! {
    /// The lowest usable address of this thread's stack (0 if unknown).
    static STACK_LOW: usize = stack_low();
}

fn stack_low() -> usize {
    // SAFETY: `attr` is initialised by `pthread_getattr_np` before use and destroyed after;
    // the out-pointers are valid locals.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return 0;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let rc = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        if rc != 0 { 0 } else { addr as usize }
    }
}

/// Whether this thread has less than `margin` bytes of stack left.
pub(crate) fn stack_low_on(margin: usize) -> bool {
    let here = 0u8;
    let here = &here as *const u8 as usize;
    STACK_LOW.with(|low| *low != 0 && here.saturating_sub(*low) < margin)
}
