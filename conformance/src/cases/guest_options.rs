//! The options objects of the guest-side `ivm` API: an unknown name, a wrong type or an
//! isolated-vm option it does not implement is a `TypeError` naming it, the same on every
//! backend; reading the options (getters, Proxy traps) stays under the call's deadline.

use std::time::Duration;

use engine_api::{Backend, Callback, Context, Error, EvalOptions, Isolate, Value};

use crate::support::{R, eval, expect_err, setup};
use crate::{Case, ensure_eq};

/// The guest-options cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new("guest_options/apply_family", apply_family::<E>),
        Case::new("guest_options/property_family", property_family::<E>),
        Case::new("guest_options/deref", deref::<E>),
        Case::new("guest_options/new_reference", new_reference::<E>),
        Case::new("guest_options/external_copy", external_copy::<E>),
        Case::new("guest_options/proxy_and_getters", proxy_and_getters::<E>),
        Case::new(
            "guest_options/spinning_getter_times_out",
            spinning_getter::<E>,
        ),
    ]
}

/// Runs each `[label, thunk]` in the guest; each gives `'ok'` or `'<name>: <message>'`.
const HARNESS: &str = "const t = (f) => { try { f(); return 'ok'; } \
                       catch (e) { return e.name + ': ' + e.message; } };";

/// Evaluates `checks` (a JS array expression of `t(..)` calls, `$0` a host callback
/// reference) and compares the results with `expected`.
fn expect_all<C: Context>(c: &C, checks: &str, expected: &[&str]) -> R {
    let cb = Callback::new(|args| Ok(args.into_iter().next().unwrap_or(Value::Undefined)));
    let got = c.eval_closure(
        &format!("{HARNESS} return {checks};"),
        vec![Value::Reference(cb.into_reference())],
        &EvalOptions::copy(),
    )?;
    let want = Value::Array(expected.iter().map(|s| Value::from(*s)).collect());
    ensure_eq!(got, want);
    Ok(())
}

fn apply_family<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    expect_all(
        &c,
        "[
          t(() => $0.applySync(undefined, [1], { timout: 20 })),
          t(() => $0.applySync(undefined, [1], { timeout: 'x' })),
          t(() => $0.applySync(undefined, [1], { result: { copyy: true } })),
          t(() => $0.applySync(undefined, [1], { arguments: 5 })),
          t(() => $0.applySync(undefined, [1], { result: { copy: 1 } })),
          t(() => $0.applySync(undefined, [1], 5)),
          t(() => $0.applySync(undefined, [1], { timeout: 1000, result: { copy: true } })),
          t(() => $0.applySync(undefined, [1], null)),
          t(() => $0.applySyncPromise(undefined, [1], { timout: 1 })),
          t(() => $0.applyIgnored(undefined, [1], { reslut: {} })),
          t(() => $0.apply(undefined, [1], { arguments: { copy: true, promis: true } })),
          t(() => new ivm.Reference((x) => x).applySync(undefined, [1], { timout: 20 })),
        ]",
        &[
            "TypeError: unknown option \"timout\"",
            "TypeError: option \"timeout\" must be a number",
            "TypeError: unknown option \"result.copyy\"",
            "TypeError: option \"arguments\" must be an object",
            "TypeError: option \"result.copy\" must be a boolean",
            "TypeError: options must be an object",
            "ok",
            "ok",
            "TypeError: unknown option \"timout\"",
            "TypeError: unknown option \"reslut\"",
            "TypeError: unknown option \"arguments.promis\"",
            "TypeError: unknown option \"timout\"",
        ],
    )
}

fn property_family<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    expect_all(
        &c,
        "[
          t(() => new ivm.Reference({ x: 1 }).getSync('x', { acessors: true })),
          t(() => new ivm.Reference({ x: 1 }).getSync('x', { accessors: 'yes' })),
          t(() => new ivm.Reference({ x: 1 }).getSync('x', { copy: true })),
          t(() => new ivm.Reference({ x: 1 }).setSync('x', 2, { refrence: true })),
          t(() => new ivm.Reference({ x: 1 }).setSync('x', 2, { copy: 'no' })),
          t(() => new ivm.Reference({ x: 1 }).setIgnored('x', 2, { refrence: true })),
        ]",
        &[
            "TypeError: unknown option \"acessors\"",
            "TypeError: option \"accessors\" must be a boolean",
            "ok",
            "TypeError: unknown option \"refrence\"",
            "TypeError: option \"copy\" must be a boolean",
            "ok",
        ],
    )?;
    let v = c.eval(
        "new ivm.Reference({ x: 1 }).get('x', { copyy: true }).then(() => 'ok', (e) => e.message)",
        &EvalOptions {
            result: engine_api::TransferOptions {
                promise: true,
                copy: true,
                ..Default::default()
            },
            ..Default::default()
        },
    )?;
    ensure_eq!(v, Value::from("unknown option \"copyy\""));
    Ok(())
}

fn deref<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    expect_all(
        &c,
        "[
          t(() => new ivm.Reference(5).deref({ relase: true })),
          t(() => new ivm.Reference(5).deref({ release: 'y' })),
          t(() => new ivm.Reference(5).deref({ release: false })),
          (() => { const d = new ivm.Reference(5); const v = d.deref({ release: true });
                   return v === 5 && t(() => d.deref()) !== 'ok' ? 'released' : 'kept'; })(),
        ]",
        &[
            "TypeError: unknown option \"relase\"",
            "TypeError: option \"release\" must be a boolean",
            "ok",
            "released",
        ],
    )
}

fn new_reference<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    expect_all(
        &c,
        "[
          t(() => new ivm.Reference(1, { unsafeInherti: true })),
          t(() => new ivm.Reference(1, { unsafeInherit: 1 })),
          t(() => new ivm.Reference(1, 'x')),
          t(() => new ivm.Reference(1, {})),
        ]",
        &[
            "TypeError: unknown option \"unsafeInherti\"",
            "TypeError: option \"unsafeInherit\" must be a boolean",
            "TypeError: options must be an object",
            "ok",
        ],
    )
}

fn external_copy<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    expect_all(
        &c,
        "[
          t(() => new ivm.ExternalCopy(1, { trasnferOut: true })),
          t(() => new ivm.ExternalCopy(1, { transferOut: true })),
          t(() => new ivm.ExternalCopy(1, { transferOut: false })),
          t(() => new ivm.ExternalCopy(1).copy({ relase: true })),
          t(() => new ivm.ExternalCopy(1).copy({ transferIn: true })),
          t(() => new ivm.ExternalCopy(1).copyInto({ release: true })),
          t(() => new ivm.ExternalCopy(1).copyInto({ transferIn: false })),
          (() => { const x = new ivm.ExternalCopy([7]); const v = x.copy({ release: true });
                   return v[0] === 7 && t(() => x.copy()) !== 'ok' ? 'released' : 'kept'; })(),
          t(() => new ivm.ExternalCopy(1, { transferList: {} })),
          t(() => new ivm.Reference(1).deref({ transferIn: true })),
        ]",
        &[
            "TypeError: unknown option \"trasnferOut\"",
            "TypeError: transferOut applies to an ArrayBuffer, a typed array or a DataView",
            "ok",
            "TypeError: unknown option \"relase\"",
            "ok",
            "ok",
            "ok",
            "released",
            "TypeError: option \"transferList\" must be an array",
            "TypeError: unknown option \"transferIn\"",
        ],
    )
}

fn proxy_and_getters<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    expect_all(
        &c,
        "[
          t(() => $0.applySync(undefined, [], new Proxy({}, { ownKeys() { throw new RangeError('trap') } }))),
          t(() => $0.applySync(undefined, [], new Proxy({}, { ownKeys: () => ['timout'] }))),
          t(() => $0.applySync(undefined, [], new Proxy({}, { get: (o, k) => k === 'timeout' ? 'x' : undefined }))),
          t(() => $0.applySync(undefined, [], { get timeout() { throw new Error('getter') } })),
          t(() => $0.applySync(undefined, [], { get timeout() { return 50 } })),
          (() => { const p = Proxy.revocable({}, {}); p.revoke();
                   try { $0.applySync(undefined, [], p.proxy); return 'ok'; } catch (e) { return e.name; } })(),
        ]",
        &[
            "RangeError: trap",
            "TypeError: unknown option \"timout\"",
            "TypeError: option \"timeout\" must be a number",
            "Error: getter",
            "ok",
            "TypeError",
        ],
    )
}

/// A getter (or a Proxy trap) on an option that never returns: the call's timeout stops
/// it; the isolate is then usable or disposed, and says which.
fn spinning_getter<E: Backend>() -> R {
    let opts = EvalOptions::copy().with_timeout(Duration::from_millis(300));
    for code in [
        "return $0.applySync(undefined, [], { get timeout() { for (;;) {} } })",
        "return new ivm.ExternalCopy(1).copy(new Proxy({}, { ownKeys() { for (;;) {} } }))",
        "return new ivm.Reference({}).getSync('x', { get copy() { for (;;) {} } })",
    ] {
        let (i, c) = setup::<E>()?;
        let cb = Callback::new(|_| Ok(Value::Undefined));
        expect_err(
            c.eval_closure(code, vec![Value::Reference(cb.into_reference())], &opts),
            "Timeout",
            |e| matches!(e, Error::Timeout { .. }),
        )?;
        if i.is_disposed() {
            expect_err(c.eval("1", &EvalOptions::copy()), "Disposed", |e| {
                matches!(e, Error::Disposed)
            })?;
        } else {
            ensure_eq!(eval(&c, "'usable'")?, Value::from("usable"));
        }
    }
    Ok(())
}
