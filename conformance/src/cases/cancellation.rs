//! Cancellation: dropping an unfinished `Task` (or `Task::cancel`) stops its guest work.
//! Work not started never runs; a running guest call is stopped and ends in
//! `Error::Cancelled`; the isolate is then usable or disposed (as after a timeout) and says
//! which. Detached and `_ignored` work is never cancelled.

use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};

use engine_api::{
    Backend, Callback, CancelToken, Context, Error, EvalOptions, Isolate, Task, TransferOptions,
    Value,
};

use crate::support::{ENDS_WITHIN, R, ends, eval, expect_err, setup};
use crate::{Case, ensure, ensure_eq};

/// The cancellation cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new(
            "cancellation/dropped_task_stops_spinning_guest",
            dropped_stops_spin::<E>,
        ),
        Case::new(
            "cancellation/dropped_spinners_leave_workers_to_others",
            dropped_spinners::<E>,
        ),
        Case::new(
            "cancellation/cancelled_queued_task_never_runs",
            queued_never_runs::<E>,
        ),
        Case::new(
            "cancellation/cancel_then_wait_is_cancelled",
            cancel_then_wait::<E>,
        ),
        Case::new(
            "cancellation/cancel_ends_a_task_waiting_for_a_promise",
            cancel_promise_wait::<E>,
        ),
        Case::new(
            "cancellation/cancelled_promise_waits_leave_workers_to_others",
            cancelled_waits::<E>,
        ),
        Case::new(
            "cancellation/stopped_call_ends_in_cancelled",
            stopped_call_error::<E>,
        ),
        Case::new(
            "cancellation/detached_and_ignored_work_runs",
            detached_runs::<E>,
        ),
    ]
}

/// A callback that reports each call on the returned channel.
fn signal() -> (Callback, Receiver<()>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let cb = Callback::new(move |_| {
        let _ = tx.lock().unwrap_or_else(|e| e.into_inner()).send(());
        Ok(Value::Undefined)
    });
    (cb, rx)
}

/// Starts `while (true) {}` as an async task and returns once the guest runs it.
fn spin<C: Context>(c: &C) -> R<Task<Value>> {
    let (started, rx) = signal();
    let task = c.eval_closure_async(
        "$0(); while (true) {}",
        vec![started.into()],
        EvalOptions::default(),
    );
    rx.recv_timeout(ENDS_WITHIN)
        .map_err(|_| "the spinning task never started".to_string())?;
    Ok(task)
}

fn is_cancelled(e: &Error) -> bool {
    matches!(e, Error::Cancelled)
}

/// After a stopped call the isolate is usable (with its state) or disposed, and says which.
/// The first call waits in the queue until the stopped call has ended.
fn usable_or_disposed<E: Backend>(i: &E::Isolate, c: &E::Context) -> R {
    let next = c.clone();
    let r = ends("the call after the cancelled spinner", move || {
        next.eval("kept", &EvalOptions::copy())
    })?;
    match r {
        Ok(v) => {
            ensure_eq!(v, Value::from(5));
            ensure_eq!(eval(c, "1 + 1")?, Value::from(2));
        }
        Err(Error::Disposed) => ensure!(i.is_disposed(), "Disposed, but is_disposed is false"),
        Err(e) => return Err(format!("unexpected error after the cancel: {e:?}").into()),
    }
    Ok(())
}

/// Dropping the task of a spinning guest (no timeout) ends the spin: the next call on the
/// same isolate, queued behind it, runs.
fn dropped_stops_spin<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    eval(&c, "globalThis.kept = 5")?;
    drop(spin(&c)?);
    usable_or_disposed::<E>(&i, &c)
}

/// Four spinning guests whose tasks are dropped give the shared workers back: a fifth
/// isolate's async call completes.
fn dropped_spinners<E: Backend>() -> R {
    let mut spinners = Vec::new();
    for _ in 0..4 {
        let (i, c) = setup::<E>()?;
        let task = spin(&c)?;
        spinners.push((i, c, task));
    }
    let (_j, other) = setup::<E>()?;
    let spinners: Vec<_> = spinners
        .into_iter()
        .map(|(i, c, task)| {
            drop(task);
            (i, c)
        })
        .collect();
    let r = ends("a fifth isolate's eval_async", move || {
        other.eval_async("1 + 1", EvalOptions::copy()).wait()
    })?;
    ensure_eq!(r?, Value::from(2));
    drop(spinners);
    Ok(())
}

/// A task cancelled (or dropped) while earlier work still holds the isolate never runs.
fn queued_never_runs<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let (entered, entered_rx) = signal();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Arc::new(Mutex::new(release_rx));
    let gate = Callback::new(move |_| {
        let _ = release_rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .recv_timeout(ENDS_WITHIN);
        Ok(Value::Undefined)
    });
    let first = c.eval_closure_async(
        "$0(); $1(); return 'first'",
        vec![entered.into(), gate.into()],
        EvalOptions::copy(),
    );
    entered_rx
        .recv_timeout(ENDS_WITHIN)
        .map_err(|_| "the first task never started".to_string())?;
    let cancelled = c.eval_async("globalThis.ran = true", EvalOptions::default());
    let dropped = c.eval_async("globalThis.dropped = true", EvalOptions::default());
    cancelled.cancel();
    ensure!(cancelled.is_cancelled());
    drop(dropped);
    let _ = release_tx.send(());
    ensure_eq!(first.wait()?, Value::from("first"));
    expect_err(cancelled.wait(), "Cancelled", is_cancelled)?;
    ensure_eq!(
        eval(
            &c,
            "typeof globalThis.ran + ' ' + typeof globalThis.dropped"
        )?,
        Value::from("undefined undefined")
    );
    Ok(())
}

/// `Task::cancel` on a running spinner, then `wait`, gives `Error::Cancelled`.
fn cancel_then_wait<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    eval(&c, "globalThis.kept = 5")?;
    let task = spin(&c)?;
    task.cancel();
    let r = ends("waiting on the cancelled task", move || task.wait())?;
    expect_err(r, "Cancelled", is_cancelled)?;
    usable_or_disposed::<E>(&i, &c)
}

/// A task whose call returned a promise that only a (held) async host call can settle ends
/// in `Error::Cancelled` when cancelled; nothing was stopped, the isolate goes on.
fn cancel_promise_wait<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Arc::new(Mutex::new(release_rx));
    let (called, called_rx) = mpsc::channel();
    let called = Mutex::new(called);
    let held = Callback::new_async(move |_| {
        let _ = called.lock().unwrap_or_else(|e| e.into_inner()).send(());
        let _ = release_rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .recv_timeout(ENDS_WITHIN);
        Ok(Value::from(1))
    });
    let options = EvalOptions {
        result: TransferOptions::copy().with_promise(),
        ..Default::default()
    };
    let task = c.eval_closure_async("return $0()", vec![held.into()], options);
    called_rx
        .recv_timeout(ENDS_WITHIN)
        .map_err(|_| "the async host call never started".to_string())?;
    task.cancel();
    let r = ends("waiting on the cancelled task", move || task.wait())?;
    expect_err(r, "Cancelled", is_cancelled)?;
    let _ = release_tx.send(());
    ensure_eq!(eval(&c, "1 + 1")?, Value::from(2));
    Ok(())
}

/// Four async calls (the worker pool's smallest size) each waiting for a promise that only
/// a held host future can settle, all cancelled: a fifth isolate's `eval_async` runs before
/// the futures are released. (A backend whose worker thread kept waiting for a cancelled
/// call's promise would freeze all async work until then.)
fn cancelled_waits<E: Backend>() -> R {
    const WAITS: usize = 4;
    let held: Arc<Mutex<Vec<engine_api::Completer<()>>>> = Arc::default();
    let (called, called_rx) = mpsc::channel();
    let called = Mutex::new(called);
    let h = held.clone();
    let future = Callback::new_future(move |_| {
        let (task, completer) = Task::<()>::pending();
        h.lock().unwrap_or_else(|e| e.into_inner()).push(completer);
        let _ = called.lock().unwrap_or_else(|e| e.into_inner()).send(());
        async move {
            let _ = task.await;
            Ok(Value::from(1))
        }
    });
    let options = EvalOptions {
        result: TransferOptions::copy().with_promise(),
        ..Default::default()
    };
    let mut waits = Vec::new();
    for _ in 0..WAITS {
        let (i, c) = setup::<E>()?;
        let task =
            c.eval_closure_async("return $0()", vec![future.clone().into()], options.clone());
        waits.push((i, c, task));
    }
    for _ in 0..WAITS {
        called_rx
            .recv_timeout(ENDS_WITHIN)
            .map_err(|_| "an async host call never started".to_string())?;
    }
    let mut kept = Vec::new();
    for (i, c, task) in waits {
        task.cancel();
        expect_err(task.wait(), "Cancelled", is_cancelled)?;
        kept.push((i, c));
    }
    let (_j, other) = setup::<E>()?;
    let r = ends("a fifth isolate's eval_async", move || {
        other.eval_async("1 + 1", EvalOptions::copy()).wait()
    });
    // Release the futures whatever happened, so that nothing waits past the case.
    for completer in held.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
        completer.complete(Ok(()));
    }
    ensure_eq!(r??, Value::from(2));
    for (_, c) in &kept {
        ensure_eq!(eval(c, "2 + 2")?, Value::from(4));
    }
    Ok(())
}

/// The stopped call itself (run here under a token made current by hand, as the queue does
/// for a task's job) ends in `Error::Cancelled`.
fn stopped_call_error<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    eval(&c, "globalThis.kept = 5")?;
    let token = CancelToken::new();
    let (started, rx) = signal();
    let (t, spinner) = (token.clone(), c.clone());
    let call = std::thread::spawn(move || {
        let _current = t.enter();
        spinner.eval_closure(
            "$0(); while (true) {}",
            vec![started.into()],
            &EvalOptions::default(),
        )
    });
    rx.recv_timeout(ENDS_WITHIN)
        .map_err(|_| "the spinning call never started".to_string())?;
    token.cancel();
    let r = ends("the cancelled call", move || call.join())?
        .map_err(|_| "the calling thread panicked".to_string())?;
    expect_err(r, "Cancelled", is_cancelled)?;
    usable_or_disposed::<E>(&i, &c)
}

/// A detached task and `_ignored` work run to their end though nobody waits for them.
fn detached_runs<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    c.eval_async("globalThis.detached = 1", EvalOptions::default())
        .detach();
    c.eval_ignored("globalThis.ignored = 2", EvalOptions::default());
    ensure_eq!(eval(&c, "detached + ignored")?, Value::from(3));
    Ok(())
}
