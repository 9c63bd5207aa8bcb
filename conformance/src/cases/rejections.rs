//! Unhandled promise rejections: the call that leaves a rejected promise without a handler,
//! once its microtasks ran, fails with that rejection (as isolated-vm does).

use std::time::Duration;

use engine_api::{
    Backend, Callback, Context, EvalOptions, Isolate, Module, RunOptions, Script, TransferOptions,
    Value,
};

use crate::support::{R, eval, expect_js, setup};
use crate::{Case, ensure, ensure_eq};

/// The rejection cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new("rejections/unhandled_in_eval", unhandled_in_eval::<E>),
        Case::new("rejections/unhandled_string", unhandled_string::<E>),
        Case::new("rejections/thrown_in_microtask", thrown_in_microtask::<E>),
        Case::new("rejections/unhandled_in_script", unhandled_in_script::<E>),
        Case::new("rejections/unhandled_in_module", unhandled_in_module::<E>),
        Case::new(
            "rejections/unhandled_in_callback_microtask",
            unhandled_in_callback_microtask::<E>,
        ),
        Case::new("rejections/handled_at_once", handled_at_once::<E>),
        Case::new("rejections/handled_late_is_fine", handled_late::<E>),
        Case::new("rejections/oldest_is_reported", oldest_is_reported::<E>),
        Case::new(
            "rejections/not_reported_by_the_next_call",
            not_reported_by_the_next_call::<E>,
        ),
        Case::new(
            "rejections/promise_result_rejects_as_before",
            promise_result_rejects::<E>,
        ),
        Case::new(
            "rejections/async_host_rejection_caught",
            async_host_rejection_caught::<E>,
        ),
        Case::new("rejections/flood_stays_bounded", flood_stays_bounded::<E>),
    ]
}

fn unhandled_in_eval<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let e = expect_js(
        c.eval("Promise.reject(new Error('x')); 1", &EvalOptions::copy()),
        "Error",
    )?;
    ensure_eq!(e.message, "x");
    ensure_eq!(eval(&c, "1 + 1")?, Value::from(2));
    Ok(())
}

fn unhandled_string<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let e = expect_js(
        c.eval("Promise.reject('plain'); 1", &EvalOptions::copy()),
        "Error",
    )?;
    ensure_eq!(e.message, "plain");
    Ok(())
}

fn thrown_in_microtask<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let e = expect_js(
        c.eval(
            "Promise.resolve().then(() => { throw new TypeError('late') }); 1",
            &EvalOptions::copy(),
        ),
        "TypeError",
    )?;
    ensure_eq!(e.message, "late");
    Ok(())
}

fn unhandled_in_script<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let s = i.compile_script(
        "(async () => { throw new RangeError('in script') })(); 5",
        &Default::default(),
    )?;
    let e = expect_js(s.run(&c, &RunOptions::default()), "RangeError")?;
    ensure_eq!(e.message, "in script");
    Ok(())
}

fn unhandled_in_module<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let m = i.compile_module(
        "Promise.reject(new RangeError('from module')); export const ok = 1;",
        &Default::default(),
    )?;
    m.instantiate(&c, &mut |s: &str, _: &E::Module| {
        Err(engine_api::Error::InvalidArgument(format!("no {s}")))
    })?;
    let e = expect_js(m.evaluate(&RunOptions::default()), "RangeError")?;
    ensure_eq!(e.message, "from module");
    Ok(())
}

/// A host callback's result feeds a microtask that throws.
fn unhandled_in_callback_microtask<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let cb = Callback::new(|_| Ok(Value::from(5)));
    let e = expect_js(
        c.eval_closure(
            "Promise.resolve($0()).then((v) => { throw new Error('cb ' + v) }); return 1",
            vec![cb.into()],
            &EvalOptions::copy(),
        ),
        "Error",
    )?;
    ensure_eq!(e.message, "cb 5");
    Ok(())
}

fn handled_at_once<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    ensure_eq!(
        eval(&c, "Promise.reject(new Error('h')).catch(() => {}); 3")?,
        Value::from(3)
    );
    Ok(())
}

/// A handler attached in a microtask of the same call: not an error.
fn handled_late<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = eval(
        &c,
        "globalThis.seen = ''; const p = Promise.reject(new Error('later'));
         Promise.resolve().then(() => Promise.resolve()).then(() => {
           p.catch((e) => { seen = e.message });
         });
         7",
    )?;
    ensure_eq!(v, Value::from(7));
    ensure_eq!(eval(&c, "seen")?, Value::from("later"));
    Ok(())
}

fn oldest_is_reported<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let e = expect_js(
        c.eval(
            "Promise.reject(new Error('first')); const b = Promise.reject(new Error('second'));
             Promise.reject(new Error('third')); b.catch(() => {}); 0",
            &EvalOptions::copy(),
        ),
        "Error",
    )?;
    ensure_eq!(e.message, "first");
    let e = expect_js(
        c.eval(
            "const a = Promise.reject(new Error('one')); Promise.reject(new Error('two'));
             a.catch(() => {}); 0",
            &EvalOptions::copy(),
        ),
        "Error",
    )?;
    ensure_eq!(e.message, "two");
    Ok(())
}

/// What one call left is its own failure, not the next call's.
fn not_reported_by_the_next_call<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    expect_js(
        c.eval(
            "globalThis.p = Promise.reject(new Error('once')); 0",
            &EvalOptions::copy(),
        ),
        "Error",
    )?;
    ensure_eq!(eval(&c, "p.catch(() => {}); 1")?, Value::from(1));
    ensure_eq!(eval(&c, "2")?, Value::from(2));
    Ok(())
}

fn promise_result_rejects<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let opts = EvalOptions {
        result: TransferOptions {
            promise: true,
            copy: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let e = expect_js(c.eval("Promise.reject(new Error('r'))", &opts), "Error")?;
    ensure_eq!(e.message, "r");
    let e = expect_js(
        c.eval(
            "(async () => { await null; throw new TypeError('async r') })()",
            &opts,
        ),
        "TypeError",
    )?;
    ensure_eq!(e.message, "async r");
    ensure_eq!(c.eval("Promise.resolve(4)", &opts)?, Value::from(4));
    Ok(())
}

fn async_host_rejection_caught<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let cb = Callback::new_async(|_| Err(engine_api::Error::js("Error", "host no")));
    let opts = EvalOptions {
        result: TransferOptions {
            promise: true,
            copy: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let v = c.eval_closure(
        "return $0().then(() => 'resolved', (e) => 'caught ' + e.message)",
        vec![cb.clone().into()],
        &opts,
    )?;
    ensure_eq!(v, Value::from("caught host no"));
    // Uncaught, the rejection ends the call as the callback's failure.
    let e = c
        .eval_closure("return $0()", vec![cb.into()], &opts)
        .err()
        .ok_or("the uncaught rejection did not fail the call")?;
    ensure_eq!(
        e.callback_error(),
        Some(&engine_api::Error::js("Error", "host no"))
    );
    ensure_eq!(eval(&c, "1")?, Value::from(1));
    Ok(())
}

/// 100,000 unhandled rejections in one call: it fails with the first, within its memory
/// and a generous time bound, and the isolate stays usable (three times over).
fn flood_stays_bounded<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let opts = EvalOptions::copy().with_timeout(Duration::from_secs(120));
    for round in 0..3 {
        let e = expect_js(
            c.eval(
                &format!(
                    "Promise.reject(new Error('flood {round}'));
                     for (let i = 0; i < 100000; i++) Promise.reject(i);
                     0"
                ),
                &opts,
            ),
            "Error",
        )?;
        ensure_eq!(e.message, format!("flood {round}"));
    }
    ensure_eq!(eval(&c, "'still here'")?, Value::from("still here"));
    let heap = i.heap_statistics()?;
    ensure!(
        heap.used_heap_size < 96 << 20,
        "heap after floods: {}",
        heap.used_heap_size
    );
    Ok(())
}
