//! Re-entrant synchronous calls: a host callback calling back into the isolate that called
//! it, and A -> B -> A chains between isolates.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use engine_api::{
    ApplyOptions, Backend, Callback, Context, Error, EvalOptions, Isolate, IsolateOptions,
    Reference, RunOptions, Script, ScriptOptions, TransferOptions, Value,
};

use crate::support::{Failure, R, eval, expect_err, setup, setup_with};
use crate::{Case, ensure, ensure_eq};

/// The re-entrancy cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new(
            "reentrancy/callback_reenters_own_isolate",
            callback_reenters::<E>,
        ),
        Case::new("reentrancy/a_calls_b_calls_a", a_b_a::<E>),
        Case::new(
            "reentrancy/failed_reentry_leaves_isolate_usable",
            failed_reentry_recovers::<E>,
        ),
        Case::new(
            "reentrancy/opposite_calls_from_two_threads_do_not_deadlock",
            opposite_calls::<E>,
        ),
        Case::new("reentrancy/recursion_through_host_depth_10", depth_10::<E>),
        Case::new("reentrancy/nested_script_run", nested_run::<E>),
        Case::new(
            "reentrancy/inner_exception_reaches_outer_caller",
            inner_exception_propagates::<E>,
        ),
        Case::new(
            "reentrancy/inner_exception_caught_by_callback",
            inner_exception_caught::<E>,
        ),
        Case::new("reentrancy/nesting_past_the_cap_is_typed", nesting_cap::<E>),
        Case::new(
            "reentrancy/outer_timeout_ends_spinning_nested_call",
            outer_timeout::<E>,
        ),
        Case::new(
            "reentrancy/dispose_from_another_thread_mid_nesting",
            dispose_mid_nesting::<E>,
        ),
        Case::new(
            "reentrancy/memory_limit_holds_in_nested_call",
            memory_limit_nested::<E>,
        ),
        Case::new("reentrancy/fuel_holds_in_nested_call", fuel_nested::<E>),
        Case::new(
            "reentrancy/callback_calls_in_from_another_thread",
            other_thread::<E>,
        ),
        Case::new(
            "reentrancy/hostile_other_thread_calls_in_without_any_timeout",
            other_thread_no_timeouts::<E>,
        ),
        Case::new(
            "reentrancy/hostile_many_threads_call_in_from_a_callback",
            many_threads::<E>,
        ),
        Case::new(
            "reentrancy/threads_wait_for_short_callbacks",
            threads_wait_for_short_callbacks::<E>,
        ),
        Case::new(
            "reentrancy/hostile_dispose_while_threads_wait_on_a_callback",
            dispose_while_threads_wait::<E>,
        ),
        Case::new(
            "reentrancy/guest_apply_sync_timeout_is_honoured",
            apply_sync_timeout::<E>,
        ),
        Case::new(
            "reentrancy/hostile_unbounded_recursion_through_callbacks",
            hostile_recursion::<E>,
        ),
        Case::new(
            "reentrancy/hostile_callback_disposes_own_isolate_mid_nesting",
            hostile_self_dispose::<E>,
        ),
        Case::new(
            "reentrancy/hostile_release_of_handles_mid_nesting",
            hostile_release::<E>,
        ),
        Case::new(
            "reentrancy/callback_waiting_for_own_async_call_is_deadlock",
            own_async_wait::<E>,
        ),
        Case::new(
            "reentrancy/nested_timeout_ends_only_the_nested_call",
            nested_timeout_only::<E>,
        ),
    ]
}

/// Disposes the isolate when the case ends: callbacks that hold a context of their own
/// isolate keep it alive until then.
struct Disposing<'a, I: Isolate>(&'a I);

impl<I: Isolate> Drop for Disposing<'_, I> {
    fn drop(&mut self) {
        let _ = self.0.dispose();
    }
}

/// A callback `host(n)` that evaluates `f(n)` back in `c`'s isolate, counting its depth.
fn reentering<C: Context + 'static>(c: &C, max_depth: Arc<AtomicU32>) -> Callback {
    let c = c.clone();
    let depth = Arc::new(AtomicU32::new(0));
    Callback::new(move |args| {
        let n = match args.first() {
            Some(Value::Number(n)) => *n,
            _ => return Err(Error::callback("host(n) needs a number")),
        };
        let d = depth.fetch_add(1, Ordering::SeqCst) + 1;
        max_depth.fetch_max(d, Ordering::SeqCst);
        let r = c.eval(&format!("f({n})"), &EvalOptions::copy());
        depth.fetch_sub(1, Ordering::SeqCst);
        r
    })
}

/// Makes `host` the global `host` of `c`.
fn install<C: Context>(c: &C, host: Callback) -> R {
    c.eval_closure(
        "globalThis.host = $0",
        vec![host.into()],
        &EvalOptions::default(),
    )?;
    Ok(())
}

/// An error, or the error a callback failed with, as text.
fn text_of(e: &Error) -> String {
    match e.callback_error() {
        Some(inner) => format!("{e} ({inner})"),
        None => e.to_string(),
    }
}

/// The error itself or the callback error it carries matches `pred`.
fn is_or_carries(e: &Error, pred: impl Fn(&Error) -> bool) -> bool {
    pred(e) || e.callback_error().is_some_and(pred)
}

/// Host -> isolate -> host -> .. ten levels deep, each level adding one.
fn depth_10<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let _d = Disposing(&i);
    let max = Arc::new(AtomicU32::new(0));
    let host = reentering(&c, max.clone());
    install(&c, host)?;
    eval(&c, "globalThis.f = (n) => n === 0 ? 0 : 1 + host(n - 1); 0")?;
    ensure_eq!(eval(&c, "f(10)")?, Value::from(10));
    ensure_eq!(max.load(Ordering::SeqCst), 10);
    ensure_eq!(eval(&c, "f(3) + 1")?, Value::from(4));
    Ok(())
}

/// A callback runs a compiled script of the same isolate while the outer call waits.
fn nested_run<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let _d = Disposing(&i);
    let script = i.compile_script(
        "globalThis.counter += 1; counter * 10",
        &ScriptOptions::default(),
    )?;
    let c2 = c.clone();
    let cb = Callback::new(move |_| {
        script.run(
            &c2,
            &RunOptions {
                result: TransferOptions::copy(),
                ..Default::default()
            },
        )
    });
    let v = c.eval_closure(
        "globalThis.counter = 1; const r = $0(); return [r, counter, $0()]",
        vec![cb.into()],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(
        v,
        Value::Array(vec![Value::from(20), Value::from(2), Value::from(30)])
    );
    Ok(())
}

fn throwing_inside<C: Context + 'static>(c: &C) -> Callback {
    let c = c.clone();
    Callback::new(move |_| c.eval("throw new TypeError('inner boom')", &EvalOptions::copy()))
}

/// An exception of the inner call goes through the callback to the outer caller.
fn inner_exception_propagates<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let _d = Disposing(&i);
    let r = c.eval_closure(
        "$0(); return 'not reached'",
        vec![throwing_inside(&c).into()],
        &EvalOptions::copy(),
    );
    let e = expect_err(r, "the inner TypeError", |e| {
        text_of(e).contains("inner boom")
    })?;
    ensure!(
        !matches!(e, Error::Disposed | Error::Backend { .. }),
        "not the script's error: {e:?}"
    );
    ensure_eq!(eval(&c, "'usable'")?, Value::from("usable"));
    Ok(())
}

/// The outer guest code catches the inner exception and goes on.
fn inner_exception_caught<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let _d = Disposing(&i);
    let v = c.eval_closure(
        "let m; try { $0() } catch (e) { m = e.message } return m + ' / after'",
        vec![throwing_inside(&c).into()],
        &EvalOptions::copy(),
    )?;
    let Value::String(s) = &v else {
        return Err(format!("not a string: {v:?}").into());
    };
    ensure!(
        s.contains("inner boom") && s.ends_with(" / after"),
        "got {s:?}"
    );
    Ok(())
}

/// Recursion through host callbacks far past any nesting cap: it either completes (V8
/// moves deep calls to fresh stacks) or fails with a typed error; the isolate stays usable.
fn nesting_cap<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let _d = Disposing(&i);
    let max = Arc::new(AtomicU32::new(0));
    let host = reentering(&c, max.clone());
    install(&c, host)?;
    eval(&c, "globalThis.f = (n) => n === 0 ? 0 : 1 + host(n - 1); 0")?;
    match eval(&c, "f(200)") {
        Ok(v) => ensure_eq!(v, Value::from(200)),
        Err(Failure(m)) => {
            let r = c.eval("f(200)", &EvalOptions::copy());
            let e = expect_err(r, "a typed nesting error", |e| {
                is_or_carries(e, |e| {
                    matches!(
                        e,
                        Error::ReentrancyRefused { .. } | Error::StackOverflow | Error::Js(_)
                    )
                })
            })
            .map_err(|f| Failure(format!("{m}; again: {}", f.0)))?;
            ensure!(
                max.load(Ordering::SeqCst) < 200,
                "failed at full depth: {e:?}"
            );
        }
    }
    ensure!(!i.is_disposed(), "the isolate was disposed");
    ensure_eq!(eval(&c, "f(5)")?, Value::from(5));
    Ok(())
}

/// The outer call's timeout stops a nested call that spins forever.
fn outer_timeout<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let _d = Disposing(&i);
    eval(&c, "globalThis.kept = 7")?;
    let c2 = c.clone();
    let cb = Callback::new(move |_| c2.eval("for (;;) {}", &EvalOptions::copy()));
    let r = c.eval_closure(
        "return $0()",
        vec![cb.into()],
        &EvalOptions::copy().with_timeout(Duration::from_millis(200)),
    );
    expect_err(r, "Timeout", |e| {
        is_or_carries(e, |e| matches!(e, Error::Timeout { .. }))
    })?;
    if i.is_disposed() {
        expect_err(c.eval("kept", &EvalOptions::copy()), "Disposed", |e| {
            matches!(e, Error::Disposed)
        })?;
    } else {
        ensure_eq!(eval(&c, "kept")?, Value::from(7));
    }
    Ok(())
}

/// `dispose` from another thread while a nested call spins ends both calls.
fn dispose_mid_nesting<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let _d = Disposing(&i);
    let started = Arc::new(AtomicBool::new(false));
    let (c2, s2) = (c.clone(), started.clone());
    let cb = Callback::new(move |_| {
        s2.store(true, Ordering::SeqCst);
        c2.eval("for (;;) {}", &EvalOptions::copy())
    });
    let (i2, s3) = (i.clone(), started.clone());
    let disposer = std::thread::spawn(move || {
        while !s3.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
        // Give the nested call time to be inside the guest.
        std::thread::sleep(Duration::from_millis(20));
        i2.dispose()
    });
    // A long safety timeout: the case fails (not hangs) if dispose does not stop the call.
    let r = c.eval_closure(
        "try { return $0() } catch (e) { for (;;) {} }",
        vec![cb.into()],
        &EvalOptions::copy().with_timeout(Duration::from_secs(60)),
    );
    disposer.join().map_err(|_| "disposer panicked")??;
    expect_err(r, "Disposed", |e| {
        is_or_carries(e, |e| matches!(e, Error::Disposed))
    })?;
    ensure!(i.is_disposed());
    expect_err(c.eval("1", &EvalOptions::copy()), "Disposed", |e| {
        matches!(e, Error::Disposed)
    })?;
    Ok(())
}

/// A nested call cannot allocate past the isolate's memory limit.
fn memory_limit_nested<E: Backend>() -> R {
    let (i, c) = setup_with::<E>(IsolateOptions {
        memory_limit_mb: 32,
        ..Default::default()
    })?;
    let _d = Disposing(&i);
    let c2 = c.clone();
    let cb = Callback::new(move |_| {
        c2.eval(
            "const a = []; for (;;) a.push(new Array(100000).fill(1.5))",
            &EvalOptions::copy(),
        )
    });
    let r = c.eval_closure(
        "try { return $0() } catch (e) { return 'caught ' + e }",
        vec![cb.into()],
        &EvalOptions::copy().with_timeout(Duration::from_secs(120)),
    );
    expect_err(r, "MemoryLimit", |e| {
        is_or_carries(e, |e| matches!(e, Error::MemoryLimit))
    })?;
    ensure!(i.is_disposed(), "isolate not disposed after MemoryLimit");
    Ok(())
}

/// A nested call draws on the same fuel as the outer one.
fn fuel_nested<E: Backend>() -> R {
    if !E::capabilities().fuel {
        return Ok(());
    }
    let (i, c) = setup_with::<E>(IsolateOptions {
        fuel: Some(50_000_000),
        ..Default::default()
    })?;
    let _d = Disposing(&i);
    let c2 = c.clone();
    let cb = Callback::new(move |_| c2.eval("for (;;) {}", &EvalOptions::copy()));
    let r = c.eval_closure(
        "try { return $0() } catch (e) { for (;;) {} }",
        vec![cb.into()],
        &EvalOptions::copy(),
    );
    expect_err(r, "OutOfFuel", |e| {
        is_or_carries(e, |e| matches!(e, Error::OutOfFuel))
    })?;
    ensure_eq!(i.fuel_remaining(), Some(0));
    Ok(())
}

/// The results of calls into an isolate from threads a host callback spawned.
type Seen = Arc<Mutex<Vec<engine_api::Result<Value>>>>;

/// A callback that calls `c`'s isolate from one thread per timeout in `timeouts`, all
/// spawned at once, runs `meanwhile`, then joins them; it records their results in `seen`
/// and fails with the first error among them.
fn calling_in_from_threads<C: Context + 'static>(
    c: &C,
    timeouts: Vec<Option<Duration>>,
    seen: Seen,
    meanwhile: impl Fn() + Send + Sync + 'static,
) -> Callback {
    let c = c.clone();
    Callback::new(move |_| {
        let threads: Vec<_> = timeouts
            .iter()
            .map(|timeout| {
                let (c, options) = (c.clone(), EvalOptions::copy());
                let options = match timeout {
                    Some(t) => options.with_timeout(*t),
                    None => options,
                };
                std::thread::spawn(move || c.eval("40 + 2", &options))
            })
            .collect();
        meanwhile();
        let mut results = Vec::new();
        for t in threads {
            results.push(
                t.join()
                    .map_err(|_| Error::callback("a helper thread panicked"))?,
            );
        }
        *seen.lock().unwrap() = results.clone();
        results
            .into_iter()
            .find(Result::is_err)
            .unwrap_or(Ok(Value::Undefined))
    })
}

/// Runs `code` with `$0` the callback, under `timeout`, on a thread of its own (the case
/// fails instead of hanging if the backend never ends it); returns the outer result and
/// the inner ones.
fn run_calling_in<C: Context + 'static>(
    c: &C,
    cb: Callback,
    seen: &Seen,
    timeout: Option<Duration>,
) -> R<(engine_api::Result<Value>, Vec<engine_api::Result<Value>>)> {
    let c2 = c.clone();
    let outer = crate::support::ends("the outer call", move || {
        let options = match timeout {
            Some(t) => EvalOptions::copy().with_timeout(t),
            None => EvalOptions::copy(),
        };
        c2.eval_closure(
            "try { return $0() } catch (e) { return 'caught' }",
            vec![cb.into()],
            &options,
        )
    })?;
    let inner = std::mem::take(&mut *seen.lock().unwrap());
    Ok((outer, inner))
}

/// The outer call ended by its timeout, or (the callback returning before the watchdog
/// could stop it) in the guest's catch; the isolate is usable afterwards (unless the
/// timeout disposed it, on a backend that traps at a deadline).
fn caught_or_timed_out<C: Context>(
    i: &impl Isolate,
    c: &C,
    outer: &engine_api::Result<Value>,
) -> R {
    let timed_out = match outer {
        Ok(v) => {
            ensure_eq!(v, &Value::from("caught"));
            false
        }
        Err(e) => {
            ensure!(
                is_or_carries(e, |e| matches!(e, Error::Timeout { .. })),
                "outer call: {e:?}"
            );
            true
        }
    };
    if !(timed_out && i.is_disposed()) {
        ensure!(!i.is_disposed(), "the isolate was disposed");
        for _ in 0..3 {
            ensure_eq!(eval(c, "1 + 1")?, Value::from(2));
        }
    }
    Ok(())
}

fn refused(r: &engine_api::Result<Value>) -> bool {
    matches!(r, Err(Error::ReentrancyRefused { .. }))
}

/// A callback that calls into its own isolate from a thread it spawns (and joins): the
/// thread waits for the callback to end, which never comes, so its call is refused
/// (`ReentrancyRefused`) at the outer call's deadline.
fn other_thread<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let _d = Disposing(&i);
    let seen = Seen::default();
    let cb = calling_in_from_threads(&c, vec![None], seen.clone(), || {});
    let (outer, inner) = run_calling_in(&c, cb, &seen, Some(Duration::from_millis(300)))?;
    ensure!(
        inner.len() == 1 && refused(&inner[0]),
        "the other thread's call: {inner:?}"
    );
    caught_or_timed_out(&i, &c, &outer)
}

/// Hostile: as above with no timeout on either call. Nothing bounds the wait but the
/// queue's rule: refused once the callback has lasted `UNBOUNDED_LEND_WAIT`.
fn other_thread_no_timeouts<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let _d = Disposing(&i);
    let seen = Seen::default();
    let cb = calling_in_from_threads(&c, vec![None], seen.clone(), || {});
    let (outer, inner) = run_calling_in(&c, cb, &seen, None)?;
    ensure!(
        inner.len() == 1 && refused(&inner[0]),
        "the other thread's call: {inner:?}"
    );
    // The guest caught the callback's error and returned.
    ensure_eq!(outer?, Value::from("caught"));
    ensure_eq!(eval(&c, "1 + 1")?, Value::from(2));
    Ok(())
}

/// Hostile: eight threads call in at once from a callback, with no timeout, a short one
/// and a long one. Each ends typed: its own timeout (`Timeout`) or the outer call's
/// deadline (`ReentrancyRefused`).
fn many_threads<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let _d = Disposing(&i);
    let seen = Seen::default();
    let timeouts = [
        None,
        Some(Duration::from_millis(50)),
        Some(Duration::from_secs(60)),
    ];
    let timeouts: Vec<_> = (0..8).map(|k| timeouts[k % 3]).collect();
    let cb = calling_in_from_threads(&c, timeouts.clone(), seen.clone(), || {});
    let (outer, inner) = run_calling_in(&c, cb, &seen, Some(Duration::from_millis(500)))?;
    ensure_eq!(inner.len(), 8);
    for (timeout, r) in timeouts.iter().zip(&inner) {
        match timeout {
            // Its own deadline comes first, unless the thread started after the outer one.
            Some(t) if *t < Duration::from_millis(500) => ensure!(
                matches!(r, Err(Error::Timeout { .. })) || refused(r),
                "a call with a short timeout: {r:?}"
            ),
            _ => ensure!(refused(r), "a call the outer deadline bounds: {r:?}"),
        }
    }
    caught_or_timed_out(&i, &c, &outer)
}

/// Threads that call in while the guest runs short host callbacks (no timeouts): they
/// wait for each callback and all run.
fn threads_wait_for_short_callbacks<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let _d = Disposing(&i);
    let cb = Callback::new(|args| Ok(args.first().cloned().unwrap_or(Value::Undefined)));
    install(&c, cb)?;
    eval(&c, "globalThis.total = 0; 0")?;
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                for _ in 0..25 {
                    c.eval(
                        "for (let k = 0; k < 20; k++) total += host(1); total",
                        &EvalOptions::copy(),
                    )?;
                }
                Ok::<_, Error>(())
            })
        })
        .collect();
    for t in threads {
        t.join().map_err(|_| "a thread panicked")??;
    }
    ensure_eq!(eval(&c, "total")?, Value::from(4 * 25 * 20));
    Ok(())
}

/// Hostile: the callback disposes its isolate while four threads it spawned wait for it
/// (with long timeouts). Every wait ends with `Disposed`, and so does the outer call.
fn dispose_while_threads_wait<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let seen = Seen::default();
    let i2 = i.clone();
    let cb = calling_in_from_threads(
        &c,
        vec![Some(Duration::from_secs(60)); 4],
        seen.clone(),
        move || {
            // Let the threads start waiting (they answer the same if they come later).
            std::thread::sleep(Duration::from_millis(50));
            let _ = i2.dispose();
        },
    );
    let (outer, inner) = run_calling_in(&c, cb, &seen, Some(Duration::from_secs(60)))?;
    ensure_eq!(inner.len(), 4);
    for r in &inner {
        ensure!(matches!(r, Err(Error::Disposed)), "a waiting call: {r:?}");
    }
    let e = outer
        .err()
        .ok_or("the outer call of a disposed isolate succeeded")?;
    ensure!(
        is_or_carries(&e, |e| matches!(e, Error::Disposed)),
        "outer call: {e:?}"
    );
    ensure!(i.is_disposed());
    Ok(())
}

/// Guest code's `ref.applySync(.., { timeout })` into another isolate stops the callee.
fn apply_sync_timeout<E: Backend>() -> R {
    let (a, ca) = setup::<E>()?;
    let (b, cb) = setup::<E>()?;
    let _d = (Disposing(&a), Disposing(&b));
    let reference = EvalOptions {
        result: TransferOptions::reference(),
        ..Default::default()
    };
    let slow = cb.eval(
        "() => { const end = Date.now() + 5000; while (Date.now() < end) {} return 'finished' }",
        &reference,
    )?;
    let v = ca.eval_closure(
        "try { return $0.applySync(undefined, [], { timeout: 20 }) } \
         catch (e) { return 'caught: ' + e.message }",
        vec![slow],
        &EvalOptions::copy().with_timeout(Duration::from_secs(30)),
    )?;
    let Value::String(s) = &v else {
        return Err(format!("not a string: {v:?}").into());
    };
    ensure!(
        s.starts_with("caught: "),
        "the callee ran its course: {s:?}"
    );
    ensure_eq!(eval(&ca, "'a goes on'")?, Value::from("a goes on"));
    Ok(())
}

/// Hostile: guest code recursing through a host callback without end, catching every
/// failure on the way up. It ends with a typed error or a result; the isolate is usable.
fn hostile_recursion<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let _d = Disposing(&i);
    let max = Arc::new(AtomicU32::new(0));
    let c2 = c.clone();
    let m2 = max.clone();
    let host = Callback::new(move |args| {
        let d = m2.fetch_add(1, Ordering::SeqCst) + 1;
        // Bounds the case on a backend without a cap (each level is a real stack).
        if d > 2_000 {
            return Err(Error::callback("host depth bound of the case"));
        }
        let n = args.first().cloned().unwrap_or(Value::Undefined);
        c2.eval_closure("return f($0)", vec![n], &EvalOptions::copy())
    });
    install(&c, host)?;
    eval(
        &c,
        "globalThis.f = (n) => { try { return host(n + 1) } catch (e) { return 'stopped at ' + n } }; 0",
    )?;
    let v = c.eval("f(0)", &EvalOptions::copy());
    match v {
        Ok(Value::String(s)) => ensure!(s.starts_with("stopped at "), "got {s:?}"),
        Ok(other) => return Err(format!("unexpected result {other:?}").into()),
        Err(e) => ensure!(
            !matches!(e, Error::Backend { .. }),
            "untyped failure: {e:?}"
        ),
    }
    if !i.is_disposed() {
        ensure_eq!(eval(&c, "typeof f")?, Value::from("function"));
    }
    Ok(())
}

/// Hostile: three levels deep, a callback disposes its own isolate and returns. Every
/// level ends; the isolate stays disposed.
fn hostile_self_dispose<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let (c2, i2) = (c.clone(), i.clone());
    let host = Callback::new(move |args| {
        let n = match args.first() {
            Some(Value::Number(n)) => *n,
            _ => 0.0,
        };
        if n >= 3.0 {
            i2.dispose()?;
            return Ok(Value::from("disposed"));
        }
        c2.eval(&format!("f({})", n + 1.0), &EvalOptions::copy())
    });
    install(&c, host)?;
    eval(
        &c,
        "globalThis.f = (n) => { const r = host(n); for (let k = 0; k < 1e6; k++) {} return r }; 0",
    )?;
    let r = c.eval(
        "f(0)",
        &EvalOptions::copy().with_timeout(Duration::from_secs(60)),
    );
    expect_err(r, "Disposed", |e| {
        is_or_carries(e, |e| matches!(e, Error::Disposed))
    })?;
    ensure!(i.is_disposed());
    expect_err(c.eval("1", &EvalOptions::copy()), "Disposed", |e| {
        matches!(e, Error::Disposed)
    })?;
    Ok(())
}

/// Hostile: a callback releases the reference the outer call runs through, and a context
/// handle, mid-nesting. The outer call finishes; later use is a typed `Released`.
fn hostile_release<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let _d = Disposing(&i);
    let target = crate::support::reference_to::<E>(&c, "(cb) => cb() + ' and back'")?;
    let extra = i.create_context()?;
    type Handles<E> = Option<(<E as Backend>::Reference, <E as Backend>::Context)>;
    let slot: Arc<Mutex<Handles<E>>> = Arc::new(Mutex::new(Some((target.clone(), extra.clone()))));
    let (c2, s2) = (c.clone(), slot.clone());
    let cb = Callback::new(move |_| {
        if let Some((r, x)) = s2.lock().unwrap().take() {
            r.release();
            x.release();
            let gone = x.eval("1", &EvalOptions::copy());
            if !matches!(gone, Err(Error::Released(_))) {
                return Err(Error::callback(format!(
                    "released context answered {gone:?}"
                )));
            }
        }
        c2.eval("'nested'", &EvalOptions::copy())
    });
    let v = target.apply(Value::Undefined, vec![cb.into()], &ApplyOptions::copy())?;
    ensure_eq!(v, Value::from("nested and back"));
    expect_err(
        target.apply(Value::Undefined, vec![], &ApplyOptions::copy()),
        "Released",
        |e| matches!(e, Error::Released(_)),
    )?;
    ensure_eq!(eval(&c, "'still usable'")?, Value::from("still usable"));
    Ok(())
}

fn callback_reenters<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    eval(&c, "globalThis.base = 40")?;
    let slot: Arc<Mutex<Option<E::Context>>> = Arc::new(Mutex::new(Some(c.clone())));
    let s = slot.clone();
    let cb = Callback::new(move |_| {
        let ctx = s.lock().unwrap().clone().expect("context");
        ctx.eval("base + 2", &EvalOptions::copy())
    });
    let v = c.eval_closure("return $0()", vec![cb.into()], &EvalOptions::copy())?;
    slot.lock().unwrap().take();
    ensure_eq!(v, Value::from(42));
    Ok(())
}

fn a_b_a<E: Backend>() -> R {
    let (_a, ca) = setup::<E>()?;
    let (_b, cb) = setup::<E>()?;
    let reference = EvalOptions {
        result: TransferOptions::reference(),
        ..Default::default()
    };
    let in_a = ca.eval("(x) => 'a(' + x + ')'", &reference)?;
    let in_b = cb.eval_closure(
        "const a = $0; return (x) => a.applySync(undefined, ['b(' + x + ')'])",
        vec![in_a],
        &reference,
    )?;
    let v = ca.eval_closure(
        "return $0.applySync(undefined, ['start'])",
        vec![in_b],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from("a(b(start))"));
    Ok(())
}

/// Whatever a backend does with re-entry, afterwards the isolate still works.
fn failed_reentry_recovers<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let c2 = c.clone();
    let cb = Callback::new(move |_| c2.eval("1", &EvalOptions::copy()));
    let _ = c.eval_closure(
        "try { return $0() } catch (e) { return 'caught' }",
        vec![cb.into()],
        &EvalOptions::copy(),
    );
    ensure_eq!(eval(&c, "'still fine'")?, Value::from("still fine"));
    Ok(())
}

/// Thread 1 holds A and calls into B while thread 2 holds B and calls into A. Waiting
/// would never end: the call that closes the cycle fails with the deadlock error (here
/// caught by the guest), its thread lets go of its isolate, and the other call goes on.
fn opposite_calls<E: Backend>() -> R {
    let (_a, ca) = setup::<E>()?;
    let (_b, cb) = setup::<E>()?;
    eval(&ca, "globalThis.whoami = () => 'a'; 0")?;
    eval(&cb, "globalThis.whoami = () => 'b'; 0")?;
    // Both threads hold their own isolate before either calls the other one.
    let barrier = Arc::new(Barrier::new(2));
    let cross = |there: &E::Context| {
        let (there, barrier) = (there.clone(), barrier.clone());
        Callback::new(move |_| {
            barrier.wait();
            there.eval("whoami()", &EvalOptions::copy())
        })
    };
    let run = |here: &E::Context, cross: Callback| {
        let here = here.clone();
        std::thread::spawn(move || {
            here.eval_closure(
                "try { return $0() } catch (e) { return 'error: ' + e.message }",
                vec![cross.into()],
                &EvalOptions::copy(),
            )
        })
    };
    let ta = run(&ca, cross(&cb));
    let tb = run(&cb, cross(&ca));
    let ra = ta.join().map_err(|_| "thread 1 panicked")??;
    let rb = tb.join().map_err(|_| "thread 2 panicked")??;
    let text = |v: &Value| match v {
        Value::String(s) => s.to_string(),
        other => format!("{other:?}"),
    };
    let (ra, rb) = (text(&ra), text(&rb));
    let refused = |s: &str| s.starts_with("error: ") && s.contains("deadlock");
    ensure!(
        (ra == "b" && refused(&rb)) || (rb == "a" && refused(&ra)),
        "expected one call through and the other refused as a deadlock, got {ra:?} and {rb:?}"
    );
    // Both isolates go on.
    ensure_eq!(eval(&ca, "whoami()")?, Value::from("a"));
    ensure_eq!(eval(&cb, "whoami()")?, Value::from("b"));
    Ok(())
}

/// A sync callback that waits for an async call into its own isolate (which cannot run
/// before the callback returns): `Error::Deadlock` at once, blocking or as a future,
/// instead of a hang; the isolate goes on.
fn own_async_wait<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let _dispose = Disposing(&i);
    let c2 = c.clone();
    let cb = Callback::new(move |_| {
        let waited = c2.eval_async("1 + 1", EvalOptions::copy()).wait();
        let polled = pollster::block_on(c2.eval_async("2 + 2", EvalOptions::copy()));
        Ok(Value::Array(vec![
            Value::from(matches!(waited, Err(Error::Deadlock))),
            Value::from(matches!(polled, Err(Error::Deadlock))),
        ]))
    });
    let v = crate::support::ends("a callback waiting for its own isolate", {
        let c = c.clone();
        move || c.eval_closure("return $0()", vec![cb.into()], &EvalOptions::copy())
    })??;
    ensure_eq!(v, Value::Array(vec![true.into(), true.into()]));
    // Outside the callback the same wait works.
    ensure_eq!(
        c.eval_async("3 + 3", EvalOptions::copy()).wait()?,
        Value::from(6)
    );
    Ok(())
}

/// A nested call's own timeout ends that call only: the callback sees `Timeout`, the guest
/// code that called the callback goes on (and can catch what the callback throws), and the
/// outer call returns normally.
fn nested_timeout_only<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let _d = Disposing(&i);
    let c2 = c.clone();
    let seen = Arc::new(Mutex::new(None));
    let s2 = seen.clone();
    let cb = Callback::new(move |_| {
        let r = c2.eval(
            "for (;;) {}",
            &EvalOptions::copy().with_timeout(Duration::from_millis(100)),
        );
        *s2.lock().unwrap() = Some(matches!(r, Err(Error::Timeout { .. })));
        r
    });
    let v = c.eval_closure(
        "let caught = false; try { $0() } catch (e) { caught = true } \
         let n = 0; for (let k = 0; k < 1000; k++) n += k; return [caught, n]",
        vec![cb.into()],
        &EvalOptions::copy().with_timeout(Duration::from_secs(60)),
    )?;
    ensure_eq!(*seen.lock().unwrap(), Some(true));
    ensure_eq!(v, Value::Array(vec![true.into(), 499500.into()]));
    ensure_eq!(eval(&c, "'usable'")?, Value::from("usable"));
    Ok(())
}
