//! `Context::eval` and `eval_closure`, written as data where possible.

use engine_api::{Backend, Context, EvalOptions, TransferOptions, Value};
use serde_json::json;

use crate::support::{R, eval, eval_json, setup};
use crate::{Case, ensure, ensure_eq};

/// `(name, code, expected result as JSON after a deep copy)`.
fn table() -> Vec<(&'static str, &'static str, serde_json::Value)> {
    vec![
        ("eval/number", "1 + 2", json!(3)),
        ("eval/float", "0.5 * 3", json!(1.5)),
        ("eval/string", "'a' + 'b'", json!("ab")),
        (
            "eval/unicode_string_utf16_length",
            "'héllo ✓ 😀'.length",
            json!(10),
        ),
        ("eval/bool", "3 > 2", json!(true)),
        ("eval/null", "null", json!(null)),
        ("eval/array", "[1, 'two', [3]]", json!([1, "two", [3]])),
        (
            "eval/object",
            "({ a: 1, b: { c: [true] } })",
            json!({"a": 1, "b": {"c": [true]}}),
        ),
        (
            "eval/completion_of_statements",
            "let x = 1; let y = 2; x + y",
            json!(3),
        ),
        (
            "eval/completion_of_if",
            "if (true) { 'yes' } else { 'no' }",
            json!("yes"),
        ),
        (
            "eval/completion_of_loop",
            "let s = 0; for (let i = 0; i < 10; i++) s += i; s",
            json!(45),
        ),
        (
            "eval/json_roundtrip",
            "JSON.parse('{\"k\":[1,2,{\"z\":null}]}')",
            json!({"k": [1, 2, {"z": null}]}),
        ),
        (
            "eval/class_and_closure",
            "class A { constructor(x) { this.x = x } get d() { return this.x * 2 } }; new A(21).d",
            json!(42),
        ),
        (
            "eval/generators",
            "function* g() { yield 1; yield 2; } [...g()]",
            json!([1, 2]),
        ),
        (
            "eval/destructuring_spread",
            "const {a, ...r} = {a: 1, b: 2, c: 3}; r",
            json!({"b": 2, "c": 3}),
        ),
        (
            "eval/optional_chaining",
            "const o = {}; [o?.x?.y, o.z ?? 'dflt']",
            json!([null, "dflt"]),
        ),
        (
            "eval/array_methods",
            "[5, 1, 4].sort((a, b) => a - b).map(x => x * 10)",
            json!([10, 40, 50]),
        ),
        (
            "eval/string_methods",
            "'a-b-c'.split('-').reverse().join('+')",
            json!("c+b+a"),
        ),
        (
            "eval/regexp_exec",
            "/(\\d+)-(\\d+)/.exec('10-20').slice(1)",
            json!(["10", "20"]),
        ),
        ("eval/math", "Math.max(1, 7, 3) + Math.floor(2.7)", json!(9)),
        (
            "eval/template_literal",
            "const n = 3; `n=${n}`",
            json!("n=3"),
        ),
        (
            "eval/symbol_description",
            "Symbol('s').description",
            json!("s"),
        ),
        (
            "eval/getter_object_copied_by_value",
            "({ get g() { return 5 } })",
            json!({"g": 5}),
        ),
        (
            "eval/typeof_globals",
            "[typeof Array, typeof Promise, typeof JSON]",
            json!(["function", "function", "object"]),
        ),
        (
            "eval/labelled_break",
            "let r = 0; outer: for (;;) { for (;;) { r = 7; break outer; } } r",
            json!(7),
        ),
        (
            "eval/exceptions_caught_inside",
            "let m; try { null.x } catch (e) { m = e.constructor.name } m",
            json!("TypeError"),
        ),
        (
            "eval/date_arith",
            "new Date(86400000).getTime() / 1000",
            json!(86400),
        ),
        (
            "eval/bigint_arith_as_string",
            "(2n ** 64n).toString()",
            json!("18446744073709551616"),
        ),
        (
            "eval/proxy",
            "new Proxy({}, { get: (_, k) => k + '!' }).hi",
            json!("hi!"),
        ),
        (
            "eval/map_iteration",
            "const m = new Map([[1, 'a'], [2, 'b']]); [...m.values()].join()",
            json!("a,b"),
        ),
    ]
}

/// The eval cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    let mut out: Vec<Case> = table()
        .into_iter()
        .map(|(name, code, expected)| {
            Case::with(name, move || {
                let (_i, c) = setup::<E>()?;
                eval_json(&c, code, expected.clone())
            })
        })
        .collect();
    out.extend([
        Case::new(
            "eval/default_transfer_object_is_undefined",
            default_transfer_object::<E>,
        ),
        Case::new(
            "eval/default_transfer_primitive",
            default_transfer_primitive::<E>,
        ),
        Case::new("eval/state_persists_between_evals", state_persists::<E>),
        Case::new("eval/reference_result", reference_result::<E>),
        Case::new("eval_closure/arguments", closure_arguments::<E>),
        Case::new("eval_closure/return", closure_return::<E>),
        Case::new("eval_closure/no_arguments", closure_no_args::<E>),
        Case::new("eval_closure/object_argument", closure_object_arg::<E>),
        Case::new("eval_closure/syntax_error", closure_syntax_error::<E>),
        Case::new("eval/large_string", large_string::<E>),
    ]);
    out
}

fn default_transfer_object<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = c.eval("({ a: 1 })", &EvalOptions::default())?;
    ensure_eq!(v, Value::Undefined);
    Ok(())
}

fn default_transfer_primitive<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    ensure_eq!(
        c.eval("'x'.repeat(3)", &EvalOptions::default())?,
        Value::from("xxx")
    );
    ensure_eq!(c.eval("40 + 2", &EvalOptions::default())?, Value::from(42));
    Ok(())
}

fn state_persists<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    eval(
        &c,
        "globalThis.counter = 1; var v = 10; function inc() { return ++counter }",
    )?;
    eval(&c, "inc(); inc()")?;
    ensure_eq!(eval(&c, "counter + v")?, Value::from(13));
    Ok(())
}

fn reference_result<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let opts = EvalOptions {
        result: TransferOptions::reference(),
        ..Default::default()
    };
    let v = c.eval("({ n: 5 })", &opts)?;
    let r = v
        .as_reference()
        .ok_or_else(|| format!("expected a reference, got {v:?}"))?;
    ensure_eq!(r.type_of()?, engine_api::TypeOf::Object);
    ensure_eq!(
        r.get("n".into(), &engine_api::PropertyOptions::default())?,
        Value::from(5)
    );
    Ok(())
}

fn closure_arguments<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = c.eval_closure(
        "return $0 + $1 * 2",
        vec![1.into(), 20.into()],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from(41));
    Ok(())
}

fn closure_return<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = c.eval_closure(
        "if ($0) { return 'early' } return 'late'",
        vec![true.into()],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from("early"));
    Ok(())
}

fn closure_no_args<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = c.eval_closure("return typeof $0", vec![], &EvalOptions::copy())?;
    ensure_eq!(v, Value::from("undefined"));
    Ok(())
}

fn closure_object_arg<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let arg = Value::object([("xs", Value::from(vec![1, 2, 3]))]);
    let v = c.eval_closure(
        "return $0.xs.reduce((a, b) => a + b, 0)",
        vec![arg],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from(6));
    Ok(())
}

fn closure_syntax_error<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = c.eval_closure("return (", vec![], &EvalOptions::copy());
    crate::support::expect_js(r, "SyntaxError")?;
    ensure_eq!(eval(&c, "1")?, Value::from(1));
    Ok(())
}

fn large_string<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let s = "ab".repeat(500_000);
    let v = c.eval_closure(
        "return $0.length",
        vec![s.clone().into()],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from(1_000_000));
    let back = c.eval_closure("return $0", vec![s.clone().into()], &EvalOptions::copy())?;
    ensure!(
        back.as_str() == Some(s.as_str()),
        "string did not round-trip"
    );
    Ok(())
}
