//! Cases between two backends: data copied out of one isolate goes into an isolate of the
//! other, and a reference into one is called from the other.

use engine_api::{
    Backend, Context, EvalOptions, ExternalCopy, TransferOptions, TypedArrayKind, Value,
};

use crate::support::{R, setup};
use crate::{Case, ensure_eq};

/// Cases from backend `A` into backend `B`.
pub fn cases<A: Backend, B: Backend>() -> Vec<Case> {
    vec![
        Case::new("external_copy_roundtrip", copy_roundtrip::<A, B>),
        Case::new("reference_called_across_backends", reference_across::<A, B>),
        Case::new("records_across_backends", records_across::<A, B>),
    ]
}

fn copy_roundtrip<A: Backend, B: Backend>() -> R {
    let (_a, ca) = setup::<A>()?;
    let (_b, cb) = setup::<B>()?;
    let opts = EvalOptions {
        result: TransferOptions::external_copy(),
        ..Default::default()
    };
    let made = ca.eval(
        "({ m: new Map([['k', [1, 2]]]), d: new Date(7), b: new Uint16Array([1, 2]), e: new TypeError('t') })",
        &opts,
    )?;
    let Value::ExternalCopy(copy) = made else {
        return Err(format!("expected an ExternalCopy, got {made:?}").into());
    };
    let back = cb.eval_closure(
        "const v = $0; return { m: v.m, d: v.d, b: v.b, e: v.e, seen: [v.m.get('k').length, v.d.getTime(), v.b[1], v.e.name] }",
        vec![copy.copy_into()?],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(
        back.get("seen"),
        Some(&Value::Array(vec![
            2.into(),
            7.into(),
            2.into(),
            "TypeError".into()
        ]))
    );
    ensure_eq!(
        back.get("b"),
        Some(&Value::TypedArray {
            kind: TypedArrayKind::Uint16,
            bytes: vec![1, 0, 2, 0]
        })
    );
    let again = ExternalCopy::new(back)?;
    let v = ca.eval_closure(
        "return $0.seen[3]",
        vec![again.copy_into()?],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from("TypeError"));
    Ok(())
}

fn reference_across<A: Backend, B: Backend>() -> R {
    let (_a, ca) = setup::<A>()?;
    let (_b, cb) = setup::<B>()?;
    let opts = EvalOptions {
        result: TransferOptions::reference(),
        ..Default::default()
    };
    let f = ca.eval("(x) => 'from ' + x", &opts)?;
    let v = cb.eval_closure(
        "return $0.applySync(undefined, ['the other backend'])",
        vec![f],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from("from the other backend"));
    Ok(())
}

fn records_across<A: Backend, B: Backend>() -> R {
    let (_a, ca) = setup::<A>()?;
    let (_b, cb) = setup::<B>()?;
    let data = crate::cases::transfers::records(2_000);
    let out = ca.eval_closure(
        "return $0.map(r => ({ ...r, score: r.score * 2 }))",
        vec![data],
        &EvalOptions::copy(),
    )?;
    let v = cb.eval_closure(
        "return $0.reduce((s, r) => s + r.score, 0)",
        vec![out],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(
        v,
        Value::from((0..2000).map(|i| i as f64 * 3.0).sum::<f64>())
    );
    Ok(())
}
