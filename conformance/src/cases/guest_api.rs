//! The seed's JS-side API inside the guest: `Reference` methods and `ExternalCopy`.

use std::sync::{Arc, Mutex};

use engine_api::{
    Backend, Callback, Context, EvalOptions, Isolate, Reference, TransferOptions, Value,
};

use crate::support::{R, eval, setup};
use crate::{Case, ensure, ensure_eq};

/// The guest-API cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new("guest_api/apply_sync_on_host_reference", apply_sync::<E>),
        Case::new(
            "guest_api/apply_ignored_on_host_reference",
            apply_ignored::<E>,
        ),
        Case::new(
            "guest_api/apply_promise_on_host_reference",
            apply_promise::<E>,
        ),
        Case::new("guest_api/reference_typeof", reference_typeof::<E>),
        Case::new("guest_api/reference_across_isolates", across_isolates::<E>),
        Case::new(
            "guest_api/get_set_sync_across_isolates",
            get_set_across::<E>,
        ),
        Case::new("guest_api/copy_sync_across_isolates", copy_sync_across::<E>),
        Case::new("guest_api/ivm_global_exists", ivm_global::<E>),
        Case::new(
            "guest_api/ivm_global_is_a_hidden_data_property",
            ivm_descriptor::<E>,
        ),
        Case::new(
            "guest_api/host_reference_before_guest_reads_ivm",
            reference_before_ivm::<E>,
        ),
        Case::new(
            "guest_api/tampered_builtins_cannot_forge_references",
            no_forgery::<E>,
        ),
    ]
}

fn recorder() -> (Callback, Arc<Mutex<Vec<Vec<Value>>>>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let c2 = calls.clone();
    let cb = Callback::new(move |args| {
        c2.lock().unwrap().push(args);
        Ok(Value::from("ret"))
    });
    (cb, calls)
}

fn apply_sync<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let (cb, calls) = recorder();
    let v = c.eval_closure(
        "return $0.applySync(undefined, ['a', 1], { arguments: { copy: true } })",
        vec![Value::Reference(cb.into_reference())],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from("ret"));
    ensure_eq!(
        calls.lock().unwrap().clone(),
        vec![vec![Value::from("a"), Value::from(1)]]
    );
    Ok(())
}

fn apply_ignored<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let (cb, calls) = recorder();
    let v = c.eval_closure(
        "return $0.applyIgnored(undefined, [{ x: 1 }], { arguments: { copy: true } })",
        vec![Value::Reference(cb.into_reference())],
        &EvalOptions::copy(),
    )?;
    ensure!(v.is_undefined(), "applyIgnored returned {v:?}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while calls.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    ensure_eq!(
        calls.lock().unwrap().clone(),
        vec![vec![Value::object([("x", 1.into())])]]
    );
    Ok(())
}

fn apply_promise<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let (cb, _calls) = recorder();
    let opts = EvalOptions {
        result: TransferOptions::copy().with_promise(),
        ..Default::default()
    };
    let v = c.eval_closure(
        "return $0.apply(undefined, []).then(v => v + '!')",
        vec![Value::Reference(cb.into_reference())],
        &opts,
    )?;
    ensure_eq!(v, Value::from("ret!"));
    Ok(())
}

fn reference_typeof<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let (cb, _) = recorder();
    let v = c.eval_closure(
        "return [$0.typeof, $0 instanceof ivm.Reference]",
        vec![Value::Reference(cb.into_reference())],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::Array(vec!["function".into(), true.into()]));
    Ok(())
}

fn fn_ref<E: Backend>(c: &E::Context, code: &str) -> R<Value> {
    let opts = EvalOptions {
        result: TransferOptions::reference(),
        ..Default::default()
    };
    Ok(c.eval(code, &opts)?)
}

fn across_isolates<E: Backend>() -> R {
    let (_a, ca) = setup::<E>()?;
    let (_b, cb) = setup::<E>()?;
    let double = fn_ref::<E>(&ca, "(x) => x * 2")?;
    let v = cb.eval_closure(
        "return $0.applySync(undefined, [21])",
        vec![double],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from(42));
    Ok(())
}

fn get_set_across<E: Backend>() -> R {
    let (_a, ca) = setup::<E>()?;
    let (_b, cb) = setup::<E>()?;
    let obj = fn_ref::<E>(&ca, "globalThis.shared = { n: 1 }; shared")?;
    let v = cb.eval_closure(
        "$0.setSync('n', 5); return $0.getSync('n')",
        vec![obj],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from(5));
    ensure_eq!(eval(&ca, "shared.n")?, Value::from(5));
    Ok(())
}

fn copy_sync_across<E: Backend>() -> R {
    let (_a, ca) = setup::<E>()?;
    let (_b, cb) = setup::<E>()?;
    let obj = fn_ref::<E>(&ca, "({ list: [1, 2, 3] })")?;
    let v = cb.eval_closure(
        "return $0.copySync().list.length",
        vec![obj],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from(3));
    let g = ca.global()?;
    ensure!(g.type_of().is_ok());
    Ok(())
}

fn ivm_global<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = eval(
        &c,
        "[typeof ivm, typeof ivm.Reference, typeof ivm.ExternalCopy]",
    )?;
    ensure_eq!(v, Value::from(vec!["object", "function", "function"]));
    Ok(())
}

fn ivm_descriptor<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = eval(
        &c,
        "const d = Object.getOwnPropertyDescriptor(globalThis, 'ivm');\n\
         [Object.keys(globalThis).includes('ivm'), 'value' in d, d.enumerable, \
          typeof d.value.Reference, d.value === ivm]",
    )?;
    ensure_eq!(
        v,
        Value::from(vec![
            Value::from(false),
            Value::from(true),
            Value::from(false),
            Value::from("function"),
            Value::from(true),
        ])
    );
    Ok(())
}

/// Hands `c` a reference to a host callback, as `globalThis.kept`.
fn keep_host_reference<E: Backend>(c: &E::Context) -> R {
    let (cb, _calls) = recorder();
    c.eval_closure(
        "globalThis.kept = $0",
        vec![Value::Reference(cb.into_reference())],
        &EvalOptions::default(),
    )?;
    Ok(())
}

/// The host hands a reference in before the guest has looked at `ivm`: it is still an
/// instance of the same `ivm.Reference` the guest sees afterwards.
fn reference_before_ivm<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    keep_host_reference::<E>(&c)?;
    let v = eval(
        &c,
        "[kept instanceof ivm.Reference, kept.constructor === ivm.Reference, kept.typeof]",
    )?;
    ensure_eq!(
        v,
        Value::from(vec![
            Value::from(true),
            Value::from(true),
            Value::from("function"),
        ])
    );
    Ok(())
}

/// Replacing built-ins before the API is first touched must not let the guest build a
/// `Reference` around a host handle id it was never given.
fn no_forgery<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    keep_host_reference::<E>(&c)?;
    // Another context of the same isolate, whose API has not booted yet. The fake token
    // is an empty object, as the real one is (anything else is refused as options).
    let other = i.create_context()?;
    let v = eval(
        &other,
        "Symbol = function () { return 'forged' };\n\
         Object.freeze = (o) => o;\n\
         const ids = [0, 1, 2, 3, 4, 5, 6, 7, 8];\n\
         ids.map((id) => { try { return new ivm.Reference(42, {}, id).deref() } \
                           catch (e) { return 'threw' } })",
    )?;
    ensure_eq!(v, Value::from(vec![42; 9]));
    Ok(())
}
