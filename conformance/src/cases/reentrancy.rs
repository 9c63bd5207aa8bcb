//! Re-entrant synchronous calls: a host callback calling back into the isolate that called
//! it, and A -> B -> A chains between isolates.

use std::sync::{Arc, Barrier, Mutex};

use engine_api::{Backend, Callback, Context, EvalOptions, TransferOptions, Value};

use crate::support::{R, eval, setup};
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
    ]
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
