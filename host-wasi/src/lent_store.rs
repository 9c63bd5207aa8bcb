//! A guest's store lent, on one thread, to the calls a host import makes into its isolate.
//!
//! While the guest waits in `isovm.host_call`, its store is reachable only through that
//! import's `Caller`: the outer call holds the `Store` itself. A host callback the import
//! runs (on the same thread) may call back into the same isolate; [`lend`] records the
//! caller for exactly that stretch, and [`borrow`] lets such a call run its requests
//! through it. A call from any other thread finds nothing lent here and waits its turn.

use std::cell::RefCell;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

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
    struct Pop<'a>(&'a LendGate);
    impl Drop for Pop<'_> {
        fn drop(&mut self) {
            LENT.with_borrow_mut(|l| l.pop());
            self.0.exit();
        }
    }
    isolate.lending.enter(caller.data().deadline);
    let caller = NonNull::from(caller).cast::<Caller<'static, HostState>>();
    LENT.with_borrow_mut(|l| {
        l.push(Lent {
            isolate,
            caller,
            in_use: false,
        })
    });
    // Popped however `f` ends, before `caller`'s borrow does.
    let _pop = Pop(&isolate.lending);
    f()
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

/// Whether an isolate's store is lent to a host callback right now, seen from any thread:
/// a call from another thread waits for the callback to end, but no longer than its own
/// deadline or the lending call's (the callback may be waiting for that very thread).
/// Lending is on every host callback's path, so it only touches atomics unless a call waits.
#[derive(Default)]
pub(crate) struct LendGate {
    /// Host calls lending the store (nested ones count each).
    depth: AtomicU32,
    /// The outermost lending call's deadline (see [`encode`]; 0 for none).
    deadline: AtomicU64,
    /// Calls from other threads waiting in [`LendGate::wait`].
    waiters: AtomicU32,
    lock: Mutex<()>,
    returned: Condvar,
}

/// Why [`LendGate::wait`] gave up.
pub(crate) enum GateClosed {
    /// The waiting call's own deadline passed.
    OwnDeadline,
    /// The call that lent the store is past its deadline and still in its host callback.
    LenderDeadline,
}

/// When deadlines are counted from (process-wide).
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// A deadline as nanoseconds after [`epoch`] plus one; 0 for none.
fn encode(deadline: Option<Instant>) -> u64 {
    deadline.map_or(0, |d| {
        (d.saturating_duration_since(epoch()).as_nanos() as u64).saturating_add(1)
    })
}

fn decode(nanos: u64) -> Option<Instant> {
    nanos
        .checked_sub(1)
        .and_then(|n| epoch().checked_add(Duration::from_nanos(n)))
}

impl LendGate {
    fn enter(&self, deadline: Option<Instant>) {
        if self.depth.fetch_add(1, Ordering::AcqRel) == 0 {
            self.deadline.store(encode(deadline), Ordering::Release);
        }
    }

    fn exit(&self) {
        if self.depth.fetch_sub(1, Ordering::AcqRel) == 1
            && self.waiters.load(Ordering::Acquire) > 0
        {
            // Under the lock: a waiter between its check and its wait cannot miss this.
            let _held = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            self.returned.notify_all();
        }
    }

    /// Waits while the store is lent, up to the earlier of `own` and the lender's
    /// deadline; with neither, returns at once (the caller then waits its turn as usual).
    pub(crate) fn wait(&self, own: Option<Instant>) -> Result<(), GateClosed> {
        if self.depth.load(Ordering::Acquire) == 0 {
            return Ok(());
        }
        self.waiters.fetch_add(1, Ordering::AcqRel);
        let result = self.wait_slow(own);
        self.waiters.fetch_sub(1, Ordering::AcqRel);
        result
    }

    fn wait_slow(&self, own: Option<Instant>) -> Result<(), GateClosed> {
        let mut held = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        while self.depth.load(Ordering::Acquire) > 0 {
            let lender = decode(self.deadline.load(Ordering::Acquire));
            let (limit, why) = match (own, lender) {
                (None, None) => return Ok(()),
                (Some(o), Some(l)) if l < o => (l, GateClosed::LenderDeadline),
                (Some(o), _) => (o, GateClosed::OwnDeadline),
                (None, Some(l)) => (l, GateClosed::LenderDeadline),
            };
            let now = Instant::now();
            if now >= limit {
                return Err(why);
            }
            held = self
                .returned
                .wait_timeout(held, limit - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        Ok(())
    }
}
