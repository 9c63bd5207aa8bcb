//! References: typeof, get/set/delete, apply, copy, derefInto, release, wrong isolate.

use engine_api::{
    ApplyOptions, Backend, Context, Error, EvalOptions, Isolate, PropertyOptions, Reference,
    TransferOptions, TypeOf, Value,
};

use crate::support::{R, eval, expect_err, expect_js, reference_to, setup};
use crate::{Case, ensure, ensure_eq};

/// The reference cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new("references/type_of_each_kind", type_of_each_kind::<E>),
        Case::new("references/get_primitive_by_value", get_primitive::<E>),
        Case::new(
            "references/get_object_is_reference",
            get_object_reference::<E>,
        ),
        Case::new("references/get_with_copy", get_with_copy::<E>),
        Case::new("references/set_and_delete", set_and_delete::<E>),
        Case::new("references/apply_function", apply_function::<E>),
        Case::new("references/apply_with_receiver", apply_with_receiver::<E>),
        Case::new("references/apply_throws", apply_throws::<E>),
        Case::new("references/apply_non_function", apply_non_function::<E>),
        Case::new(
            "references/apply_result_reference",
            apply_result_reference::<E>,
        ),
        Case::new("references/copy", copy::<E>),
        Case::new(
            "references/copy_function_not_transferable",
            copy_function::<E>,
        ),
        Case::new("references/deref_into_same_isolate", deref_into_same::<E>),
        Case::new("references/deref_into_other_isolate", deref_into_other::<E>),
        Case::new("references/release", release::<E>),
        Case::new("references/reference_count", reference_count::<E>),
        Case::new("references/reference_keeps_value_alive", keeps_alive::<E>),
        Case::new("references/async_forms", async_forms::<E>),
        Case::new("references/downcast_any", downcast_any::<E>),
    ]
}

fn type_of_each_kind<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    for (code, expected) in [
        ("undefined", TypeOf::Undefined),
        ("null", TypeOf::Null),
        ("true", TypeOf::Boolean),
        ("1.5", TypeOf::Number),
        ("10n", TypeOf::BigInt),
        ("'s'", TypeOf::String),
        ("({})", TypeOf::Object),
        ("[]", TypeOf::Object),
        ("(function () {})", TypeOf::Function),
        ("(class {})", TypeOf::Function),
    ] {
        let r = reference_to::<E>(&c, code)?;
        ensure_eq!((code, r.type_of()?), (code, expected));
    }
    let sym = reference_to::<E>(&c, "Symbol('x')")?.type_of()?;
    ensure!(
        matches!(sym, TypeOf::Symbol | TypeOf::Object),
        "symbol typeof {sym:?}"
    );
    Ok(())
}

fn get_primitive<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = reference_to::<E>(&c, "({ s: 'str', n: 1, b: false, u: undefined })")?;
    let d = TransferOptions::default();
    ensure_eq!(r.get("s".into(), &d)?, Value::from("str"));
    ensure_eq!(r.get("n".into(), &d)?, Value::from(1));
    ensure_eq!(r.get("b".into(), &d)?, Value::from(false));
    ensure_eq!(r.get("u".into(), &d)?, Value::Undefined);
    ensure_eq!(r.get("missing".into(), &d)?, Value::Undefined);
    Ok(())
}

fn get_object_reference<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = reference_to::<E>(&c, "({ inner: { deep: 3 } })")?;
    let inner = r.get("inner".into(), &TransferOptions::default())?;
    let inner = inner
        .as_reference()
        .ok_or("object property should come back as a reference")?;
    ensure_eq!(
        inner.get("deep".into(), &PropertyOptions::default())?,
        Value::from(3)
    );
    Ok(())
}

fn get_with_copy<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = reference_to::<E>(&c, "({ inner: { deep: [1, 2] } })")?;
    let v = r.get("inner".into(), &TransferOptions::copy())?;
    ensure_eq!(v, Value::object([("deep", Value::from(vec![1, 2]))]));
    let arr = reference_to::<E>(&c, "[10, 20, 30]")?;
    ensure_eq!(
        arr.get(1.into(), &TransferOptions::default())?,
        Value::from(20)
    );
    Ok(())
}

fn set_and_delete<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = reference_to::<E>(&c, "globalThis.target = {}; target")?;
    ensure!(r.set(
        "k".into(),
        Value::object([("x", 1.into())]),
        PropertyOptions::default()
    )?);
    ensure_eq!(eval(&c, "target.k.x")?, Value::from(1));
    ensure!(r.delete("k".into())?);
    ensure_eq!(eval(&c, "'k' in target")?, Value::from(false));
    let frozen = reference_to::<E>(&c, "Object.freeze({ f: 1 })")?;
    // Without accessors a write is CreateDataProperty-like: refused, it answers false.
    ensure_eq!(
        frozen.set("f".into(), 2.into(), PropertyOptions::default())?,
        false
    );
    // With accessors, like V8's Object::Set in sloppy mode, it may report true; either
    // way it must not fail and the value must not change.
    frozen.set("f".into(), 2.into(), PropertyOptions::accessors())?;
    ensure_eq!(
        frozen.get("f".into(), PropertyOptions::default())?,
        Value::from(1)
    );
    Ok(())
}

fn apply_function<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let f = reference_to::<E>(&c, "(a, b) => a * b")?;
    ensure_eq!(
        f.apply(
            Value::Undefined,
            vec![6.into(), 7.into()],
            &Default::default()
        )?,
        Value::from(42)
    );
    Ok(())
}

fn apply_with_receiver<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let f = reference_to::<E>(&c, "(function () { return this.v * 2 })")?;
    let recv = Value::object([("v", 21.into())]);
    ensure_eq!(f.apply(recv, vec![], &Default::default())?, Value::from(42));
    Ok(())
}

fn apply_throws<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let f = reference_to::<E>(&c, "() => { throw new SyntaxError('from fn') }")?;
    let e = expect_js(
        f.apply(Value::Undefined, vec![], &Default::default()),
        "SyntaxError",
    )?;
    ensure_eq!(e.message, "from fn");
    Ok(())
}

fn apply_non_function<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = reference_to::<E>(&c, "({})")?;
    let e = r.apply(Value::Undefined, vec![], &Default::default());
    ensure!(e.is_err(), "applying an object succeeded: {e:?}");
    Ok(())
}

fn apply_result_reference<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let f = reference_to::<E>(&c, "() => ({ made: true })")?;
    let v = f.apply(Value::Undefined, vec![], &Default::default())?;
    ensure!(
        v.as_reference().is_some(),
        "object result should be a reference: {v:?}"
    );
    let v = f.apply(Value::Undefined, vec![], &ApplyOptions::copy())?;
    ensure_eq!(v, Value::object([("made", true.into())]));
    Ok(())
}

fn copy<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = reference_to::<E>(&c, "({ list: [1, { x: 'y' }] })")?;
    let v = r.copy()?;
    ensure_eq!(
        v,
        Value::object([(
            "list",
            Value::Array(vec![1.into(), Value::object([("x", "y".into())])])
        )])
    );
    Ok(())
}

fn copy_function<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = reference_to::<E>(&c, "({ f() {} })")?;
    expect_err(r.copy(), "NotTransferable", |e| {
        matches!(e, Error::NotTransferable(_))
    })?;
    Ok(())
}

fn deref_into_same<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = reference_to::<E>(&c, "globalThis.orig = { id: 1 }; orig")?;
    let same = c.eval_closure(
        "return $0 === orig",
        vec![r.deref_into()],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(same, Value::from(true));
    Ok(())
}

fn deref_into_other<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let (_i2, c2) = setup::<E>()?;
    let r = reference_to::<E>(&c, "({ id: 1 })")?;
    expect_err(
        c2.eval_closure("return $0", vec![r.deref_into()], &EvalOptions::copy()),
        "WrongIsolate",
        |e| matches!(e, Error::WrongIsolate),
    )?;
    Ok(())
}

fn release<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = reference_to::<E>(&c, "({ a: 1 })")?;
    r.release();
    ensure!(r.is_released());
    expect_err(
        r.get("a".into(), PropertyOptions::default()),
        "Released",
        |e| matches!(e, Error::Released(_)),
    )?;
    expect_err(r.copy(), "Released", |e| matches!(e, Error::Released(_)))?;
    Ok(())
}

fn reference_count<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let before = i.reference_count();
    let refs: Vec<_> = (0..5)
        .map(|n| reference_to::<E>(&c, &format!("({{ n: {n} }})")))
        .collect::<Result<_, _>>()?;
    let during = i.reference_count();
    ensure!(during >= before + 5, "count {before} -> {during}");
    for r in &refs {
        r.release();
    }
    let after = i.reference_count();
    ensure!(
        after <= during - 5,
        "count after release {after}, during {during}"
    );
    Ok(())
}

fn keeps_alive<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = reference_to::<E>(&c, "({ payload: 'kept' })")?;
    eval(
        &c,
        "for (let i = 0; i < 2000; i++) { globalThis.junk = new Array(100).fill(i) }",
    )?;
    ensure_eq!(
        r.get("payload".into(), PropertyOptions::default())?,
        Value::from("kept")
    );
    Ok(())
}

fn async_forms<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let obj = reference_to::<E>(&c, "globalThis.o = { n: 1 }; o")?;
    obj.set_ignored("n".into(), 2.into(), PropertyOptions::default());
    ensure_eq!(
        pollster::block_on(obj.get_async("n".into(), PropertyOptions::default()))?,
        Value::from(2)
    );
    ensure!(pollster::block_on(obj.set_async(
        "m".into(),
        3.into(),
        PropertyOptions::default()
    ))?);
    ensure!(pollster::block_on(obj.delete_async("m".into()))?);
    let f = reference_to::<E>(&c, "(x) => x + 1")?;
    ensure_eq!(
        pollster::block_on(f.apply_async(Value::Undefined, vec![1.into()], Default::default()))?,
        Value::from(2)
    );
    ensure_eq!(
        pollster::block_on(obj.copy_async())?,
        Value::object([("n", 2.into())])
    );
    Ok(())
}

fn downcast_any<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = reference_to::<E>(&c, "({ z: 26 })")?;
    let any = r.to_any();
    ensure!(<E::Reference as engine_api::Reference>::from_any(&any).is_some());
    ensure_eq!(any.get("z".into(), &Default::default())?, Value::from(26));
    ensure_eq!(any.isolate_id(), Some(r.isolate().id()));
    Ok(())
}
