//! serde straight between Rust types and `Value`: nothing is rounded or reshaped silently.

use std::collections::{BTreeMap, HashMap};

use engine_api::{Error, ExternalCopy, TypedArrayKind, Value};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq)]
enum Shape {
    Unit,
    New(u8),
    Tuple(u8, bool),
    Struct { z: i64, a: Option<String> },
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Doc {
    shapes: Vec<Shape>,
    by_id: BTreeMap<u32, f64>,
    names: HashMap<String, (u8, char)>,
    big: u64,
    small: i64,
    huge: u128,
    neg: i128,
    nothing: Option<bool>,
    unit: (),
}

fn doc() -> Doc {
    Doc {
        shapes: vec![
            Shape::Unit,
            Shape::New(1),
            Shape::Tuple(2, true),
            Shape::Struct {
                z: -3,
                a: Some("x".into()),
            },
        ],
        by_id: [(7, 0.5), (8, -1.0)].into_iter().collect(),
        names: [("a".to_owned(), (1, 'é'))].into_iter().collect(),
        big: u64::MAX,
        small: i64::MIN,
        huge: u128::MAX,
        neg: i128::MIN,
        nothing: None,
        unit: (),
    }
}

#[test]
fn rust_values_round_trip_exactly() {
    let v = Value::from_serde(&doc()).unwrap();
    assert_eq!(v.get("big"), Some(&Value::BigInt(u64::MAX.to_string())));
    assert_eq!(v.get("small"), Some(&Value::BigInt(i64::MIN.to_string())));
    assert_eq!(v.to_serde::<Doc>().unwrap(), doc());
    // Through an external copy too (the same code).
    let copy = ExternalCopy::from_serde(&doc()).unwrap();
    assert_eq!(copy.to_serde::<Doc>().unwrap(), doc());
    // Integers a number holds exactly stay numbers.
    assert_eq!(
        Value::from_serde(&(1u64 << 53)).unwrap(),
        Value::from(9007199254740992.0)
    );
    assert_eq!(
        Value::from_serde(&((1u64 << 53) + 1)).unwrap(),
        Value::BigInt("9007199254740993".into())
    );
}

#[test]
fn lossy_reads_fail_instead_of_rounding() {
    for (v, what) in [
        (Value::from(1.5), "fraction"),
        (Value::from(-1), "negative"),
        (Value::from(1e20), "too big"),
        (
            Value::BigInt("18446744073709551616".into()),
            "bigint too big",
        ),
        (Value::from("1"), "string"),
    ] {
        let e = v.to_serde::<u64>().unwrap_err();
        assert!(matches!(e, Error::Deserialize(_)), "{what}: {e:?}");
    }
    // Exact big numbers read exactly.
    assert_eq!(
        Value::from(1e19).to_serde::<u64>().unwrap(),
        10_000_000_000_000_000_000
    );
    assert_eq!(
        Value::BigInt("-170141183460469231731687303715884105728".into())
            .to_serde::<i128>()
            .unwrap(),
        i128::MIN
    );
    // Handles are not data.
    let cb = Value::Callback(engine_api::Callback::wrap(|| ()));
    assert!(matches!(
        cb.to_serde::<serde_json::Value>(),
        Err(Error::NotTransferable(_))
    ));
}

#[test]
fn js_only_kinds_read_as_their_closest_rust_forms() {
    #[derive(Deserialize, Debug, PartialEq)]
    struct Seen {
        at: String,
        ms: f64,
        counts: HashMap<String, u32>,
        pairs: Vec<(u32, String)>,
        bytes: Vec<u8>,
        floats: Vec<f32>,
        err: HashMap<String, String>,
    }
    let v = Value::object([
        ("at", Value::Date(1_704_164_645_678.0)),
        ("ms", Value::Date(5.0)),
        (
            "counts",
            Value::Map(vec![("a".into(), 1.into()), ("b".into(), 2.into())]),
        ),
        ("pairs", Value::Map(vec![(1.into(), "one".into())])),
        ("bytes", Value::ArrayBuffer(vec![1, 2, 3])),
        (
            "floats",
            Value::TypedArray {
                kind: TypedArrayKind::Float32,
                bytes: [0.5f32.to_le_bytes(), 2.0f32.to_le_bytes()].concat(),
            },
        ),
        (
            "err",
            Value::Error(engine_api::ErrorValue {
                name: "TypeError".into(),
                message: "bad".into(),
                stack: None,
            }),
        ),
    ]);
    let seen: Seen = v.to_serde().unwrap();
    assert_eq!(seen.at, "2024-01-02T03:04:05.678Z");
    assert_eq!(seen.ms, 5.0);
    assert_eq!(seen.counts["b"], 2);
    assert_eq!(seen.pairs, vec![(1, "one".to_owned())]);
    assert_eq!(seen.bytes, vec![1, 2, 3]);
    assert_eq!(seen.floats, vec![0.5, 2.0]);
    assert_eq!(seen.err["name"], "TypeError");
    // Self-describing targets see the same shapes (as JSON.stringify writes a Date).
    let json: serde_json::Value = v.to_serde().unwrap();
    assert_eq!(json["at"], "2024-01-02T03:04:05.678Z");
    assert_eq!(json["counts"], serde_json::json!({"a": 1, "b": 2}));
    assert_eq!(serde_json::to_value(&v).unwrap()["counts"], json["counts"]);
    assert_eq!(serde_json::to_value(&v).unwrap()["at"], json["at"]);
}
