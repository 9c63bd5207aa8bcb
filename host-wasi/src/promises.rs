//! Promises across the boundary: waiting for a guest promise (`promise` transfers) and
//! settling the guest promises of async host callbacks.
//!
//! Both need the isolate's turn to make progress (the guest runs its jobs when the host
//! calls in), so a blocking wait happens *outside* the turn; a waiter that already holds the
//! turn (an `_async` call on the worker pool) settles pending host results itself.
//!
//! A guest promise settles only while the guest runs: in an async host call's settlement
//! or in another call into the isolate. A waiter that sees none of these pending (no async
//! host call in flight, no settlement queued, no other call running or waiting for its
//! turn) fails with `Error::PromiseNeverSettles` instead of waiting forever.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use engine_api::abi::{Request, Response, WireValue};
use engine_api::{Error, JsError, Result, TransferOptions, Value};

use crate::WasiIsolate;
use crate::isolate::unexpected;

/// What a value call gave.
pub(crate) enum Outcome {
    /// The value.
    Ready(Value),
    /// A guest promise still pending: wait for `HostRequest::PromiseSettled { watch }`.
    Pending(u32),
}

#[derive(Default)]
pub(crate) struct Promises {
    state: Mutex<PromiseState>,
    changed: Condvar,
    /// Guest calls running or waiting for the isolate's turn (any of them may settle a
    /// promise).
    calls: AtomicUsize,
    /// Threads in `wait_watch` (a call that ends wakes them only if there are any).
    waiters: AtomicUsize,
}

#[derive(Default)]
struct PromiseState {
    watches: HashMap<u32, Watch>,
    /// Results of async host callbacks, to settle guest promises with.
    inbox: VecDeque<(u32, Result<Value>)>,
    /// Async host callbacks still running.
    in_flight: usize,
}

struct Watch {
    transfer: TransferOptions,
    result: Option<Result<Value>>,
}

impl Promises {
    fn lock(&self) -> MutexGuard<'_, PromiseState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn register(&self, watch: u32, transfer: TransferOptions) {
        self.lock().watches.insert(
            watch,
            Watch {
                transfer,
                result: None,
            },
        );
    }

    /// How the value of `watch` leaves the guest (`None`: nobody waits for it).
    pub(crate) fn transfer_of(&self, watch: u32) -> Option<TransferOptions> {
        self.lock().watches.get(&watch).map(|w| w.transfer)
    }

    pub(crate) fn settle_watch(&self, watch: u32, result: Result<Value>) {
        if let Some(w) = self.lock().watches.get_mut(&watch) {
            w.result = Some(result);
        }
        self.changed.notify_all();
    }

    pub(crate) fn start_async(&self) {
        self.lock().in_flight += 1;
    }

    pub(crate) fn wake_all(&self) {
        self.changed.notify_all();
    }

    /// Counts a guest call from before it waits for its turn until the guard drops.
    pub(crate) fn call_started(&self) -> CallCount<'_> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        CallCount { promises: self }
    }
}

/// See [`Promises::call_started`].
pub(crate) struct CallCount<'a> {
    promises: &'a Promises,
}

impl Drop for CallCount<'_> {
    fn drop(&mut self) {
        let p = self.promises;
        if p.calls.fetch_sub(1, Ordering::SeqCst) == 1 && p.waiters.load(Ordering::SeqCst) > 0 {
            // Taking the lock orders this after a waiter's check (it waits holding it).
            drop(p.lock());
            p.changed.notify_all();
        }
    }
}

/// A waiter registered in `Promises::waiters` for as long as it lives.
struct Waiter<'a>(&'a AtomicUsize);

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A rejection reason as an error.
pub(crate) fn rejection(value: Value) -> Error {
    match value {
        Value::Error(e) => Error::Js(JsError {
            name: e.name,
            message: e.message,
            stack: e.stack,
            ..Default::default()
        }),
        Value::String(s) => Error::js("Error", s),
        Value::Number(n) => Error::js("Error", n.to_string()),
        other => Error::js("Error", format!("{other:?}")),
    }
}

/// An error as a rejection reason for the guest.
pub(crate) fn error_to_wire(e: &Error) -> WireValue {
    let (name, message, stack) = match e {
        Error::Js(j) => (j.name.clone(), j.message.clone(), j.stack.clone()),
        other => ("Error".to_owned(), other.to_string(), None),
    };
    WireValue::Error {
        name,
        message,
        stack,
    }
}

impl WasiIsolate {
    /// Blocks until guest promise `watch` settles (or the deadline passes).
    pub(crate) fn wait_watch(&self, watch: u32, deadline: Option<Instant>) -> Result<Value> {
        let promises = &self.inner.promises;
        let in_turn = self.inner.queue.held_by_current_thread();
        // A cancelled task stops waiting at once and gives its worker thread back (else a
        // few cancelled waits on promises that settle late would hold the whole pool).
        // Declared before the lock below, so that it is dropped after it: the hook takes
        // that lock while the token holds its own, so the guard is never dropped under it.
        let token = engine_api::CancelToken::current();
        let _on_cancel = token.as_ref().map(|t| {
            let inner = Arc::downgrade(&self.inner);
            t.on_cancel(move || {
                if let Some(inner) = inner.upgrade() {
                    // Taking the lock orders this after the waiter's check.
                    drop(inner.promises.lock());
                    inner.promises.changed.notify_all();
                }
            })
        });
        let mut st = promises.lock();
        if crate::lent_store::lent_here(&self.inner) {
            // Inside a host callback of this isolate: its own call is suspended beneath
            // us, and a guest promise settles only while the guest runs, so waiting here
            // would never end (V8 refuses the same wait).
            st.watches.remove(&watch);
            return Err(Error::ReentrancyRefused {
                reason: "cannot wait for a pending promise from inside its own isolate's turn; use the async form",
            });
        }
        promises.waiters.fetch_add(1, Ordering::SeqCst);
        let _waiter = Waiter(&promises.waiters);
        loop {
            if let Some(result) = st.watches.get_mut(&watch).and_then(|w| w.result.take()) {
                st.watches.remove(&watch);
                return result;
            }
            if self.is_disposed() {
                st.watches.remove(&watch);
                return Err(Error::Disposed);
            }
            if token.as_ref().is_some_and(|t| t.is_cancelled()) {
                st.watches.remove(&watch);
                return Err(Error::Cancelled);
            }
            if in_turn && !st.inbox.is_empty() {
                drop(st);
                self.drain_settlements()?;
                st = promises.lock();
                continue;
            }
            // Holding the turn, no other call can run before we return; otherwise one
            // running or queued might settle it.
            let other_calls = !in_turn && promises.calls.load(Ordering::SeqCst) > 0;
            if st.in_flight == 0 && st.inbox.is_empty() && !other_calls {
                st.watches.remove(&watch);
                return Err(Error::PromiseNeverSettles);
            }
            st = match deadline {
                None => promises.changed.wait(st).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        st.watches.remove(&watch);
                        return Err(Error::timeout());
                    }
                    promises
                        .changed
                        .wait_timeout(st, d - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    /// Called when an async host callback finished: settles its guest promise in the
    /// isolate's turn.
    pub(crate) fn settle_later(&self, promise: u32, result: Result<Value>) {
        {
            let mut st = self.inner.promises.lock();
            st.inbox.push_back((promise, result));
            st.in_flight = st.in_flight.saturating_sub(1);
        }
        self.inner.promises.changed.notify_all();
        let this = self.clone();
        self.inner.queue.spawn_ignored(move || {
            let _ = this.drain_settlements();
        });
    }

    /// Settles every finished async host call's promise (in the turn).
    fn drain_settlements(&self) -> Result<()> {
        self.with_guest(None, |s| {
            loop {
                let Some((promise, result)) = s.isolate.inner.promises.lock().inbox.pop_front()
                else {
                    return Ok(());
                };
                let (ok, value, callback) =
                    match result.and_then(|v| s.enter(v, &TransferOptions::default())) {
                        Ok(w) => (true, w, None),
                        // A failed callback rejects with its own error, and the store keeps
                        // the failure, to answer Error::Callback if that ends a call.
                        Err(e) => {
                            let callback = matches!(e, Error::Callback { .. })
                                .then(|| s.store.data_mut().callback_errors.remember(e.clone()));
                            (
                                false,
                                error_to_wire(e.callback_error().unwrap_or(&e)),
                                callback,
                            )
                        }
                    };
                match s.request(&Request::SettlePromise {
                    promise,
                    ok,
                    value,
                    callback,
                })? {
                    Response::Ok => {}
                    other => return Err(unexpected(&other)),
                }
            }
        })
    }
}
