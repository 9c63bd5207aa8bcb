//! Error stacks that span isolates: an error thrown in isolate C, called from B, called
//! from A, reaches A with a stack naming the functions of all three, as isolated-vm keeps
//! it (its `nested-error-stack` test).

use engine_api::{Backend, Context, Error, EvalOptions, ScriptOrigin, TransferOptions, Value};

use crate::support::{R, setup};
use crate::{Case, ensure};

/// The stack cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new(
            "stacks/error_stack_spans_three_isolates",
            stack_spans_three::<E>,
        ),
        Case::new(
            "stacks/host_error_keeps_guest_stack",
            host_error_keeps_guest_stack::<E>,
        ),
    ]
}

fn named(file: &str) -> EvalOptions {
    EvalOptions {
        origin: ScriptOrigin::file(file),
        result: TransferOptions::reference(),
        ..Default::default()
    }
}

fn stack_spans_three<E: Backend>() -> R {
    let (_a, ca) = setup::<E>()?;
    let (_b, cb) = setup::<E>()?;
    let (_c, cc) = setup::<E>()?;
    let in_c = cc.eval(
        "function deepestInC() { throw new Error('from c') }; deepestInC",
        &named("c.js"),
    )?;
    let in_b = cb.eval_closure(
        "const c = $0; return function middleInB() { return c.applySync(undefined, []) }",
        vec![in_c],
        &named("b.js"),
    )?;
    let thrown = ca.eval_closure(
        "const b = $0;
         function outerInA() { return b.applySync(undefined, []) }
         try { outerInA(); return 'no throw' } catch (e) { return String(e.stack) }",
        vec![in_b],
        &EvalOptions {
            origin: ScriptOrigin::file("a.js"),
            ..EvalOptions::copy()
        },
    )?;
    let stack = match thrown {
        Value::String(s) => s.to_string(),
        other => return Err(format!("expected a stack string, got {other:?}").into()),
    };
    for name in ["from c", "deepestInC", "middleInB", "outerInA"] {
        ensure!(stack.contains(name), "stack lacks {name}: {stack}");
    }
    // Innermost first, as every JS stack reads.
    let at = |n: &str| stack.find(n).unwrap_or(usize::MAX);
    ensure!(
        at("deepestInC") < at("middleInB") && at("middleInB") < at("outerInA"),
        "stack out of order: {stack}"
    );
    Ok(())
}

/// An error that leaves the isolate (uncaught) keeps the stack of the isolate it crossed.
fn host_error_keeps_guest_stack<E: Backend>() -> R {
    let (_a, ca) = setup::<E>()?;
    let (_b, cb) = setup::<E>()?;
    let in_b = cb.eval(
        "function throwsInB() { throw new TypeError('from b') }; throwsInB",
        &named("b.js"),
    )?;
    let r = ca.eval_closure(
        "const b = $0; function callsB() { return b.applySync(undefined, []) } return callsB()",
        vec![in_b],
        &EvalOptions {
            origin: ScriptOrigin::file("a.js"),
            ..EvalOptions::copy()
        },
    );
    match r {
        Err(Error::Js(e)) => {
            let stack = e.stack.clone().unwrap_or_default();
            ensure!(e.message.contains("from b"), "message: {e:?}");
            ensure!(
                stack.contains("throwsInB") && stack.contains("callsB"),
                "stack should name both isolates' functions: {stack}"
            );
            Ok(())
        }
        other => Err(format!("expected Error::Js, got {other:?}").into()),
    }
}
