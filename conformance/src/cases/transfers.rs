//! Transfers of every value kind, both ways, and what is not transferable.

use engine_api::{
    Backend, Context, Error, ErrorValue, EvalOptions, SharedBuffer, TransferOptions,
    TypedArrayKind, Value,
};

use crate::support::{R, eval, expect_err, expect_js, setup};
use crate::{Case, ensure, ensure_eq};

/// The transfer cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    let mut out = vec![
        Case::new("transfers/map_out", map_out::<E>),
        Case::new("transfers/set_out", set_out::<E>),
        Case::new("transfers/date_out", date_out::<E>),
        Case::new("transfers/regexp_out", regexp_out::<E>),
        Case::new("transfers/error_out", error_out::<E>),
        Case::new("transfers/array_buffer_out", array_buffer_out::<E>),
        Case::new("transfers/bigint_both_ways", bigint::<E>),
        Case::new("transfers/special_numbers", special_numbers::<E>),
        Case::new("transfers/nested_mixed_roundtrip", nested_roundtrip::<E>),
        Case::new("transfers/values_in", values_in::<E>),
        Case::new("transfers/shared_array_buffer", shared_array_buffer::<E>),
        Case::new("transfers/cycle_copies_with_identity", cycle::<E>),
        Case::new("transfers/function_not_transferable", function::<E>),
        Case::new("transfers/symbol_not_transferable", symbol::<E>),
        Case::new("transfers/shared_subobject_copied", shared_subobject::<E>),
        Case::new("transfers/promise_resolved", promise_resolved::<E>),
        Case::new("transfers/promise_rejected", promise_rejected::<E>),
        Case::new("transfers/promise_chain", promise_chain::<E>),
        Case::new("transfers/json_like_10k_records", json_like_records::<E>),
        Case::new("transfers/deep_nesting", deep_nesting::<E>),
        Case::new("transfers/sparse_array", sparse_array::<E>),
        Case::new("transfers/too_deep_not_transferable", too_deep::<E>),
        Case::new(
            "transfers/throwing_getter_is_js_error",
            throwing_getter::<E>,
        ),
    ];
    for kind in [
        TypedArrayKind::Int8,
        TypedArrayKind::Uint8,
        TypedArrayKind::Uint8Clamped,
        TypedArrayKind::Int16,
        TypedArrayKind::Uint16,
        TypedArrayKind::Int32,
        TypedArrayKind::Uint32,
        TypedArrayKind::Float32,
        TypedArrayKind::Float64,
        TypedArrayKind::BigInt64,
        TypedArrayKind::BigUint64,
        TypedArrayKind::DataView,
    ] {
        out.push(Case::with(
            format!("transfers/typed_array/{}", kind.name()),
            move || typed_array::<E>(kind),
        ));
    }
    out
}

fn map_out<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = eval(&c, "new Map([['a', 1], [2, 'b']])")?;
    ensure_eq!(
        v,
        Value::Map(vec![("a".into(), 1.into()), (2.into(), "b".into())])
    );
    Ok(())
}

fn set_out<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    ensure_eq!(
        eval(&c, "new Set([3, 'x', 3])")?,
        Value::Set(vec![3.into(), "x".into()])
    );
    Ok(())
}

fn date_out<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    ensure_eq!(eval(&c, "new Date(1700000000000)")?, Value::Date(1.7e12));
    Ok(())
}

fn regexp_out<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = eval(&c, "/a+b/gi")?;
    let Value::RegExp { source, flags } = v else {
        return Err(format!("not a RegExp: {v:?}").into());
    };
    ensure_eq!(source, "a+b");
    ensure!(flags.contains('g') && flags.contains('i'), "flags {flags}");
    Ok(())
}

fn error_out<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = eval(&c, "new TypeError('bad type')")?;
    let Value::Error(ErrorValue { name, message, .. }) = v else {
        return Err(format!("not an Error: {v:?}").into());
    };
    ensure_eq!((name.as_str(), message.as_str()), ("TypeError", "bad type"));
    Ok(())
}

fn array_buffer_out<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = eval(
        &c,
        "const b = new ArrayBuffer(4); new Uint8Array(b).set([1, 2, 3, 4]); b",
    )?;
    ensure_eq!(v, Value::ArrayBuffer(vec![1, 2, 3, 4]));
    Ok(())
}

fn bigint<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    ensure_eq!(
        eval(&c, "-(2n ** 70n)")?,
        Value::BigInt("-1180591620717411303424".into())
    );
    let v = c.eval_closure(
        "return typeof $0 === 'bigint' && $0 === 12345678901234567890n",
        vec![Value::BigInt("12345678901234567890".into())],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from(true));
    Ok(())
}

fn special_numbers<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = eval(&c, "[NaN, Infinity, -Infinity, -0, 2 ** 53]")?;
    let xs = v.as_array().ok_or("not an array")?;
    ensure!(xs[0].as_f64().is_some_and(f64::is_nan));
    ensure_eq!(xs[1], Value::Number(f64::INFINITY));
    ensure_eq!(xs[2], Value::Number(f64::NEG_INFINITY));
    ensure!(
        xs[3]
            .as_f64()
            .is_some_and(|z| z == 0.0 && z.is_sign_negative()),
        "-0 lost"
    );
    ensure_eq!(xs[4], Value::Number(9007199254740992.0));
    Ok(())
}

fn nested_roundtrip<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let value = Value::object([
        (
            "m",
            Value::Map(vec![("k".into(), Value::Set(vec![1.into()]))]),
        ),
        ("d", Value::Date(0.0)),
        (
            "bytes",
            Value::TypedArray {
                kind: TypedArrayKind::Uint8,
                bytes: vec![9, 8],
            },
        ),
        (
            "list",
            Value::Array(vec![Value::Null, Value::Undefined, "s".into()]),
        ),
        (
            "err",
            Value::Error(ErrorValue {
                name: "RangeError".into(),
                message: "r".into(),
                stack: None,
            }),
        ),
    ]);
    let back = c.eval_closure("return $0", vec![value.clone()], &EvalOptions::copy())?;
    ensure_eq!(back, value);
    Ok(())
}

fn values_in<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = c.eval_closure(
        "return [$0 instanceof Map, $1 instanceof Set, $2 instanceof Date, $3 instanceof RegExp, \
         $4 instanceof Error, $5 instanceof ArrayBuffer, $6 instanceof Float64Array, $3.test('AAB')]",
        vec![
            Value::Map(vec![]),
            Value::Set(vec![]),
            Value::Date(1.0),
            Value::RegExp { source: "a+b".into(), flags: "i".into() },
            Value::Error(ErrorValue { name: "Error".into(), message: "m".into(), stack: None }),
            Value::ArrayBuffer(vec![0; 8]),
            Value::TypedArray { kind: TypedArrayKind::Float64, bytes: 1.5f64.to_le_bytes().to_vec() },
        ],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from(vec![true; 8]));
    Ok(())
}

fn shared_array_buffer<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let buf = SharedBuffer::from_bytes(&[1, 2, 3, 4]);
    let v = c.eval_closure(
        "const a = new Uint8Array($0); const sum = a.reduce((x, y) => x + y, 0); a[0] = 100; return sum",
        vec![Value::SharedArrayBuffer(buf.clone())],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from(10));
    let first = buf.to_vec()[0];
    if E::capabilities().shared_memory {
        ensure_eq!(first, 100u8);
    } else {
        ensure_eq!(first, 1u8);
    }
    Ok(())
}

fn cycle<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    // Structured clone keeps the cycle (was NotTransferable; see clone_identity).
    ensure_eq!(
        eval(&c, "const o = {}; o.self = o; o")?,
        Value::object([("self", Value::Backref(0))])
    );
    ensure_eq!(eval(&c, "1")?, Value::from(1));
    Ok(())
}

fn function<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    expect_err(
        c.eval("({ f: () => 1 })", &EvalOptions::copy()),
        "NotTransferable",
        |e| matches!(e, Error::NotTransferable(_)),
    )?;
    Ok(())
}

fn symbol<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    expect_err(
        c.eval("[Symbol('s')]", &EvalOptions::copy()),
        "NotTransferable",
        |e| matches!(e, Error::NotTransferable(_)),
    )?;
    Ok(())
}

fn shared_subobject<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = eval(&c, "const s = { n: 1 }; [s, s]")?;
    let obj = Value::object([("n", 1.into())]);
    // Copied once, then referred to (was two copies; see clone_identity).
    ensure_eq!(v, Value::Array(vec![obj.clone(), Value::Backref(1)]));
    ensure_eq!(v.expand_backrefs()?, Value::Array(vec![obj.clone(), obj]));
    Ok(())
}

fn with_promise() -> EvalOptions {
    EvalOptions {
        result: TransferOptions::copy().with_promise(),
        ..Default::default()
    }
}

fn promise_resolved<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    ensure_eq!(
        c.eval("Promise.resolve({ ok: 1 })", &with_promise())?,
        Value::object([("ok", 1.into())])
    );
    Ok(())
}

fn promise_rejected<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let e = expect_js(
        c.eval("Promise.reject(new RangeError('nope'))", &with_promise()),
        "RangeError",
    )?;
    ensure_eq!(e.message, "nope");
    Ok(())
}

fn promise_chain<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = c.eval(
        "(async () => { let s = 0; for (let i = 0; i < 5; i++) s += await Promise.resolve(i); return s })()",
        &with_promise(),
    )?;
    ensure_eq!(v, Value::from(10));
    Ok(())
}

/// A JSON-like object of 10,000 small records (about 570 KB), copied in and out.
pub fn records(n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|i| {
                Value::object([
                    ("id", Value::from(i)),
                    ("name", Value::from(format!("user-{i:05}"))),
                    ("active", Value::from(i % 2 == 0)),
                    ("score", Value::from(i as f64 * 1.5)),
                ])
            })
            .collect(),
    )
}

fn json_like_records<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let data = records(10_000);
    let v = c.eval_closure(
        "return $0.length + ':' + $0[9999].name + ':' + $0.filter(r => r.active).length",
        vec![data.clone()],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from("10000:user-09999:5000"));
    let back = c.eval_closure("return $0", vec![data.clone()], &EvalOptions::copy())?;
    ensure!(back == data, "10k records did not round-trip");
    Ok(())
}

fn deep_nesting<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = eval(
        &c,
        "let o = { leaf: true }; for (let i = 0; i < 200; i++) o = { o }; o",
    )?;
    let mut cur = &v;
    for _ in 0..200 {
        cur = cur.get("o").ok_or("nesting lost")?;
    }
    ensure_eq!(cur.get("leaf"), Some(&Value::from(true)));
    Ok(())
}

fn sparse_array<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let v = eval(&c, "const a = [1]; a[3] = 4; a")?;
    let xs = v.as_array().ok_or("not an array")?;
    ensure_eq!(xs.len(), 4);
    ensure_eq!(xs[3], Value::from(4));
    ensure!(
        xs[1].is_undefined(),
        "hole should read as undefined: {:?}",
        xs[1]
    );
    Ok(())
}

fn typed_array<E: Backend>(kind: TypedArrayKind) -> R {
    let (_i, c) = setup::<E>()?;
    let bytes: Vec<u8> = (1..=16).collect();
    let v = Value::TypedArray {
        kind,
        bytes: bytes.clone(),
    };
    let info = c.eval_closure(
        "return [$0.constructor.name, $0.byteLength]",
        vec![v.clone()],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(info, Value::Array(vec![kind.name().into(), 16.into()]));
    let back = c.eval_closure("return $0", vec![v.clone()], &EvalOptions::copy())?;
    ensure_eq!(back, v);
    Ok(())
}

fn too_deep<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    expect_err(
        c.eval(
            "let o = {}; for (let i = 0; i < 100000; i++) o = [o]; o",
            &EvalOptions::copy(),
        ),
        "NotTransferable",
        |e| matches!(e, Error::NotTransferable(_)),
    )?;
    let mut v = Value::Null;
    for _ in 0..100_000 {
        v = Value::Array(vec![v]);
    }
    let r = c.eval_closure("return 1", vec![v], &EvalOptions::copy());
    expect_err(r, "NotTransferable", |e| {
        matches!(e, Error::NotTransferable(_))
    })?;
    ensure_eq!(eval(&c, "2")?, Value::from(2));
    Ok(())
}

fn throwing_getter<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let e = expect_js(
        c.eval(
            "({ ok: 1, get bad() { throw new TypeError('from getter') } })",
            &EvalOptions::copy(),
        ),
        "TypeError",
    )?;
    ensure_eq!(e.message, "from getter");
    ensure_eq!(eval(&c, "'after'")?, Value::from("after"));
    Ok(())
}
