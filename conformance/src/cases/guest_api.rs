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
        Case::new("guest_api/ivm_is_frozen", ivm_frozen::<E>),
        Case::new(
            "guest_api/ivm_is_frozen_after_object_freeze_is_replaced",
            ivm_frozen_despite_tampering::<E>,
        ),
        Case::new(
            "guest_api/constructors_need_new",
            constructors_need_new::<E>,
        ),
        Case::new("guest_api/lib_hrtime", lib_hrtime::<E>),
        Case::new(
            "guest_api/lib_hrtime_refuses_bad_previous",
            lib_hrtime_refuses::<E>,
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

/// What the frozen cases check: `ivm`, its classes, their prototypes, `ivm.lib`, and what
/// `derefInto()` / `copyInto()` return are frozen, and writes to them change nothing.
const FROZEN: &str = "[Object.isFrozen(ivm), Object.isFrozen(ivm.Reference), \
    Object.isFrozen(ivm.Reference.prototype), Object.isFrozen(ivm.ExternalCopy), \
    Object.isFrozen(ivm.ExternalCopy.prototype), Object.isFrozen(ivm.lib), \
    Object.isFrozen(new ivm.Reference(1).derefInto()), \
    Object.isFrozen(new ivm.ExternalCopy(1).copyInto()), \
    (() => { const r = ivm.Reference; ivm.Reference = null; ivm.lib.hrtime = null; \
      ivm.Reference.prototype.deref = null; \
      return ivm.Reference === r && typeof ivm.lib.hrtime === 'function' \
        && typeof r.prototype.deref === 'function' })()]";

fn ivm_frozen<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    ensure_eq!(eval(&c, FROZEN)?, Value::from(vec![true; 9]));
    Ok(())
}

/// `ivm` boots lazily on V8: guest code that ran first and replaced `Object.freeze` still
/// gets a frozen API.
fn ivm_frozen_despite_tampering<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let code = format!("Object.freeze = (o) => o; Object.seal = (o) => o;\n{FROZEN}");
    ensure_eq!(eval(&c, &code)?, Value::from(vec![true; 9]));
    Ok(())
}

/// `ivm.Reference(1)` and `ivm.ExternalCopy(1)` without `new` are a `TypeError`, as calling
/// any class is.
fn constructors_need_new<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = eval(
        &c,
        "const t = (f) => { try { f(); return 'no throw' } \
                            catch (e) { return e instanceof TypeError } };\n\
         [t(() => ivm.Reference(1)), t(() => ivm.ExternalCopy(1)), \
          t(() => ivm.Reference.call(ivm, 1)), \
          new ivm.Reference(1) instanceof ivm.Reference, \
          new ivm.ExternalCopy(1) instanceof ivm.ExternalCopy]",
    )?;
    ensure_eq!(v, Value::from(vec![true; 5]));
    Ok(())
}

/// `ivm.lib.hrtime()` is `[seconds, nanoseconds]` of a clock that does not go back;
/// `hrtime(previous)` the time since `previous`, never negative.
fn lib_hrtime<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = eval(
        &c,
        "const pair = (p) => Array.isArray(p) && p.length === 2 \
           && Number.isInteger(p[0]) && p[0] >= 0 \
           && Number.isInteger(p[1]) && p[1] >= 0 && p[1] < 1e9;\n\
         const ns = (p) => BigInt(p[0]) * 1000000000n + BigInt(p[1]);\n\
         const a = ivm.lib.hrtime();\n\
         let x = 0; for (let i = 0; i < 1000; i++) x += i;\n\
         const d = ivm.lib.hrtime(a);\n\
         const b = ivm.lib.hrtime();\n\
         [typeof ivm.lib, typeof ivm.lib.hrtime, ivm.lib.hrtime.length, pair(a), pair(d), \
          pair(b), ns(b) >= ns(a), ns(d) <= ns(b) - ns(a), \
          ivm.lib.hrtime([4294967295, 999999999]).join()]",
    )?;
    ensure_eq!(
        v,
        Value::from(vec![
            Value::from("object"),
            Value::from("function"),
            Value::from(1),
            Value::from(true),
            Value::from(true),
            Value::from(true),
            Value::from(true),
            Value::from(true),
            // A `previous` later than now: no time since, rather than a negative one.
            Value::from("0,0"),
        ])
    );
    Ok(())
}

/// `previous` must be an array of two whole numbers: anything else is a `TypeError` (and
/// the isolate stays usable).
fn lib_hrtime_refuses<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = eval(
        &c,
        "const t = (p) => { try { ivm.lib.hrtime(p); return 'no throw' } \
                            catch (e) { return e instanceof TypeError } };\n\
         [t(null), t('1,2'), t([1]), t([1, 2, 3]), t([1, -1]), t([1.5, 0]), t(['1', 0]), \
          t({ length: 2, 0: 0, 1: 0 }), t([NaN, 0]), t([2 ** 53, 0])]",
    )?;
    ensure_eq!(v, Value::from(vec![true; 10]));
    ensure_eq!(eval(&c, "ivm.lib.hrtime().length")?, Value::from(2));
    Ok(())
}
