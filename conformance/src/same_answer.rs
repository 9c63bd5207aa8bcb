//! One value model: for every kind of value, two backends give the same answer, both
//! copying a guest value out (the same `Value`, or the same error variant) and taking a
//! host value in (the guest sees the same thing).

use engine_api::{
    Backend, Context, Error, ErrorValue, EvalOptions, TransferOptions, TypedArrayKind, Value,
};

use crate::Case;
use crate::support::{Failure, R, setup};

/// Guest expressions, one per kind of value (and the edge cases of each).
const OUT: &[(&str, &str)] = &[
    ("undefined", "undefined"),
    ("null", "null"),
    ("bool", "true"),
    ("number", "1.5"),
    ("negative_zero", "-0"),
    ("nan", "NaN"),
    ("infinity", "-Infinity"),
    ("unsafe_integer", "2 ** 53 + 2"),
    ("bigint", "-(2n ** 100n)"),
    ("string", "'héllo \\u{1F600}'"),
    ("lone_surrogate", "'a\\uD800b'"),
    ("empty_string", "''"),
    ("array", "[1, 'a', null, [2]]"),
    ("array_with_holes", "[1, , 3]"),
    (
        "array_extra_property",
        "Object.assign([1, 2], { extra: true })",
    ),
    ("object", "({ a: 1, b: { c: [2] } })"),
    (
        "null_prototype_object",
        "Object.assign(Object.create(null), { k: 'v' })",
    ),
    (
        "class_instance",
        "new (class Point { constructor() { this.x = 1 } })()",
    ),
    ("integer_keys_order", "({ b: 1, 2: 'two', a: 3, 1: 'one' })"),
    ("symbol_keyed_property", "({ [Symbol('s')]: 1, a: 2 })"),
    (
        "non_enumerable_property",
        "Object.defineProperty({ a: 1 }, 'hidden', { value: 2 })",
    ),
    ("getter_property", "({ get x() { return 7 } })"),
    ("map", "new Map([[1, { a: 2 }], ['k', [3]]])"),
    ("set", "new Set([1, '1', 1])"),
    ("date", "new Date(86400000)"),
    ("invalid_date", "new Date(NaN)"),
    ("regexp", "/a+b/giu"),
    ("error", "new Error('m')"),
    ("type_error", "new TypeError('t')"),
    ("range_error", "new RangeError('r')"),
    ("syntax_error", "new SyntaxError('s')"),
    (
        "error_with_extra_property",
        "Object.assign(new Error('x'), { code: 7 })",
    ),
    (
        "aggregate_error",
        "new AggregateError([new Error('a')], 'agg')",
    ),
    (
        "custom_error_name",
        "Object.assign(new Error('c'), { name: 'MyError' })",
    ),
    ("array_buffer", "new Uint8Array([1, 2, 3]).buffer"),
    ("empty_array_buffer", "new ArrayBuffer(0)"),
    ("int8_array", "new Int8Array([-1, 2])"),
    ("uint8_array", "new Uint8Array([1, 255])"),
    ("uint8_clamped_array", "new Uint8ClampedArray([300])"),
    ("int16_array", "new Int16Array([-2])"),
    ("uint16_array", "new Uint16Array([65535])"),
    ("int32_array", "new Int32Array([-3])"),
    ("uint32_array", "new Uint32Array([4294967295])"),
    ("float32_array", "new Float32Array([0.5])"),
    ("float64_array", "new Float64Array([0.25])"),
    ("bigint64_array", "new BigInt64Array([-1n])"),
    ("biguint64_array", "new BigUint64Array([1n])"),
    ("float16_array", "new Float16Array([1.5])"),
    (
        "typed_array_view_window",
        "new Uint8Array(new Uint8Array([0, 1, 2, 3, 4]).buffer, 1, 3)",
    ),
    ("data_view", "new DataView(new Uint8Array([9, 8]).buffer)"),
    ("boxed_number", "new Number(3)"),
    ("boxed_string", "new String('s')"),
    ("boxed_boolean", "new Boolean(false)"),
    (
        "arguments_object",
        "(function () { return arguments })(1, 2)",
    ),
    (
        "nested_mixed",
        "({ m: new Map([['d', new Date(5)]]), s: new Set([[1n]]), e: [new RangeError('x')] })",
    ),
    (
        "shared_subobject",
        "(() => { const s = { v: 1 }; return [s, s] })()",
    ),
    ("cycle", "(() => { const a = {}; a.self = a; return a })()"),
    ("function", "(function named() {})"),
    ("arrow_function", "() => 1"),
    ("symbol", "Symbol('s')"),
    ("object_with_function", "({ f() {} })"),
    ("proxy", "new Proxy({ a: 1 }, {})"),
    ("weak_map", "new WeakMap()"),
    ("weak_ref", "new WeakRef({})"),
    ("promise_without_promise_option", "Promise.resolve(1)"),
    ("generator", "(function* () {})()"),
];

/// Host values, one per kind, handed into the guest.
fn values_in() -> Vec<(&'static str, Value)> {
    vec![
        ("undefined", Value::Undefined),
        ("null", Value::Null),
        ("bool", Value::Bool(false)),
        ("number", Value::Number(-2.5)),
        ("negative_zero", Value::Number(-0.0)),
        ("nan", Value::Number(f64::NAN)),
        (
            "bigint",
            Value::BigInt("-123456789012345678901234567890".into()),
        ),
        ("string", Value::from("héllo \u{1F600}")),
        ("array", Value::from(vec![Value::from(1), Value::Null])),
        (
            "object",
            Value::object([("a", Value::from(1)), ("b", Value::from("x"))]),
        ),
        (
            "map",
            Value::Map(vec![
                (Value::from(1), Value::from("one")),
                (Value::from("k"), Value::Null),
            ]),
        ),
        ("set", Value::Set(vec![Value::from(1), Value::from("1")])),
        ("date", Value::Date(86_400_000.0)),
        ("invalid_date", Value::Date(f64::NAN)),
        (
            "regexp",
            Value::RegExp {
                source: "a+b".into(),
                flags: "gi".into(),
            },
        ),
        (
            "error",
            Value::Error(ErrorValue {
                name: "TypeError".into(),
                message: "t".into(),
                ..Default::default()
            }),
        ),
        (
            "custom_error_name",
            Value::Error(ErrorValue {
                name: "MyError".into(),
                message: "c".into(),
                ..Default::default()
            }),
        ),
        ("array_buffer", Value::ArrayBuffer(vec![1, 2, 3])),
        (
            "uint8_array",
            Value::TypedArray {
                kind: TypedArrayKind::Uint8,
                bytes: vec![1, 255],
            },
        ),
        (
            "int16_array",
            Value::TypedArray {
                kind: TypedArrayKind::Int16,
                bytes: (-2i16).to_le_bytes().to_vec(),
            },
        ),
        (
            "float64_array",
            Value::TypedArray {
                kind: TypedArrayKind::Float64,
                bytes: 0.25f64.to_le_bytes().to_vec(),
            },
        ),
        (
            "bigint64_array",
            Value::TypedArray {
                kind: TypedArrayKind::BigInt64,
                bytes: (-1i64).to_le_bytes().to_vec(),
            },
        ),
        (
            "data_view",
            Value::TypedArray {
                kind: TypedArrayKind::DataView,
                bytes: vec![9, 8],
            },
        ),
        (
            "nested_mixed",
            Value::object([
                ("m", Value::Map(vec![(Value::from("d"), Value::Date(5.0))])),
                ("s", Value::Set(vec![Value::BigInt("1".into())])),
            ]),
        ),
    ]
}

/// What the guest sees of a value handed in, as one string computed by the same JS on
/// every backend.
const DESCRIBE: &str = r#"
const seen = new Set();
const show = (v) => {
  const t = typeof v;
  if (t === 'bigint') return `${v}n`;
  if (t === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (t === 'string') return JSON.stringify(v);
  if (v === null || t !== 'object') return String(v);
  if (seen.has(v)) return '<seen>';
  seen.add(v);
  const tag = Object.prototype.toString.call(v);
  if (v instanceof Map) return `${tag}{${[...v].map(([k, x]) => `${show(k)}=>${show(x)}`).join(',')}}`;
  if (v instanceof Set) return `${tag}{${[...v].map(show).join(',')}}`;
  if (v instanceof Date) return `${tag}(${v.getTime()})`;
  if (v instanceof RegExp) return `${tag}(${v.source}/${v.flags})`;
  if (v instanceof Error) return `${tag}(${v.name}:${v.message}:${v instanceof TypeError})`;
  if (v instanceof ArrayBuffer) return `${tag}[${[...new Uint8Array(v)]}]`;
  if (ArrayBuffer.isView(v)) return `${tag}[${[...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)]}]`;
  if (Array.isArray(v)) return `${tag}[${v.map(show).join(',')}]`;
  return `${tag}{${Object.keys(v).map((k) => `${k}:${show(v[k])}`).join(',')}}`;
};
return show($0);
"#;

/// The same-answer cases between backends `A` and `B`.
pub fn cases<A: Backend, B: Backend>() -> Vec<Case> {
    let mut out = Vec::new();
    for &(name, code) in OUT {
        out.push(Case::with(format!("value_out/{name}"), move || {
            out_case::<A, B>(code)
        }));
    }
    for (name, value) in values_in() {
        out.push(Case::with(format!("value_in/{name}"), move || {
            in_case::<A, B>(value.clone())
        }));
    }
    out
}

/// The outcome, comparable across backends: the value, or the error's variant (and a JS
/// error's name).
#[derive(Debug, PartialEq)]
enum Answer {
    Value(Value),
    Error(String),
}

fn answer(result: engine_api::Result<Value>) -> Answer {
    match result {
        Ok(v) => Answer::Value(v),
        Err(Error::Js(j)) => Answer::Error(format!("Js({})", j.name)),
        Err(e) => {
            let debug = format!("{e:?}");
            let variant = debug.split(['(', ' ', '{']).next().unwrap_or_default();
            Answer::Error(variant.to_owned())
        }
    }
}

/// `Value` compares NaN as unequal to itself; two NaNs are the same answer here.
fn same(a: &Answer, b: &Answer) -> bool {
    match (a, b) {
        (Answer::Value(x), Answer::Value(y)) => same_value(x, y),
        _ => a == b,
    }
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        (Value::Date(x), Value::Date(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        (Value::Array(x), Value::Array(y)) | (Value::Set(x), Value::Set(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, a), (kb, b))| ka == kb && same_value(a, b))
        }
        // Stacks are each engine's own text; the error itself is its name and message.
        (Value::Error(x), Value::Error(y)) => x.name == y.name && x.message == y.message,
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, a), (kb, b))| same_value(ka, kb) && same_value(a, b))
        }
        _ => a == b,
    }
}

fn out_case<A: Backend, B: Backend>(code: &str) -> R {
    let (_ia, ca) = setup::<A>()?;
    let (_ib, cb) = setup::<B>()?;
    let opts = EvalOptions::copy();
    let a = answer(ca.eval(code, &opts));
    let b = answer(cb.eval(code, &opts));
    if !same(&a, &b) {
        return Err(Failure(format!(
            "{code}: {} gives {a:?}, {} gives {b:?}",
            A::NAME,
            B::NAME
        )));
    }
    Ok(())
}

fn in_case<A: Backend, B: Backend>(value: Value) -> R {
    let (_ia, ca) = setup::<A>()?;
    let (_ib, cb) = setup::<B>()?;
    let opts = EvalOptions::copy();
    let seen_a = answer(ca.eval_closure(DESCRIBE, vec![value.clone()], &opts));
    let seen_b = answer(cb.eval_closure(DESCRIBE, vec![value.clone()], &opts));
    if !same(&seen_a, &seen_b) {
        return Err(Failure(format!(
            "{value:?} seen in {} as {seen_a:?}, in {} as {seen_b:?}",
            A::NAME,
            B::NAME
        )));
    }
    // Back out again: the same value from both.
    let back = EvalOptions {
        result: TransferOptions::copy(),
        ..Default::default()
    };
    let out_a = answer(ca.eval_closure("return $0", vec![value.clone()], &back));
    let out_b = answer(cb.eval_closure("return $0", vec![value], &back));
    if !same(&out_a, &out_b) {
        return Err(Failure(format!(
            "round trip: {} gives {out_a:?}, {} gives {out_b:?}",
            A::NAME,
            B::NAME
        )));
    }
    Ok(())
}
