//! Host callbacks: sync, async (a promise in the guest), ignored; errors and panics.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use engine_api::{Backend, Callback, Context, Error, EvalOptions, TransferOptions, Value};

use crate::support::{R, eval, expect_err, setup};
use crate::{Case, ensure, ensure_eq};

/// The callback cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new("callbacks/sync_returns_value", sync_returns::<E>),
        Case::new("callbacks/sync_receives_arguments", sync_args::<E>),
        Case::new("callbacks/typeof_function", typeof_function::<E>),
        Case::new("callbacks/error_is_thrown_in_guest", error_thrown::<E>),
        Case::new("callbacks/error_name_kept", error_name_kept::<E>),
        Case::new("callbacks/error_propagates_to_host", error_propagates::<E>),
        Case::new("callbacks/panic_becomes_error", panic_becomes_error::<E>),
        Case::new(
            "callbacks/async_returns_promise",
            async_returns_promise::<E>,
        ),
        Case::new("callbacks/async_rejects", async_rejects::<E>),
        Case::new("callbacks/ignored_runs_later", ignored_runs::<E>),
        Case::new("callbacks/many_calls", many_calls::<E>),
        Case::new(
            "callbacks/non_transferable_argument",
            non_transferable_arg::<E>,
        ),
        Case::new("callbacks/returns_object", returns_object::<E>),
        Case::new("callbacks/installed_on_global", installed_on_global::<E>),
    ]
}

fn sync_returns<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let cb = Callback::new(|_| Ok(Value::from("from host")));
    let v = c.eval_closure("return $0() + '!'", vec![cb.into()], &EvalOptions::copy())?;
    ensure_eq!(v, Value::from("from host!"));
    Ok(())
}

fn sync_args<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let cb = Callback::new(move |args| {
        s.lock().unwrap().extend(args);
        Ok(Value::Undefined)
    });
    c.eval_closure(
        "$0(1, 'two', [3], { four: 4 })",
        vec![cb.into()],
        &EvalOptions::default(),
    )?;
    let got = seen.lock().unwrap().clone();
    ensure_eq!(
        got,
        vec![
            Value::from(1),
            Value::from("two"),
            Value::from(vec![3]),
            Value::object([("four", 4.into())])
        ]
    );
    Ok(())
}

fn typeof_function<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let cb = Callback::new(|_| Ok(Value::Undefined));
    let v = c.eval_closure("return typeof $0", vec![cb.into()], &EvalOptions::copy())?;
    ensure_eq!(v, Value::from("function"));
    Ok(())
}

fn error_thrown<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let cb = Callback::new(|_| Err(Error::js("Error", "host says no")));
    let v = c.eval_closure(
        "try { $0(); return 'no throw' } catch (e) { return e.message }",
        vec![cb.into()],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from("host says no"));
    Ok(())
}

fn error_name_kept<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let cb = Callback::new(|_| Err(Error::js("TypeError", "typed")));
    let v = c.eval_closure(
        "try { $0() } catch (e) { return [e.name, e instanceof Error] }",
        vec![cb.into()],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::Array(vec!["TypeError".into(), true.into()]));
    Ok(())
}

/// Uncaught in the guest, a callback's error ends the call as `Error::Callback`, with the
/// callback's own error as its source.
fn error_propagates<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let cb = Callback::new(|_| Err(Error::js("RangeError", "uncaught host error")));
    let e = expect_err(
        c.eval_closure("$0()", vec![cb.into()], &EvalOptions::default()),
        "Error::Callback",
        |e| matches!(e, Error::Callback { .. }),
    )?;
    let js = e
        .callback_error()
        .and_then(Error::as_js)
        .ok_or_else(|| format!("no JS error as the source: {e:?}"))?;
    ensure_eq!(js.name, "RangeError");
    ensure!(
        js.message.contains("uncaught host error"),
        "message {}",
        js.message
    );
    let source = std::error::Error::source(&e).ok_or("no source")?;
    ensure!(
        source.to_string().contains("uncaught host error"),
        "source {source}"
    );
    Ok(())
}

fn panic_becomes_error<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let cb = Callback::new(|_| panic!("callback panicked on purpose"));
    let v = c.eval_closure(
        "try { $0(); return 'no throw' } catch (e) { return 'caught' }",
        vec![cb.into()],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from("caught"));
    ensure!(!engine_api::Isolate::is_disposed(&i));
    ensure_eq!(eval(&c, "2")?, Value::from(2));
    Ok(())
}

fn async_returns_promise<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let cb = Callback::new_async(|args| {
        let x = args.first().and_then(Value::as_f64).unwrap_or(0.0);
        Ok(Value::from(x * 2.0))
    });
    let opts = EvalOptions {
        result: TransferOptions::copy().with_promise(),
        ..Default::default()
    };
    let v = c.eval_closure(
        "const p = $0(21); return p instanceof Promise ? p.then(v => v + 0.5) : 'not a promise'",
        vec![cb.into()],
        &opts,
    )?;
    ensure_eq!(v, Value::from(42.5));
    Ok(())
}

fn async_rejects<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let cb = Callback::new_async(|_| Err(Error::js("Error", "async failure")));
    let opts = EvalOptions {
        result: TransferOptions::copy().with_promise(),
        ..Default::default()
    };
    let v = c.eval_closure(
        "return $0().then(() => 'ok', e => e.message)",
        vec![cb.into()],
        &opts,
    )?;
    ensure_eq!(v, Value::from("async failure"));
    Ok(())
}

fn ignored_runs<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let cb = Callback::new_ignored(move |args| {
        h.fetch_add(args.len(), Ordering::SeqCst);
        Ok(Value::from("dropped"))
    });
    let v = c.eval_closure(
        "return [$0(1, 2, 3), $0(4)]",
        vec![cb.into()],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::Array(vec![Value::Undefined, Value::Undefined]));
    let deadline = Instant::now() + Duration::from_secs(30);
    while hits.load(Ordering::SeqCst) < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    ensure_eq!(hits.load(Ordering::SeqCst), 4);
    Ok(())
}

fn many_calls<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let count = Arc::new(AtomicUsize::new(0));
    let k = count.clone();
    let cb = Callback::new(move |args| {
        k.fetch_add(1, Ordering::Relaxed);
        Ok(args.into_iter().next().unwrap_or_default())
    });
    let v = c.eval_closure(
        "let s = 0; for (let i = 0; i < 2000; i++) s += $0(i); return s",
        vec![cb.into()],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from(1999 * 2000 / 2));
    ensure_eq!(count.load(Ordering::Relaxed), 2000);
    Ok(())
}

fn non_transferable_arg<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let cb = Callback::new(|_| Ok(Value::Undefined));
    let v = c.eval_closure(
        "try { $0(() => 1); return 'accepted' } catch (e) { return e.name }",
        vec![cb.into()],
        &EvalOptions::copy(),
    )?;
    ensure!(
        v != Value::from("accepted"),
        "a function argument was accepted"
    );
    Ok(())
}

fn returns_object<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let cb = Callback::new(|_| {
        Ok(Value::object([
            ("list", Value::from(vec![1, 2])),
            ("when", Value::Date(10.0)),
        ]))
    });
    let v = c.eval_closure(
        "const r = $0(); return [r.list.length, r.when instanceof Date]",
        vec![cb.into()],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::Array(vec![2.into(), true.into()]));
    Ok(())
}

fn installed_on_global<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let cb = Callback::new(|args| Ok(Value::from(args.len())));
    let g = c.global()?;
    engine_api::Reference::set(&g, "hostCount".into(), cb.into(), &Default::default())?;
    ensure_eq!(eval(&c, "hostCount(1, 2, 3)")?, Value::from(3));
    Ok(())
}
