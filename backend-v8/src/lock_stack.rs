//! The isolates this thread holds locked, innermost last, and how a nested call into
//! another isolate gets on top of them (stepping the one below aside, or hopping to a
//! helper thread with a fresh stack).

use std::cell::RefCell;
use std::sync::Arc;

use engine_api::{Error, IsolateId, Result};

use crate::backend_error;
use crate::isolate_core::Core;
use crate::limits::Limits;

thread_local! {
    /// Isolates this thread holds the lock of (innermost last), with their raw pointers.
    pub(crate) static LOCKED: RefCell<Vec<(IsolateId, v8::UnsafeRawIsolatePtr)>> =
        const { RefCell::new(Vec::new()) };
    /// Isolates held by the threads this thread is running a nested call for.
    pub(crate) static ANCESTORS: RefCell<Vec<IsolateId>> = const { RefCell::new(Vec::new()) };
}

/// The heap size of the isolate running on this thread, if its limits are `limits` (V8's
/// callbacks run on the isolate's thread, inside a call).
pub(crate) fn running_heap_size(limits: &Limits) -> Option<usize> {
    let (_, ptr) = LOCKED.with(|l| l.borrow().last().copied())?;
    // SAFETY: the top of LOCKED is the isolate this thread holds and runs; `Isolate` is a
    // plain pointer wrapper without a destructor.
    let mut isolate = unsafe { v8::Isolate::from_raw_isolate_ptr(ptr) };
    let own = isolate
        .get_slot::<Arc<Core>>()
        .is_some_and(|core| std::ptr::eq(Arc::as_ptr(&core.limits), limits));
    own.then(|| isolate.get_heap_statistics().total_heap_size())
}

/// Exits the isolate locked below on this thread (it stays locked) and re-enters it when
/// dropped, so another isolate can be locked on top. V8 supports one thread holding
/// several lockers; the `v8` crate only asks that no isolate is entered when locking.
pub(crate) struct StepAside(v8::UnsafeRawIsolatePtr);

impl StepAside {
    pub fn new(ptr: v8::UnsafeRawIsolatePtr) -> Self {
        // SAFETY: `ptr` is the isolate on top of this thread's LOCKED stack: this thread
        // holds its locker and entered it; exiting only pops V8's per-thread entry.
        unsafe { v8::Isolate::from_raw_isolate_ptr(ptr).exit() };
        StepAside(ptr)
    }
}

impl Drop for StepAside {
    fn drop(&mut self) {
        // SAFETY: the same isolate, still locked by this thread; the nested locker is gone,
        // so re-entering restores the state `new` found.
        unsafe { v8::Isolate::from_raw_isolate_ptr(self.0).enter() };
    }
}

/// Keeps LOCKED in step with the call stack, even if a call unwinds.
pub(crate) struct OnTop;

impl OnTop {
    pub fn push(id: IsolateId, ptr: v8::UnsafeRawIsolatePtr) -> Self {
        LOCKED.with(|l| l.borrow_mut().push((id, ptr)));
        OnTop
    }
}

impl Drop for OnTop {
    fn drop(&mut self) {
        LOCKED.with(|l| l.borrow_mut().pop());
    }
}

/// Enters an isolate this thread already holds the lock of, and exits it when dropped.
pub(crate) struct Reenter(v8::UnsafeRawIsolatePtr);

impl Reenter {
    pub fn new(ptr: v8::UnsafeRawIsolatePtr) -> Self {
        // SAFETY: `ptr` is in this thread's LOCKED stack, so this thread holds its locker;
        // the isolate above it was stepped aside, so entering keeps V8's entry stack nested.
        unsafe { v8::Isolate::from_raw_isolate_ptr(ptr).enter() };
        Reenter(ptr)
    }
}

impl Drop for Reenter {
    fn drop(&mut self) {
        // SAFETY: undoes `new` on the same thread, before the stepped-aside isolate returns.
        unsafe { v8::Isolate::from_raw_isolate_ptr(self.0).exit() };
    }
}

pub(crate) fn reentry_error() -> Error {
    Error::ReentrancyRefused {
        reason: "a nested call re-enters an isolate whose thread is waiting on this call",
    }
}

/// Runs `f` on a helper thread whose lock stack is empty, and waits for it.
pub(crate) fn hop<R: Send>(f: impl FnOnce() -> R + Send) -> Result<R> {
    let mut ancestors: Vec<IsolateId> = ANCESTORS.with(|a| a.borrow().clone());
    LOCKED.with(|l| ancestors.extend(l.borrow().iter().map(|(i, _)| *i)));
    // The nested call belongs to the same task: a cancel stops it there too.
    let cancel = engine_api::CancelToken::current();
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("isovm-v8-nested".into())
            .spawn_scoped(s, move || {
                ANCESTORS.with(|a| *a.borrow_mut() = ancestors);
                let _current = cancel.as_ref().map(engine_api::CancelToken::enter);
                f()
            })
            .map_err(|e| backend_error(format!("spawning a helper thread: {e}")))?
            .join()
            .map_err(|_| backend_error("a nested call panicked"))
    })
}
