//! ExternalCopy: data outside every isolate, serde in and out, copied into isolates.

use engine_api::{Backend, Context, Error, EvalOptions, ExternalCopy, TransferOptions, Value};

use crate::support::{R, expect_err, setup};
use crate::{Case, ensure, ensure_eq};

/// The ExternalCopy cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new("external_copy/copy_into_isolate", copy_into_isolate::<E>),
        Case::new("external_copy/between_isolates", between_isolates::<E>),
        Case::new("external_copy/serde_roundtrip", serde_roundtrip::<E>),
        Case::new(
            "external_copy/result_as_external_copy",
            result_as_external_copy::<E>,
        ),
        Case::new("external_copy/released_copy_into", released_copy_into::<E>),
        Case::new(
            "external_copy/total_external_size",
            total_external_size::<E>,
        ),
        Case::new("external_copy/guest_object_copy", guest_object_copy::<E>),
        Case::new("external_copy/guest_creates_copy", guest_creates_copy::<E>),
    ]
}

fn copy_into_isolate<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let data = ExternalCopy::new(Value::object([("list", Value::from(vec![1, 2, 3]))]))?;
    let v = c.eval_closure(
        "$0.list.push(4); return $0.list.length",
        vec![data.copy_into()?],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from(4));
    let kept = data.copy()?;
    ensure_eq!(kept.get("list"), Some(&Value::from(vec![1, 2, 3])));
    Ok(())
}

fn between_isolates<E: Backend>() -> R {
    let (_a, ca) = setup::<E>()?;
    let (_b, cb) = setup::<E>()?;
    let opts = EvalOptions {
        result: TransferOptions::external_copy(),
        ..Default::default()
    };
    let out = ca.eval(
        "({ from: 'a', when: new Date(5), tags: new Set(['x']) })",
        &opts,
    )?;
    let copy = match out {
        Value::ExternalCopy(c) => c,
        other => return Err(format!("expected an ExternalCopy, got {other:?}").into()),
    };
    let v = cb.eval_closure(
        "return [$0.from, $0.when.getTime(), $0.tags.has('x')]",
        vec![copy.copy_into()?],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::Array(vec!["a".into(), 5.into(), true.into()]));
    Ok(())
}

#[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
struct Player {
    name: String,
    score: u32,
    items: Vec<String>,
}

fn serde_roundtrip<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let p = Player {
        name: "ada".into(),
        score: 10,
        items: vec!["sword".into()],
    };
    let copy = ExternalCopy::from_serde(&p)?;
    let opts = EvalOptions {
        result: TransferOptions::external_copy(),
        ..Default::default()
    };
    let out = c.eval_closure(
        "const p = $0; p.score += 5; p.items.push('shield'); return p",
        vec![copy.copy_into()?],
        &opts,
    )?;
    let Value::ExternalCopy(out) = out else {
        return Err(format!("expected an ExternalCopy, got {out:?}").into());
    };
    let back: Player = out.to_serde()?;
    ensure_eq!(
        back,
        Player {
            name: "ada".into(),
            score: 15,
            items: vec!["sword".into(), "shield".into()]
        }
    );
    Ok(())
}

fn result_as_external_copy<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let opts = EvalOptions {
        result: TransferOptions::external_copy(),
        ..Default::default()
    };
    let out = c.eval("[1, 'two']", &opts)?;
    let Value::ExternalCopy(copy) = out else {
        return Err("expected an ExternalCopy".to_string().into());
    };
    ensure_eq!(copy.copy()?, Value::Array(vec![1.into(), "two".into()]));
    expect_err(c.eval("(() => 1)", &opts), "NotTransferable", |e| {
        matches!(e, Error::NotTransferable(_))
    })?;
    Ok(())
}

fn released_copy_into<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let data = ExternalCopy::new(Value::from(1))?;
    data.release();
    expect_err(data.copy_into(), "Released", |e| {
        matches!(e, Error::Released(_))
    })?;
    expect_err(data.copy(), "Released", |e| matches!(e, Error::Released(_)))?;
    ensure_eq!(crate::support::eval(&c, "1")?, Value::from(1));
    Ok(())
}

fn total_external_size<E: Backend>() -> R {
    let big = ExternalCopy::new(Value::ArrayBuffer(vec![7u8; 1 << 20]))?;
    ensure!(ExternalCopy::total_external_size() >= 1 << 20);
    ensure!(big.size() >= 1 << 20);
    let (_i, c) = setup::<E>()?;
    let n = c.eval_closure(
        "return $0.byteLength + new Uint8Array($0)[12345]",
        vec![big.copy_into()?],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(n, Value::from((1 << 20) + 7));
    Ok(())
}

fn guest_object_copy<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let data = ExternalCopy::new(Value::object([("v", Value::from("held outside"))]))?;
    let v = c.eval_closure(
        "const a = $0.copy(); const b = $0.copy(); a.v = 'changed'; return [a.v, b.v]",
        vec![Value::ExternalCopy(data)],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(
        v,
        Value::Array(vec!["changed".into(), "held outside".into()])
    );
    Ok(())
}

fn guest_creates_copy<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = c.eval(
        "const ec = new ivm.ExternalCopy({ list: [1, 2, 3] });\n\
         const a = ec.copy(); a.list.push(4);\n\
         [a.list.length, ec.copy().list.length]",
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from(vec![4, 3]));
    Ok(())
}
