//! A guest's store lent, on one thread, to the calls a host import makes into its isolate.
//!
//! While the guest waits in `isovm.host_call`, its store is reachable only through that
//! import's `Caller`: the outer call holds the `Store` itself. A host callback the import
//! runs (on the same thread) may call back into the same isolate; [`lend`] records the
//! caller for exactly that stretch, and [`borrow`] lets such a call run its requests
//! through it. A call from any other thread finds nothing lent here and waits its turn,
//! the turn being lent meanwhile (`TaskQueue::lend`): it waits no longer than its own
//! deadline or the lending call's (see `TaskQueue::run_by`).

use std::cell::RefCell;
use std::ptr::NonNull;

use wasmtime::Caller;

use crate::isolate::IsolateInner;
use crate::state::HostState;

/// One store lent by a running `host_call`.
struct Lent {
    /// The isolate whose store this is (compared by address, never dereferenced).
    isolate: *const IsolateInner,
    /// The import's caller; its real lifetime is the `lend` call that pushed this entry.
    caller: NonNull<Caller<'static, HostState>>,
    /// A call runs through it now (then a further call needs a newer entry).
    in_use: bool,
}

thread_local! {
    /// The stores lent on this thread, innermost last.
    static LENT: RefCell<Vec<Lent>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with `caller`'s store lent to calls into `isolate` made on this thread.
pub(crate) fn lend<R>(
    isolate: &IsolateInner,
    caller: &mut Caller<'_, HostState>,
    f: impl FnOnce() -> R,
) -> R {
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            LENT.with_borrow_mut(|l| l.pop());
        }
    }
    let deadline = caller.data().deadline;
    let caller = NonNull::from(caller).cast::<Caller<'static, HostState>>();
    LENT.with_borrow_mut(|l| {
        l.push(Lent {
            isolate,
            caller,
            in_use: false,
        })
    });
    // Popped however `f` ends, before `caller`'s borrow does.
    let _pop = Pop;
    // Calls from other threads wait for the callback only so long: it may be waiting for
    // one of them.
    isolate.queue.lend(deadline, f)
}

/// What [`borrow`] found.
pub(crate) enum Borrowed {
    /// No store of this isolate is lent on this thread.
    NotLent,
    /// The innermost store lent for this isolate is in use by a call that made no host call
    /// since (nothing can run through it now).
    Busy,
    /// The innermost store lent for this isolate, borrowed until the guard drops.
    Lent(LentCaller),
}

/// A lent store in use by one nested call; gives it back when dropped.
pub(crate) struct LentCaller {
    index: usize,
    caller: NonNull<Caller<'static, HostState>>,
    /// Not `Send`: the entry belongs to this thread.
    _thread: std::marker::PhantomData<*const ()>,
}

impl LentCaller {
    /// The lent caller, for as long as this guard is borrowed.
    pub(crate) fn caller(&mut self) -> &mut Caller<'_, HostState> {
        // SAFETY: the entry was pushed by `lend` from a `&mut Caller` that `lend` holds
        // until it pops the entry, and this guard exists only while the entry does (nested
        // `lend`s pop theirs first), so the caller is alive and, `lend` holding its borrow,
        // used by nobody else; entries are per thread and this guard is not `Send`, so this
        // runs on the thread whose import lent it; `in_use` makes this guard the only one of
        // the entry, and `&mut self` the only reference from it at a time. The `'static`
        // is never observable: the caller is handed out for this borrow of `self` only.
        unsafe { self.caller.cast::<Caller<'_, HostState>>().as_mut() }
    }
}

impl Drop for LentCaller {
    fn drop(&mut self) {
        LENT.with_borrow_mut(|l| {
            if let Some(e) = l.get_mut(self.index) {
                e.in_use = false;
            }
        });
    }
}

/// Whether `isolate` has lent its store on this thread: the thread is inside one of the
/// isolate's host callbacks, so the isolate's own call is suspended beneath it.
pub(crate) fn lent_here(isolate: &IsolateInner) -> bool {
    LENT.with_borrow(|l| l.iter().any(|e| std::ptr::eq(e.isolate, isolate)))
}

/// Borrows the innermost store `isolate` lent on this thread, if any.
pub(crate) fn borrow(isolate: &IsolateInner) -> Borrowed {
    LENT.with_borrow_mut(|l| {
        let Some(index) = l.iter().rposition(|e| std::ptr::eq(e.isolate, isolate)) else {
            return Borrowed::NotLent;
        };
        let entry = &mut l[index];
        if entry.in_use {
            return Borrowed::Busy;
        }
        entry.in_use = true;
        Borrowed::Lent(LentCaller {
            index,
            caller: entry.caller,
            _thread: std::marker::PhantomData,
        })
    })
}
