//! Typed errors for states that are not bad arguments: both backends answer the same
//! variant for the same state (not instantiated, wrong kind, re-entrancy refused, a host
//! callback's failure), and a callback's own error is kept as the source.

use std::sync::{Arc, Mutex};

use engine_api::{
    ApplyOptions, Backend, Callback, Context, Error, EvalOptions, Isolate, Module, Reference,
    RunOptions, TransferOptions, Value,
};

use crate::support::{R, eval, expect_err, reference_to, setup};
use crate::{Case, ensure, ensure_eq};

/// The error-kind cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new(
            "error_kinds/module_not_instantiated",
            module_not_instantiated::<E>,
        ),
        Case::new(
            "error_kinds/apply_non_function_reference",
            apply_non_function::<E>,
        ),
        Case::new(
            "error_kinds/property_of_primitive_reference",
            property_of_primitive::<E>,
        ),
        Case::new(
            "error_kinds/callback_waiting_on_own_isolate_refused",
            callback_waiting_on_own_isolate::<E>,
        ),
        Case::new(
            "error_kinds/callback_error_caught_in_guest",
            callback_error_caught::<E>,
        ),
        Case::new(
            "error_kinds/callback_error_rethrown_is_callback",
            callback_error_rethrown::<E>,
        ),
        Case::new(
            "error_kinds/callback_non_js_error_is_source",
            callback_non_js_error::<E>,
        ),
        Case::new(
            "error_kinds/callback_panic_uncaught",
            callback_panic_uncaught::<E>,
        ),
        Case::new(
            "error_kinds/callback_error_in_rejected_promise",
            callback_error_rejects::<E>,
        ),
        Case::new(
            "error_kinds/async_callback_rejection_uncaught_is_callback",
            async_callback_rejects::<E>,
        ),
    ]
}

fn is_wrong_kind(e: &Error) -> bool {
    matches!(e, Error::WrongKind(_))
}

/// `evaluate` and `namespace` before `instantiate` are `NotInstantiated`; afterwards they work.
fn module_not_instantiated<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let m = i.compile_module("export const n = 7;", &Default::default())?;
    let not_yet = |e: &Error| matches!(e, Error::NotInstantiated);
    expect_err(
        m.evaluate(&RunOptions::default()),
        "NotInstantiated",
        not_yet,
    )?;
    expect_err(m.namespace(), "NotInstantiated", not_yet)?;
    m.instantiate(&c, &mut |spec: &str, _: &E::Module| {
        Err(Error::InvalidArgument(format!("unexpected import {spec}")))
    })?;
    m.evaluate(&RunOptions::default())?;
    let n = m
        .namespace()?
        .get("n".into(), &TransferOptions::default())?;
    ensure_eq!(n, Value::from(7));
    Ok(())
}

/// Applying a reference to an object is `WrongKind`; the reference and isolate stay usable.
fn apply_non_function<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = reference_to::<E>(&c, "({ a: 1 })")?;
    expect_err(
        r.apply(Value::Undefined, vec![], &ApplyOptions::default()),
        "WrongKind",
        is_wrong_kind,
    )?;
    ensure_eq!(
        r.get("a".into(), &TransferOptions::default())?,
        Value::from(1)
    );
    ensure_eq!(eval(&c, "1 + 1")?, Value::from(2));
    Ok(())
}

/// Properties are reached through references to objects only.
fn property_of_primitive<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = reference_to::<E>(&c, "'a string'")?;
    let d = TransferOptions::default();
    expect_err(r.get("length".into(), &d), "WrongKind", is_wrong_kind)?;
    expect_err(
        r.set("x".into(), Value::from(1), &d),
        "WrongKind",
        is_wrong_kind,
    )?;
    expect_err(r.delete("x".into()), "WrongKind", is_wrong_kind)?;
    Ok(())
}

/// A host callback that blocks on a promise of its own (busy) isolate is refused with
/// `ReentrancyRefused` on both backends (V8 cannot wait inside the isolate's own turn,
/// Boa-WASI's guest is not re-entrant); the outer call and the isolate carry on.
fn callback_waiting_on_own_isolate<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let seen: Arc<Mutex<Option<Error>>> = Arc::default();
    let (inner, got) = (c.clone(), seen.clone());
    let cb = Callback::new(move |_| {
        let opts = EvalOptions {
            result: TransferOptions::copy().with_promise(),
            ..Default::default()
        };
        let r = inner.eval("new Promise(() => {})", &opts);
        *got.lock().unwrap_or_else(|e| e.into_inner()) = r.err();
        Ok(Value::from("back"))
    });
    let v = c.eval_closure("return $0()", vec![cb.into()], &EvalOptions::copy())?;
    ensure_eq!(v, Value::from("back"));
    let e = seen
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .ok_or("the nested wait did not fail")?;
    ensure!(
        matches!(e, Error::ReentrancyRefused { .. }),
        "expected ReentrancyRefused, got {e:?}"
    );
    ensure!(!i.is_disposed());
    ensure_eq!(eval(&c, "3")?, Value::from(3));
    Ok(())
}

/// Caught in the guest, a callback's error is an ordinary JS error: a new error thrown in
/// its place ends the call as `Error::Js`, not as the callback's failure.
fn callback_error_caught<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let cb = Callback::new(|_| Err(Error::js("TypeError", "host refused")));
    let v = c.eval_closure(
        "try { $0(); return 'no throw' } catch (e) { return e.name + ': ' + e.message }",
        vec![cb.clone().into()],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from("TypeError: host refused"));
    let e = expect_err(
        c.eval_closure(
            "try { $0() } catch (e) { throw new Error('guest: ' + e.message) }",
            vec![cb.into()],
            &EvalOptions::default(),
        ),
        "Error::Js",
        |e| matches!(e, Error::Js(_)),
    )?;
    ensure_eq!(
        e.as_js().map(|j| j.message.as_str()),
        Some("guest: host refused")
    );
    Ok(())
}

/// The callback's error object, caught and thrown again, is still the callback's failure.
fn callback_error_rethrown<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let cb = Callback::new(|_| Err(Error::js("RangeError", "out of range")));
    let e = expect_err(
        c.eval_closure(
            "let kept; try { $0() } catch (e) { kept = e } throw kept",
            vec![cb.into()],
            &EvalOptions::default(),
        ),
        "Error::Callback",
        |e| matches!(e, Error::Callback { .. }),
    )?;
    ensure_eq!(
        e.callback_error(),
        Some(&Error::js("RangeError", "out of range"))
    );
    Ok(())
}

/// A callback failing with a non-JS error: the guest sees its message; uncaught, the host
/// gets `Error::Callback` whose source is that very error.
fn callback_non_js_error<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let cb = Callback::new(|_| Err(Error::NotTransferable("a host handle".into())));
    let v = c.eval_closure(
        "try { $0() } catch (e) { return e.message }",
        vec![cb.clone().into()],
        &EvalOptions::copy(),
    )?;
    ensure!(
        v.as_str().is_some_and(|m| m.contains("a host handle")),
        "guest saw {v:?}"
    );
    let e = expect_err(
        c.eval_closure("$0()", vec![cb.into()], &EvalOptions::default()),
        "Error::Callback",
        |e| matches!(e, Error::Callback { .. }),
    )?;
    ensure_eq!(
        e.callback_error(),
        Some(&Error::NotTransferable("a host handle".into()))
    );
    Ok(())
}

/// A panicking callback, uncaught: `Error::Callback` without a source error.
fn callback_panic_uncaught<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let cb = Callback::new(|_| panic!("callback panicked on purpose"));
    let e = expect_err(
        c.eval_closure("$0()", vec![cb.into()], &EvalOptions::default()),
        "Error::Callback",
        |e| matches!(e, Error::Callback { .. }),
    )?;
    ensure!(e.callback_error().is_none(), "{e:?}");
    ensure!(!i.is_disposed());
    Ok(())
}

/// An async function whose host callback failed rejects with the callback's error: a call
/// awaiting it ends as `Error::Callback` too.
fn callback_error_rejects<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let cb = Callback::new(|_| Err(Error::js("Error", "no luck")));
    let opts = EvalOptions {
        result: TransferOptions::copy().with_promise(),
        ..Default::default()
    };
    let e = expect_err(
        c.eval_closure(
            "return (async () => { await null; $0() })()",
            vec![cb.into()],
            &opts,
        ),
        "Error::Callback",
        |e| matches!(e, Error::Callback { .. }),
    )?;
    ensure_eq!(e.callback_error(), Some(&Error::js("Error", "no luck")));
    Ok(())
}

/// An async host callback (a blocking closure on the host pool, and a future) that fails:
/// the guest's promise rejects with the callback's own error, which guest code sees as
/// usual; left uncaught, the call ends in `Error::Callback` with that error as its source,
/// as for a sync callback.
fn async_callback_rejects<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let blocking = Callback::new_async(|_| Err(Error::js("RangeError", "blocking no")));
    let future = Callback::new_future(|_| async { Err(Error::js("TypeError", "future no")) });
    let opts = EvalOptions {
        result: TransferOptions::copy().with_promise(),
        ..Default::default()
    };
    for (cb, name, message) in [
        (blocking, "RangeError", "blocking no"),
        (future, "TypeError", "future no"),
    ] {
        let seen = c.eval_closure(
            "return $0().then(() => 'resolved', e => e.name + ': ' + e.message)",
            vec![cb.clone().into()],
            &opts,
        )?;
        ensure_eq!(seen, Value::from(format!("{name}: {message}")));
        let e = expect_err(
            c.eval_closure("return $0()", vec![cb.clone().into()], &opts),
            "Error::Callback",
            |e| matches!(e, Error::Callback { .. }),
        )?;
        ensure_eq!(e.callback_error(), Some(&Error::js(name, message)));
        let e = expect_err(
            c.eval_closure(
                "return (async () => { try { await $0() } finally { } })()",
                vec![cb.into()],
                &opts,
            ),
            "Error::Callback",
            |e| matches!(e, Error::Callback { .. }),
        )?;
        ensure_eq!(e.callback_error(), Some(&Error::js(name, message)));
    }
    Ok(())
}
