//! Limits under hostile code: timeouts, memory, fuel, recursion. Each ends in its own typed
//! error; the host survives and other isolates keep running.

use std::time::Duration;

use engine_api::{
    Backend, Capability, Context, Error, EvalOptions, Isolate, IsolateOptions, Value,
};

use crate::support::{R, eval, expect_err, setup, setup_with};
use crate::{Case, ensure, ensure_eq};

/// The limit cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new("limits/timeout_infinite_loop", timeout_loop::<E>),
        Case::new("limits/timeout_microtask_loop", timeout_microtasks::<E>),
        Case::new(
            "limits/timeout_stack_names_looping_function",
            timeout_stack::<E>,
        ),
        Case::new(
            "limits/timeout_stack_names_microtask_function",
            timeout_microtask_stack::<E>,
        ),
        Case::new("limits/timeout_inside_builtin", timeout_builtin::<E>),
        Case::new(
            "limits/timeout_leaves_isolate_consistent",
            after_timeout::<E>,
        ),
        Case::new(
            "limits/timeout_leaves_isolate_usable",
            timeout_leaves_usable::<E>,
        ),
        Case::new(
            "limits/timeout_skips_a_spinning_finally",
            timeout_skips_finally::<E>,
        ),
        Case::new(
            "limits/timeout_not_caught_by_a_looping_catch",
            timeout_not_caught::<E>,
        ),
        Case::new(
            "limits/timeout_drops_the_stopped_calls_microtasks",
            timeout_drops_microtasks::<E>,
        ),
        Case::new(
            "limits/timeout_in_a_native_loop_ends",
            timeout_native_loop::<E>,
        ),
        Case::new(
            "limits/timeout_of_a_nested_call_names_its_function",
            timeout_nested::<E>,
        ),
        Case::new(
            "limits/timeout_after_a_timeout_still_stops",
            timeout_twice::<E>,
        ),
        Case::new(
            "limits/cancel_of_a_js_loop_leaves_isolate_usable",
            cancel_leaves_usable::<E>,
        ),
        Case::new("limits/timeout_not_hit_by_fast_code", timeout_not_hit::<E>),
        Case::new(
            "limits/timeout_other_isolates_keep_running",
            timeout_others::<E>,
        ),
        Case::new("limits/memory_array_bomb", memory_array_bomb::<E>),
        Case::new("limits/memory_string_bomb", memory_string_bomb::<E>),
        Case::new("limits/memory_json_bomb", memory_json_bomb::<E>),
        Case::new(
            "limits/memory_typed_array_bomb",
            memory_typed_array_bomb::<E>,
        ),
        Case::new("limits/memory_context_spam", memory_context_spam::<E>),
        Case::new("limits/memory_limit_disposes_isolate", memory_disposes::<E>),
        Case::new("limits/memory_other_isolates_survive", memory_others::<E>),
        Case::new("limits/memory_normal_use_fits", memory_normal_use::<E>),
        Case::new("limits/fuel_out_of_fuel", fuel::<E>),
        Case::new("limits/fuel_enough_for_small_work", fuel_enough::<E>),
        Case::new("limits/recursion_catchable", recursion_catchable::<E>),
        Case::new("limits/recursion_uncaught", recursion_uncaught::<E>),
    ]
}

fn timeout(ms: u64) -> EvalOptions {
    EvalOptions::default().with_timeout(Duration::from_millis(ms))
}

fn is_timeout(e: &Error) -> bool {
    matches!(e, Error::Timeout { .. })
}

fn timeout_loop<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    expect_err(
        c.eval("while (true) {}", &timeout(100)),
        "Timeout",
        is_timeout,
    )?;
    Ok(())
}

fn timeout_microtasks<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    expect_err(
        c.eval(
            "(function spin() { Promise.resolve().then(spin) })(); 'queued'",
            &timeout(100),
        ),
        "Timeout",
        is_timeout,
    )?;
    Ok(())
}

fn timeout_builtin<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    expect_err(
        c.eval("/(a+)+$/.test('a'.repeat(40) + 'b')", &timeout(100)),
        "Timeout",
        is_timeout,
    )?;
    Ok(())
}

/// After a timeout the isolate is either usable or disposed, and says which.
fn after_timeout<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    eval(&c, "globalThis.kept = 5")?;
    expect_err(c.eval("for (;;) {}", &timeout(50)), "Timeout", is_timeout)?;
    if i.is_disposed() {
        expect_err(c.eval("kept", &EvalOptions::copy()), "Disposed", |e| {
            matches!(e, Error::Disposed)
        })?;
    } else {
        ensure_eq!(eval(&c, "kept")?, Value::from(5));
    }
    Ok(())
}

fn timeout_not_hit<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = c.eval(
        "let s = 0; for (let i = 0; i < 1000; i++) s += i; s",
        &EvalOptions::copy().with_timeout(Duration::from_secs(60)),
    )?;
    ensure_eq!(v, Value::from(499500));
    Ok(())
}

fn timeout_others<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let (_j, other) = setup::<E>()?;
    let spinner = std::thread::spawn(move || c.eval("while (true) {}", &timeout(300)));
    for n in 0..20 {
        ensure_eq!(eval(&other, &format!("{n} + 1"))?, Value::from(n + 1));
    }
    let r = spinner
        .join()
        .map_err(|_| "spinner thread panicked".to_string())?;
    expect_err(r, "Timeout", is_timeout)?;
    Ok(())
}

fn limited<E: Backend>(mb: u64) -> R<(E::Isolate, E::Context)> {
    setup_with::<E>(IsolateOptions {
        memory_limit_mb: mb,
        ..Default::default()
    })
}

fn expect_memory_limit<E: Backend>(code: &str) -> R {
    let (i, c) = limited::<E>(32)?;
    let r = c.eval(
        code,
        &EvalOptions::default().with_timeout(Duration::from_secs(120)),
    );
    expect_err(r, "MemoryLimit", |e| matches!(e, Error::MemoryLimit))?;
    ensure!(i.is_disposed(), "isolate not disposed after MemoryLimit");
    Ok(())
}

fn memory_array_bomb<E: Backend>() -> R {
    expect_memory_limit::<E>(
        "const keep = []; while (true) keep.push(new Array(100000).fill(1.5));",
    )
}

fn memory_string_bomb<E: Backend>() -> R {
    expect_memory_limit::<E>(
        "const keep = []; let n = 0; while (true) keep.push('x'.repeat(1 << 20) + (n++));",
    )
}

fn memory_json_bomb<E: Backend>() -> R {
    expect_memory_limit::<E>(
        "const keep = []; const s = JSON.stringify({ k: new Array(10000).fill('abcdef') });\n\
         while (true) keep.push(JSON.parse(s));",
    )
}

fn memory_typed_array_bomb<E: Backend>() -> R {
    expect_memory_limit::<E>(
        "const keep = []; while (true) keep.push(new Uint8Array(4 << 20).fill(1));",
    )
}

fn memory_context_spam<E: Backend>() -> R {
    let (i, _c) = limited::<E>(32)?;
    let mut contexts = Vec::new();
    let mut outcome = None;
    for _ in 0..20_000 {
        match i.create_context() {
            Ok(c) => {
                let filled = c.eval(
                    "globalThis.pad = new Array(20000).fill(0); 1",
                    &EvalOptions::default(),
                );
                contexts.push(c);
                if let Err(e) = filled {
                    outcome = Some(e);
                    break;
                }
            }
            Err(e) => {
                outcome = Some(e);
                break;
            }
        }
    }
    let e = outcome.ok_or("20,000 contexts fit under 32 MB")?;
    ensure!(
        matches!(e, Error::MemoryLimit),
        "expected MemoryLimit, got {e:?}"
    );
    Ok(())
}

fn memory_disposes<E: Backend>() -> R {
    let (i, c) = limited::<E>(32)?;
    let _ = c.eval(
        "const k = []; while (true) k.push(new Array(1e5).fill(0))",
        &EvalOptions::default(),
    );
    ensure!(i.is_disposed());
    expect_err(c.eval("1", &EvalOptions::default()), "Disposed", |e| {
        matches!(e, Error::Disposed)
    })?;
    expect_err(i.create_context(), "Disposed", |e| {
        matches!(e, Error::Disposed)
    })?;
    Ok(())
}

fn memory_others<E: Backend>() -> R {
    let (_i, c) = limited::<E>(32)?;
    let (_j, other) = setup::<E>()?;
    eval(&other, "globalThis.alive = 'yes'")?;
    let _ = c.eval(
        "const k = []; while (true) k.push(new Array(1e5).fill(0))",
        &EvalOptions::default(),
    );
    ensure_eq!(eval(&other, "alive")?, Value::from("yes"));
    Ok(())
}

fn memory_normal_use<E: Backend>() -> R {
    let (_i, c) = limited::<E>(32)?;
    let v = eval(
        &c,
        "let total = 0; for (let i = 0; i < 200; i++) { const a = new Array(10000).fill(i); total += a.length } total",
    )?;
    ensure_eq!(v, Value::from(2_000_000));
    Ok(())
}

fn fuel<E: Backend>() -> R {
    let opts = IsolateOptions {
        fuel: Some(1_000_000),
        ..Default::default()
    };
    if !E::capabilities().fuel {
        expect_err(E::Isolate::new(opts), "Unsupported(Fuel)", |e| {
            matches!(e, Error::Unsupported(Capability::Fuel))
        })?;
        return Ok(());
    }
    let (i, c) = setup_with::<E>(opts)?;
    expect_err(
        c.eval("while (true) {}", &EvalOptions::default()),
        "OutOfFuel",
        |e| matches!(e, Error::OutOfFuel),
    )?;
    ensure_eq!(i.fuel_remaining(), Some(0));
    Ok(())
}

fn fuel_enough<E: Backend>() -> R {
    if !E::capabilities().fuel {
        return Ok(());
    }
    let (i, c) = setup_with::<E>(IsolateOptions {
        fuel: Some(2_000_000_000),
        ..Default::default()
    })?;
    let before = i.fuel_remaining().ok_or("no fuel reading")?;
    ensure_eq!(
        eval(&c, "let s = 0; for (let i = 0; i < 1000; i++) s += i; s")?,
        Value::from(499500)
    );
    let after = i.fuel_remaining().ok_or("no fuel reading")?;
    ensure!(after < before, "fuel did not go down: {before} -> {after}");
    Ok(())
}

/// Runaway recursion throws a catchable `RangeError` where the backend says it can
/// ([`Capability::CatchableStackOverflow`]); elsewhere it unwinds past the `try` and ends
/// the call in `Error::StackOverflow`. Either way the isolate stays usable.
fn recursion_catchable<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let code = "function f(n) { return f(n + 1) + 1 }\n\
                let r; try { f(0) } catch (e) { r = e instanceof RangeError } r";
    if E::capabilities().has(Capability::CatchableStackOverflow) {
        ensure_eq!(eval(&c, code)?, Value::from(true));
    } else {
        expect_err(c.eval(code, &EvalOptions::copy()), "StackOverflow", |e| {
            matches!(e, Error::StackOverflow)
        })?;
        ensure!(!i.is_disposed(), "a stack overflow disposed the isolate");
    }
    ensure_eq!(eval(&c, "1 + 1")?, Value::from(2));
    Ok(())
}

fn recursion_uncaught<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let r = c.eval(
        "function g() { return g() + 1 } g()",
        &EvalOptions::default(),
    );
    match r {
        Err(Error::Js(e)) => ensure_eq!(e.name, "RangeError"),
        Err(Error::StackOverflow) => {}
        other => return Err(format!("expected RangeError or StackOverflow, got {other:?}").into()),
    }
    if !i.is_disposed() {
        ensure_eq!(eval(&c, "3")?, Value::from(3));
    }
    Ok(())
}

fn timeout_stack_of(code: &str, r: engine_api::Result<Value>, name: &str) -> R {
    let e = expect_err(r, "Timeout", is_timeout)?;
    let Error::Timeout { stack } = e else {
        return Err(format!("{code}: not a timeout").into());
    };
    let stack = stack.ok_or("no stack captured at the timeout")?;
    ensure!(stack.contains(name), "stack does not name {name}: {stack}");
    Ok(())
}

fn timeout_stack<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let code = "function spinForever() { while (true) {} }\nspinForever()";
    timeout_stack_of(code, c.eval(code, &timeout(100)), "spinForever")
}

fn timeout_microtask_stack<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let code =
        "function requeueForever() { Promise.resolve().then(requeueForever) }\nrequeueForever()";
    timeout_stack_of(code, c.eval(code, &timeout(100)), "requeueForever")
}

/// A loop stopped at its deadline in JS leaves the isolate usable: what ran before stays.
fn timeout_leaves_usable<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    eval(&c, "globalThis.kept = 5")?;
    let code = "function spin() { for (;;) {} }\nspin()";
    expect_err(c.eval(code, &timeout(100)), "Timeout", is_timeout)?;
    ensure!(!i.is_disposed(), "a JS loop's timeout disposed the isolate");
    ensure_eq!(eval(&c, "kept")?, Value::from(5));
    ensure_eq!(eval(&c, "kept + 1")?, Value::from(6));
    Ok(())
}

/// Runs `code` under a 100 ms timeout, which it must end in (by the deadline and a bounded
/// grace, however it ends), then checks the isolate is usable.
fn stopped_for_good<E: Backend>(code: &'static str) -> R {
    let (i, c) = setup::<E>()?;
    eval(&c, "globalThis.kept = 'yes'")?;
    let c2 = c.clone();
    let r = crate::support::ends(code, move || c2.eval(code, &timeout(100)))?;
    expect_err(r, "Timeout", is_timeout)?;
    ensure!(!i.is_disposed(), "the timeout disposed the isolate");
    ensure_eq!(eval(&c, "kept")?, Value::from("yes"));
    Ok(())
}

/// A `finally` that spins cannot outlast the deadline (it does not run: the stop unwinds
/// past it, on V8 as on Boa).
fn timeout_skips_finally<E: Backend>() -> R {
    stopped_for_good::<E>("try { while (true) {} } finally { while (true) {} }")
}

/// A `catch` that goes back to looping cannot catch the stop.
fn timeout_not_caught<E: Backend>() -> R {
    stopped_for_good::<E>("while (true) { try { while (true) {} } catch (e) {} }")
}

/// Microtasks the stopped call queued never run, not even loop-free ones.
fn timeout_drops_microtasks<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let code = "Promise.resolve().then(() => { globalThis.ran = 'late' });\n\
                function spin() { for (;;) {} }\nspin()";
    expect_err(c.eval(code, &timeout(100)), "Timeout", is_timeout)?;
    ensure!(!i.is_disposed(), "the timeout disposed the isolate");
    ensure_eq!(eval(&c, "typeof ran")?, Value::from("undefined"));
    // Nor in a later call that runs the queue.
    ensure_eq!(
        eval(&c, "Promise.resolve().then(() => 0); typeof ran")?,
        Value::from("undefined")
    );
    Ok(())
}

/// A loop inside a builtin (a regex backtracking, no JS running) still ends by the
/// deadline; the isolate then says whether it survived.
fn timeout_native_loop<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    eval(&c, "globalThis.kept = 1")?;
    let c2 = c.clone();
    let r = crate::support::ends("a regex backtracking", move || {
        c2.eval("/^(x+x+)+y$/.test('x'.repeat(48))", &timeout(100))
    })?;
    expect_err(r, "Timeout", is_timeout)?;
    match c.eval("kept", &EvalOptions::copy()) {
        Ok(v) => ensure_eq!(v, Value::from(1)),
        Err(Error::Disposed) => ensure!(i.is_disposed(), "Disposed, yet not disposed"),
        Err(e) => return Err(format!("the next call failed: {e:?}").into()),
    }
    Ok(())
}

/// A nested call (a host callback calling back in) with its own timeout ends in a timeout
/// naming the nested function; the isolate is usable after the outer call.
fn timeout_nested<E: Backend>() -> R {
    struct Disposing<'a, I: Isolate>(&'a I);
    impl<I: Isolate> Drop for Disposing<'_, I> {
        fn drop(&mut self) {
            let _ = self.0.dispose();
        }
    }
    let (i, c) = setup::<E>()?;
    let _d = Disposing(&i);
    eval(&c, "globalThis.kept = 3")?;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
    let (c2, seen2) = (c.clone(), seen.clone());
    let cb = engine_api::Callback::new(move |_| {
        let r = c2.eval(
            "function nestedSpin() { for (;;) {} }\nnestedSpin()",
            &timeout(100),
        );
        *seen2.lock().unwrap_or_else(|e| e.into_inner()) = Some(r.clone());
        r
    });
    // The outer call may end either way once its nested call timed out (V8 ends it too).
    let _ = c.eval_closure(
        "try { return $0() } catch (e) { return 'caught' }",
        vec![cb.into()],
        &EvalOptions::copy().with_timeout(Duration::from_secs(60)),
    );
    let nested = seen
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .ok_or("the callback never ran")?;
    timeout_stack_of("nestedSpin", nested, "nestedSpin")?;
    ensure!(!i.is_disposed(), "the nested timeout disposed the isolate");
    ensure_eq!(eval(&c, "kept")?, Value::from(3));
    Ok(())
}

/// The stop is over once its call ended: the next call loops freely, and its own deadline
/// stops it again.
fn timeout_twice<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    expect_err(c.eval("for (;;) {}", &timeout(50)), "Timeout", is_timeout)?;
    ensure_eq!(
        eval(&c, "let n = 0; for (let i = 0; i < 100000; i++) n++; n")?,
        Value::from(100_000)
    );
    ensure_eq!(
        eval(&c, "function f(d) { return d ? f(d - 1) + 1 : 0 } f(100)")?,
        Value::from(100)
    );
    timeout_stack_of(
        "second",
        c.eval("function again() { for (;;) {} }\nagain()", &timeout(50)),
        "again",
    )?;
    ensure!(!i.is_disposed(), "a JS loop's timeout disposed the isolate");
    Ok(())
}

/// Cancelling a task whose call spins in JS stops it as a timeout does: `Cancelled`, and
/// the isolate stays usable.
fn cancel_leaves_usable<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    eval(&c, "globalThis.kept = 8")?;
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let started = engine_api::Callback::new(move |_| {
        let _ = tx.lock().unwrap_or_else(|e| e.into_inner()).send(());
        Ok(Value::Undefined)
    });
    let task = c.eval_closure_async(
        "$0(); function spinUntilCancelled() { for (;;) {} }\nspinUntilCancelled()",
        vec![started.into()],
        EvalOptions::default(),
    );
    rx.recv_timeout(crate::support::ENDS_WITHIN)
        .map_err(|_| "the spinning task never started".to_string())?;
    task.cancel();
    let r = crate::support::ends("the cancelled task", move || task.wait())?;
    expect_err(r, "Cancelled", |e| matches!(e, Error::Cancelled))?;
    ensure!(
        !i.is_disposed(),
        "cancelling a JS loop disposed the isolate"
    );
    ensure_eq!(eval(&c, "kept")?, Value::from(8));
    Ok(())
}
