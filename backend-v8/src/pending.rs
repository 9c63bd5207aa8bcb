//! Results that wait on a guest promise (`TransferOptions::promise`).
//!
//! The promise settles inside the isolate (in some later turn, often one queued by an
//! async host callback); the caller waits outside the isolate's turn. A slot is created
//! while the call holds the isolate, and whoever comes second (the settlement or the
//! waiter installing its sink) completes it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use engine_api::{Completer, Error, Result, TransferOptions, Value};

use crate::convert;
use crate::isolate_core::Core;

/// Receives the settled result.
pub(crate) type Sink = Box<dyn FnOnce(Result<Value>) + Send>;

enum Slot {
    Waiting(Option<Sink>),
    Settled(Result<Value>),
}

/// The value of a call: ready, or waiting on a promise.
pub(crate) enum Outcome {
    Ready(Value),
    Pending(u64),
}

#[derive(Default)]
pub(crate) struct PendingTable {
    next: AtomicU64,
    slots: Mutex<HashMap<u64, Slot>>,
}

impl PendingTable {
    fn create(&self) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, Slot::Waiting(None));
        id
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn settle(&self, id: u64, result: Result<Value>) {
        let sink = {
            let mut slots = self.lock();
            match slots.remove(&id) {
                Some(Slot::Waiting(Some(sink))) => sink,
                Some(Slot::Waiting(None)) => {
                    slots.insert(id, Slot::Settled(result));
                    return;
                }
                other => {
                    if let Some(o) = other {
                        slots.insert(id, o);
                    }
                    return;
                }
            }
        };
        sink(result);
    }

    pub fn install(&self, id: u64, sink: Sink) {
        let result = {
            let mut slots = self.lock();
            match slots.remove(&id) {
                Some(Slot::Settled(r)) => r,
                Some(Slot::Waiting(_)) => {
                    slots.insert(id, Slot::Waiting(Some(sink)));
                    return;
                }
                None => Err(Error::Disposed),
            }
        };
        sink(result);
    }

    pub fn cancel(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Fails every waiter (the isolate is gone).
    pub fn fail_all(&self, err: Error) {
        let slots: Vec<_> = self.lock().drain().collect();
        for (_, slot) in slots {
            if let Slot::Waiting(Some(sink)) = slot {
                sink(Err(err.clone()));
            }
        }
    }
}

/// How often a blocked waiter looks whether anything could still settle its promise.
const QUIET_CHECK: Duration = Duration::from_millis(25);

/// Whether nothing in flight could settle a guest promise of this isolate: no async host
/// call is pending (each holds a resolver), and no call runs or waits for the isolate's
/// turn. A promise settles only while the guest runs, so one waited on then never will
/// (unless another thread calls in later: a waiter takes that for never, as with
/// `new Promise(() => {})`).
fn nothing_can_settle(core: &Core) -> bool {
    core.tables().resolvers.is_empty() && core.queue.is_idle() && core.outbox.is_idle()
}

/// Waits for `outcome` on this thread (which must not hold the isolate's turn).
pub(crate) fn wait(core: &Core, outcome: Outcome, deadline: Option<Instant>) -> Result<Value> {
    let id = match outcome {
        Outcome::Ready(v) => return Ok(v),
        Outcome::Pending(id) => id,
    };
    if core.queue.held_by_current_thread() {
        core.pending.cancel(id);
        return Err(Error::ReentrancyRefused {
            reason: "cannot wait for a pending promise from inside its own isolate's turn; use the async form",
        });
    }
    let (tx, rx) = mpsc::channel();
    core.pending.install(
        id,
        Box::new(move |r| {
            let _ = tx.send(r);
        }),
    );
    let r = loop {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        match rx.recv_timeout(left.map_or(QUIET_CHECK, |l| l.min(QUIET_CHECK))) {
            Ok(r) => break Ok(r),
            Err(mpsc::RecvTimeoutError::Disconnected) => break Err(Error::Disposed),
            Err(mpsc::RecvTimeoutError::Timeout) if left.is_some_and(|l| l <= QUIET_CHECK) => {
                break Err(Error::timeout());
            }
            Err(mpsc::RecvTimeoutError::Timeout) if nothing_can_settle(core) => {
                // One last look: it may have settled just before the check.
                break rx.try_recv().map_err(|_| Error::PromiseNeverSettles);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    };
    if r.is_err() {
        core.pending.cancel(id);
    }
    r?
}

/// Completes `completer` with `outcome`, now or when the promise settles. A task cancelled
/// while it waits gives its slot up at once (else the slot, and the completer in it, would
/// stay until the promise settled, which may be never).
pub(crate) fn complete(core: &Arc<Core>, outcome: Result<Outcome>, completer: Completer<Value>) {
    match outcome {
        Err(e) => completer.complete(Err(e)),
        Ok(Outcome::Ready(v)) => completer.complete(Ok(v)),
        Ok(Outcome::Pending(id)) => {
            let weak = Arc::downgrade(core);
            let on_cancel = completer.token().map(|token| {
                token.on_cancel(move || {
                    if let Some(core) = weak.upgrade() {
                        core.pending.cancel(id);
                    }
                })
            });
            core.pending.install(
                id,
                Box::new(move |r| {
                    drop(on_cancel);
                    completer.complete(r)
                }),
            )
        }
    }
}

/// Transfers `value` out per `opts`; a promise with `opts.promise` becomes a pending slot
/// settled by handlers attached here.
pub(crate) fn transfer_out<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    value: v8::Local<'s, v8::Value>,
    opts: &TransferOptions,
    fallback: convert::Fallback,
) -> Result<Outcome> {
    if !opts.promise || !value.is_promise() {
        return convert::to_value(scope, value, opts, fallback).map(Outcome::Ready);
    }
    let promise: v8::Local<v8::Promise> = value.try_into().map_err(|_| Error::Disposed)?;
    let inner = TransferOptions {
        promise: false,
        ..*opts
    };
    match promise.state() {
        v8::PromiseState::Fulfilled => {
            let v = promise.result(scope);
            convert::to_value(scope, v, &inner, fallback).map(Outcome::Ready)
        }
        v8::PromiseState::Rejected => {
            let v = promise.result(scope);
            promise.mark_as_handled();
            Err(crate::errors::thrown(scope, v, None))
        }
        v8::PromiseState::Pending => {
            let core = Core::of(scope);
            let id = core.pending.create();
            let data = v8::Array::new(scope, 3);
            let idv = v8::Number::new(scope, id as f64);
            data.set_index(scope, 0, idv.into());
            let bits = v8::Integer::new(scope, encode(&inner, fallback));
            data.set_index(scope, 1, bits.into());
            let on_ok = v8::Function::builder(on_fulfilled)
                .data(data.into())
                .build(scope);
            let on_err = v8::Function::builder(on_rejected)
                .data(data.into())
                .build(scope);
            match (on_ok, on_err) {
                (Some(a), Some(b)) if promise.then2(scope, a, b).is_some() => {
                    Ok(Outcome::Pending(id))
                }
                _ => {
                    core.pending.cancel(id);
                    Err(crate::backend_error("could not attach to the promise"))
                }
            }
        }
    }
}

fn encode(o: &TransferOptions, fallback: convert::Fallback) -> i32 {
    (o.copy as i32)
        | (o.external_copy as i32) << 1
        | (o.reference as i32) << 2
        | (matches!(fallback, convert::Fallback::Reference) as i32) << 3
}

fn decode(bits: i32) -> (TransferOptions, convert::Fallback) {
    let o = TransferOptions {
        copy: bits & 1 != 0,
        external_copy: bits & 2 != 0,
        reference: bits & 4 != 0,
        promise: false,
    };
    let f = if bits & 8 != 0 {
        convert::Fallback::Reference
    } else {
        convert::Fallback::Undefined
    };
    (o, f)
}

fn slot_of<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> Option<(u64, i32)> {
    let data: v8::Local<v8::Array> = args.data().try_into().ok()?;
    let id = data.get_index(scope, 0)?.number_value(scope)? as u64;
    let bits = data.get_index(scope, 1)?.int32_value(scope)?;
    Some((id, bits))
}

fn on_fulfilled<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: v8::FunctionCallbackArguments<'s>,
    _rv: v8::ReturnValue<'s, v8::Value>,
) {
    let Some((id, bits)) = slot_of(scope, &args) else {
        return;
    };
    let (opts, fallback) = decode(bits);
    let r = convert::to_value(scope, args.get(0), &opts, fallback);
    Core::of(scope).pending.settle(id, r);
}

fn on_rejected<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: v8::FunctionCallbackArguments<'s>,
    _rv: v8::ReturnValue<'s, v8::Value>,
) {
    let Some((id, _)) = slot_of(scope, &args) else {
        return;
    };
    let e = crate::errors::thrown(scope, args.get(0), None);
    Core::of(scope).pending.settle(id, Err(e));
}
