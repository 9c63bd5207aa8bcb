//! Error stacks that span isolates: an error thrown in isolate C, called from B, called
//! from A, reaches A with a stack naming the functions of all three, as isolated-vm keeps
//! it (its `nested-error-stack` test).

use engine_api::{
    Backend, Callback, Context, Error, EvalOptions, JsError, ScriptOrigin, TransferOptions, Value,
};

use crate::support::{R, eval, setup};
use crate::{Case, ensure, ensure_eq};

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
        Case::new("stacks/boundary_line_between_isolates", boundary_line::<E>),
        Case::new(
            "stacks/host_callback_stack_continues_in_guest",
            callback_stack_continues::<E>,
        ),
        Case::new(
            "stacks/hostile_stack_size_is_bounded",
            hostile_stack_bounded::<E>,
        ),
        Case::new(
            "stacks/stack_starts_with_name_and_message",
            stack_header_host_view::<E>,
        ),
        Case::new(
            "stacks/guest_reads_stack_header",
            stack_header_guest_view::<E>,
        ),
        Case::new(
            "stacks/hostile_name_and_message_are_contained",
            hostile_header::<E>,
        ),
    ]
}

/// The line isolated-vm writes between the frames of two isolates.
const BOUNDARY: &str = "    at (<isolated-vm boundary>)";

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

fn copied(file: &str) -> EvalOptions {
    EvalOptions {
        origin: ScriptOrigin::file(file),
        ..EvalOptions::copy()
    }
}

fn string(v: Value) -> R<String> {
    match v {
        Value::String(s) => Ok(s.to_string()),
        other => Err(format!("expected a string, got {other:?}").into()),
    }
}

/// The remote stack, then the boundary line, then the caller's frames: in that order.
fn boundary_line<E: Backend>() -> R {
    let (_a, ca) = setup::<E>()?;
    let (_b, cb) = setup::<E>()?;
    let in_b = cb.eval(
        "function failsInB() { throw new RangeError('from b') }; failsInB",
        &named("b.js"),
    )?;
    let stack = string(ca.eval_closure(
        "const b = $0;
         function callerInA() { return b.applySync(undefined, []) }
         try { callerInA(); return 'no throw' } catch (e) { return String(e.stack) }",
        vec![in_b],
        &copied("a.js"),
    )?)?;
    let lines: Vec<&str> = stack.lines().collect();
    ensure_eq!(lines.first().copied(), Some("RangeError: from b"));
    let at = |p: &dyn Fn(&str) -> bool| lines.iter().position(|l| p(l));
    let remote = at(&|l| l.contains("failsInB") && l.contains("b.js"));
    let boundary = at(&|l| l == BOUNDARY);
    let caller = at(&|l| l.contains("callerInA") && l.contains("a.js"));
    ensure!(
        matches!((remote, boundary, caller), (Some(r), Some(b), Some(c)) if r < b && b < c),
        "expected B's frame, the boundary, then A's frame: {stack}"
    );
    // The remote stack appears once, and no more than 10 frames of A follow the boundary.
    ensure_eq!(lines.iter().filter(|l| **l == BOUNDARY).count(), 1);
    let after = lines.len() - boundary.unwrap_or(0) - 1;
    ensure!(
        (1..=10).contains(&after),
        "{after} frames after the boundary: {stack}"
    );
    Ok(())
}

/// A host callback that fails with a stack: the guest's error continues it with its frames.
fn callback_stack_continues<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let cb = Callback::new(|_| {
        let mut e = JsError::new("TypeError", "from the host");
        e.stack = Some("TypeError: from the host\n    at hostSide (host.rs:1:1)".into());
        Err(Error::Js(e))
    });
    let stack = string(c.eval_closure(
        "const f = $0;
         function guestSide() { return f.applySync(undefined, []) }
         try { guestSide(); return 'no throw' } catch (e) {
           return (e instanceof TypeError) + ' ' + e.message + '\\n' + e.stack }",
        vec![Value::Reference(cb.into_reference())],
        &copied("guest.js"),
    )?)?;
    let mut lines = stack.lines();
    ensure_eq!(lines.next(), Some("true from the host"));
    let rest: Vec<&str> = lines.collect();
    ensure_eq!(rest.first().copied(), Some("TypeError: from the host"));
    let at = |n: &str| {
        rest.iter()
            .position(|l| l.contains(n))
            .unwrap_or(usize::MAX)
    };
    ensure!(
        at("hostSide") < at(BOUNDARY)
            && at(BOUNDARY) < at("guestSide")
            && at("guestSide") < usize::MAX,
        "expected the host's frame, the boundary, then the guest's: {stack}"
    );
    Ok(())
}

/// A stack of 8 MB from a failing callback reaches the guest cut to a bounded size (its
/// first lines kept), and the guest's error still works.
fn hostile_stack_bounded<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let cb = Callback::new(|_| {
        let mut e = JsError::new("Error", "huge");
        let frame = "    at hostile (x.js:1:1)\n";
        e.stack = Some(format!("Error: huge\n{}", frame.repeat(8 << 20 >> 5)));
        Err(Error::Js(e))
    });
    let v = c.eval_closure(
        "try { $0.applySync(undefined, []); return 'no throw' } catch (e) {
           return [e.message, e.stack.length, e.stack.split('\\n')[0]] }",
        vec![Value::Reference(cb.into_reference())],
        &EvalOptions::copy(),
    )?;
    let Value::Array(items) = v else {
        return Err(format!("expected an array, got {v:?}").into());
    };
    ensure_eq!(items.first(), Some(&Value::from("huge")));
    let len = items.get(1).and_then(Value::as_f64).unwrap_or(f64::MAX);
    ensure!(len > 0.0 && len < 64.0 * 1024.0, "stack length {len}");
    ensure_eq!(items.get(2), Some(&Value::from("Error: huge")));
    Ok(())
}

/// An error that ends a call: its stack starts with `Name: message`, then its frames.
fn stack_header_host_view<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let cases = [
        (
            "function f() { throw new TypeError('boom') }\nf()",
            "TypeError: boom",
        ),
        (
            "function f() { throw new Error('two words') }\nf()",
            "Error: two words",
        ),
        ("function f() { throw new Error() }\nf()", "Error"),
        (
            "function f() { throw new RangeError('') }\nf()",
            "RangeError",
        ),
    ];
    for (code, header) in cases {
        let e = match c.eval(code, &copied("header.js")) {
            Err(Error::Js(e)) => e,
            other => return Err(format!("expected Error::Js from {code:?}, got {other:?}").into()),
        };
        let stack = e.stack.ok_or("no stack")?;
        let mut lines = stack.lines();
        ensure_eq!(lines.next(), Some(header));
        let frame = lines.next().unwrap_or_default();
        ensure!(
            frame.starts_with("    at ") && frame.contains("header.js"),
            "second line is not a frame: {stack}"
        );
    }
    Ok(())
}

/// Guest code reads the same first line from `e.stack`, also for an error of the engine's
/// own (whose message differs between engines) and a subclass naming itself.
fn stack_header_guest_view<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = eval(
        &c,
        "const first = (f) => { try { f() } catch (e) {
           return [e.stack.split('\\n')[0], e.name + ': ' + e.message] } };
         class Named extends Error {}
         Named.prototype.name = 'Named';
         [first(() => { throw new TypeError('boom') }),
          first(() => null.x),
          first(() => { throw new Named('mine') }),
          first(() => { throw new SyntaxError('s') })]",
    )?;
    let Value::Array(rows) = v else {
        return Err(format!("expected an array, got {v:?}").into());
    };
    ensure_eq!(rows.len(), 4);
    for row in &rows {
        let Value::Array(pair) = row else {
            return Err(format!("expected a pair, got {row:?}").into());
        };
        ensure!(
            pair.len() == 2 && pair[0] == pair[1],
            "header vs name/message: {pair:?}"
        );
    }
    ensure_eq!(
        rows[0],
        Value::from(vec!["TypeError: boom", "TypeError: boom"])
    );
    ensure_eq!(rows[2], Value::from(vec!["Named: mine", "Named: mine"]));
    Ok(())
}

/// The first line of a stack reads the error's `name` and `message`: a `name` getter that
/// reads the stack again (endless recursion), one that throws, and a huge message end as
/// JS errors or values, never more; the isolate stays usable.
fn hostile_header<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let cases = [
        "const e = new Error('x');
         Object.defineProperty(e, 'name', { get() { return this.stack } });
         String(e.stack).length > 0",
        "const e = new Error('x');
         Object.defineProperty(e, 'name', { get() { throw new Error('no name') } });
         try { String(e.stack).length > 0 } catch (t) { t instanceof Error }",
        "const e = new Error('y'.repeat(1 << 20)); e.stack.length >= 1 << 20",
    ];
    for code in cases {
        match c.eval(code, &EvalOptions::copy()) {
            Ok(Value::Bool(true)) | Err(Error::Js(_)) | Err(Error::StackOverflow) => {}
            other => return Err(format!("{code}: {other:?}").into()),
        }
    }
    // An error that ends the call with a throwing `name` getter still comes out typed.
    let r = c.eval(
        "const e = new TypeError('z');
         Object.defineProperty(e, 'name', { get() { throw 1 } }); throw e",
        &EvalOptions::copy(),
    );
    ensure!(matches!(r, Err(Error::Js(_))), "got {r:?}");
    ensure_eq!(eval(&c, "1 + 1")?, Value::from(2));
    Ok(())
}
