//! Structured clone with identity: shared references and cycles survive every copy
//! (results, arguments, external copies), numbered as `Value`'s docs say, and bad
//! back-references are typed errors.

use engine_api::{
    Backend, Context, Error, EvalOptions, ExternalCopy, TransferOptions, TypedArrayKind, Value,
};

use crate::support::{R, eval, expect_err, setup};
use crate::{Case, ensure, ensure_eq};

/// The clone identity cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new("clone_identity/shared_in_result", shared_in_result::<E>),
        Case::new("clone_identity/cycle_in_result", cycle_in_result::<E>),
        Case::new("clone_identity/arguments_keep_identity", arguments::<E>),
        Case::new("clone_identity/host_external_copy", host_external_copy::<E>),
        Case::new(
            "clone_identity/guest_external_copy",
            guest_external_copy::<E>,
        ),
        Case::new(
            "clone_identity/result_as_external_copy",
            result_external::<E>,
        ),
        Case::new(
            "clone_identity/maps_and_sets_hold_themselves",
            collections::<E>,
        ),
        Case::new(
            "clone_identity/typed_arrays_share_a_buffer",
            shared_buffer::<E>,
        ),
        Case::new("clone_identity/subarray_views_its_parent", subarray::<E>),
        Case::new("clone_identity/dag_bomb_is_cheap", dag_bomb::<E>),
        Case::new(
            "clone_identity/hostile_backrefs_refused",
            hostile_backrefs::<E>,
        ),
        Case::new("clone_identity/to_serde_expands_dags", to_serde::<E>),
    ]
}

fn obj(props: Vec<(&str, Value)>) -> Value {
    Value::object(props)
}

/// `{x: a, y: a, self: <the object>}` as the host builds it.
fn shared_and_cyclic() -> Value {
    obj(vec![
        ("x", obj(vec![("n", 1.into())])),
        ("y", Value::Backref(1)),
        ("self", Value::Backref(0)),
    ])
}

/// Guest code checking what `shared_and_cyclic` should be there.
const CHECK_SHARED_AND_CYCLIC: &str =
    "return [$0.x === $0.y, $0.self === $0, $0.x.n, Object.keys($0).join()]";

fn checked() -> Value {
    Value::Array(vec![true.into(), true.into(), 1.into(), "x,y,self".into()])
}

fn shared_in_result<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = eval(&c, "const a = { n: 1 }; ({ x: a, y: a })")?;
    ensure_eq!(
        v,
        obj(vec![
            ("x", obj(vec![("n", 1.into())])),
            ("y", Value::Backref(1))
        ])
    );
    // Deeper: the second meeting anywhere in the copy.
    let v = eval(&c, "{ const a = [1]; [[a], { k: a }, a] }")?;
    ensure_eq!(
        v,
        Value::Array(vec![
            Value::Array(vec![Value::Array(vec![1.into()])]),
            obj(vec![("k", Value::Backref(2))]),
            Value::Backref(2),
        ])
    );
    Ok(())
}

fn cycle_in_result<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = eval(&c, "const o = {}; o.self = o; o")?;
    ensure_eq!(v, obj(vec![("self", Value::Backref(0))]));
    let v = eval(&c, "{ const a = [1]; a.push(a); a }")?;
    ensure_eq!(v, Value::Array(vec![1.into(), Value::Backref(0)]));
    Ok(())
}

fn arguments<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let got = c.eval_closure(
        CHECK_SHARED_AND_CYCLIC,
        vec![shared_and_cyclic()],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(got, checked());
    // A copied result goes back in with its identity and comes out the same.
    let out = eval(&c, "{ const o = { a: [] }; o.b = o.a; o.o = o; o }")?;
    let back = c.eval_closure("return $0", vec![out.clone()], &EvalOptions::copy())?;
    ensure_eq!(back, out);
    Ok(())
}

fn host_external_copy<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let copy = ExternalCopy::new(shared_and_cyclic())?;
    ensure_eq!(copy.copy()?, shared_and_cyclic());
    let got = c.eval_closure(
        CHECK_SHARED_AND_CYCLIC,
        vec![copy.copy_into()?],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(got, checked());
    // Inside other data, its numbers are its own.
    let got = c.eval_closure(
        "const [a, c, b] = $0; return [a === b, c.self === c, c.x === c.y]",
        vec![Value::Array(vec![
            obj(vec![]),
            copy.copy_into()?,
            Value::Backref(1),
        ])],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(got, Value::from(vec![true, true, true]));
    // Through the guest's ivm.ExternalCopy handle.
    let got = c.eval_closure(
        "const v = $0.copy(); return [v.x === v.y, v.self === v]",
        vec![Value::ExternalCopy(copy)],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(got, Value::from(vec![true, true]));
    Ok(())
}

fn guest_external_copy<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let got = eval(
        &c,
        "const a = { n: 1 }; const o = { x: a, y: a }; o.self = o; \
         const v = new ivm.ExternalCopy(o).copy(); \
         [v !== o, v.x === v.y, v.self === v, v.x !== a, v.x.n]",
    )?;
    ensure_eq!(
        got,
        Value::Array(vec![
            true.into(),
            true.into(),
            true.into(),
            true.into(),
            1.into()
        ])
    );
    Ok(())
}

fn result_external<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let opts = EvalOptions {
        result: TransferOptions::external_copy(),
        ..Default::default()
    };
    let out = c.eval(
        "const a = { n: 1 }; const o = { x: a, y: a }; o.self = o; o",
        &opts,
    )?;
    let Value::ExternalCopy(copy) = out else {
        return Err(format!("expected an ExternalCopy, got {out:?}").into());
    };
    ensure_eq!(copy.copy()?, shared_and_cyclic());
    let (_j, d) = setup::<E>()?;
    let got = d.eval_closure(
        CHECK_SHARED_AND_CYCLIC,
        vec![copy.copy_into()?],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(got, checked());
    Ok(())
}

fn collections<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = eval(
        &c,
        "const m = new Map(); m.set(m, m); const s = new Set(); s.add(s); [m, s]",
    )?;
    ensure_eq!(
        v,
        Value::Array(vec![
            Value::Map(vec![(Value::Backref(1), Value::Backref(1))]),
            Value::Set(vec![Value::Backref(2)]),
        ])
    );
    let got = c.eval_closure(
        "const [m, s] = $0; return [m.get(m) === m, m.size, s.has(s), s.size]",
        vec![v],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(
        got,
        Value::Array(vec![true.into(), 1.into(), true.into(), 1.into()])
    );
    Ok(())
}

fn shared_buffer<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    // Numbers: the array 0, `u` 1, its buffer 2, `d` 3.
    let v = eval(
        &c,
        "const b = new ArrayBuffer(8); const u = new Uint8Array(b); u[5] = 9; \
         const d = new DataView(b, 4); [u, d, b]",
    )?;
    ensure_eq!(
        v,
        Value::Array(vec![
            Value::TypedArray {
                kind: TypedArrayKind::Uint8,
                bytes: vec![0, 0, 0, 0, 0, 9, 0, 0],
            },
            Value::TypedArrayView {
                kind: TypedArrayKind::DataView,
                buffer: 2,
                byte_offset: 4,
                byte_length: 4,
            },
            Value::Backref(2),
        ])
    );
    let got = c.eval_closure(
        "const [u, d, b] = $0; u[4] = 7; \
         return [u.buffer === d.buffer, b === u.buffer, d.getUint8(0), d.getUint8(1), d.byteOffset]",
        vec![v],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(
        got,
        Value::Array(vec![true.into(), true.into(), 7.into(), 9.into(), 4.into()])
    );
    // A buffer met first, then two views of different kinds over it.
    let v = eval(
        &c,
        "{ const b = new ArrayBuffer(8); [b, new Uint16Array(b, 2, 2), new Int8Array(b)] }",
    )?;
    ensure_eq!(
        v,
        Value::Array(vec![
            Value::ArrayBuffer(vec![0; 8]),
            Value::TypedArrayView {
                kind: TypedArrayKind::Uint16,
                buffer: 1,
                byte_offset: 2,
                byte_length: 4,
            },
            Value::TypedArrayView {
                kind: TypedArrayKind::Int8,
                buffer: 1,
                byte_offset: 0,
                byte_length: 8,
            },
        ])
    );
    Ok(())
}

fn subarray<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = eval(
        &c,
        "const u = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]); [u, u.subarray(2, 4)]",
    )?;
    ensure_eq!(
        v,
        Value::Array(vec![
            Value::TypedArray {
                kind: TypedArrayKind::Uint8,
                bytes: vec![1, 2, 3, 4, 5, 6, 7, 8],
            },
            Value::TypedArrayView {
                kind: TypedArrayKind::Uint8,
                buffer: 2,
                byte_offset: 2,
                byte_length: 2,
            },
        ])
    );
    // A part of a buffer met first copies only that part; a later view beyond it gets
    // bytes of its own (the sharing the first copy could not hold is not kept).
    let v = eval(
        &c,
        "{ const u = new Uint8Array([1, 2, 3, 4]); [u.subarray(0, 2), u] }",
    )?;
    ensure_eq!(
        v,
        Value::Array(vec![
            Value::TypedArray {
                kind: TypedArrayKind::Uint8,
                bytes: vec![1, 2],
            },
            Value::TypedArray {
                kind: TypedArrayKind::Uint8,
                bytes: vec![1, 2, 3, 4],
            },
        ])
    );
    Ok(())
}

/// `[a, a]` nested 22 times over `[1]`: 2^22 leaves, 23 arrays.
const DAG_BOMB: &str = "let a = [1]; for (let i = 0; i < 22; i++) a = [a, a]; a";

fn dag_bomb<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = eval(&c, DAG_BOMB)?;
    // Level d is array number d; its second item is its first.
    let mut expected = Value::Array(vec![1.into()]);
    for d in (0..22u32).rev() {
        expected = Value::Array(vec![expected, Value::Backref(d + 1)]);
    }
    ensure_eq!(v, expected);
    // Into the guest again as 23 arrays.
    let got = c.eval_closure(
        "let n = 0; let a = $0; while (a.length === 2) { if (a[0] !== a[1]) return -1; a = a[0]; n++ } return n",
        vec![v.clone()],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(got, Value::from(22));
    // A host consumer that expands it hits a typed limit.
    expect_err(
        v.to_serde::<serde_json::Value>(),
        "Deserialize (expansion limit)",
        |e| matches!(e, Error::Deserialize(_)),
    )?;
    Ok(())
}

fn hostile_backrefs<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let bad = [
        Value::Backref(99),
        Value::Array(vec![Value::Backref(1)]),
        Value::Array(vec![Value::Backref(u32::MAX)]),
        Value::Array(vec![Value::Backref(2), obj(vec![])]),
        // A view over an object that is not a buffer, and one past its buffer's end.
        Value::Array(vec![
            obj(vec![]),
            Value::TypedArrayView {
                kind: TypedArrayKind::Uint8,
                buffer: 1,
                byte_offset: 0,
                byte_length: 1,
            },
        ]),
        Value::Array(vec![
            Value::ArrayBuffer(vec![0; 4]),
            Value::TypedArrayView {
                kind: TypedArrayKind::Uint32,
                buffer: 1,
                byte_offset: 4,
                byte_length: 4,
            },
        ]),
        Value::Array(vec![
            Value::ArrayBuffer(vec![0; 4]),
            Value::TypedArrayView {
                kind: TypedArrayKind::Uint8,
                buffer: 1,
                byte_offset: usize::MAX,
                byte_length: 2,
            },
        ]),
    ];
    for v in bad {
        expect_err(
            c.eval_closure("return 1", vec![v.clone()], &EvalOptions::copy()),
            "InvalidArgument",
            |e| matches!(e, Error::InvalidArgument(_)),
        )?;
        expect_err(ExternalCopy::new(v.clone()), "InvalidArgument", |e| {
            matches!(e, Error::InvalidArgument(_))
        })?;
        ensure!(v.check_backrefs().is_err(), "{v:?} passed the check");
    }
    // The isolate is still fine.
    ensure_eq!(eval(&c, "1 + 1")?, Value::from(2));
    Ok(())
}

fn to_serde<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = eval(&c, "const a = { n: 1 }; ({ x: a, y: [a] })")?;
    ensure!(v.has_backrefs());
    let json: serde_json::Value = v.to_serde()?;
    ensure_eq!(
        json,
        serde_json::json!({ "x": { "n": 1 }, "y": [{ "n": 1 }] })
    );
    ensure_eq!(serde_json::to_value(&v).map_err(|e| e.to_string())?, json);
    let cyclic = eval(&c, "{ const o = {}; o.self = o; o }")?;
    expect_err(
        cyclic.to_serde::<serde_json::Value>(),
        "Deserialize (a cycle)",
        |e| matches!(e, Error::Deserialize(_)),
    )?;
    ensure!(serde_json::to_string(&cyclic).is_err());
    Ok(())
}
