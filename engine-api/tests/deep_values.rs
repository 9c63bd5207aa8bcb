//! Host data nested far deeper than the native stack allows is refused with a typed error
//! at every engine-api entry point that takes it, never by crashing the process.

use engine_api::{Error, ExternalCopy, MAX_TRANSFER_DEPTH, Value, drop_values};
use serde::ser::{SerializeMap, SerializeSeq};

const DEEP: usize = 1_000_000;

fn nested(depth: usize, wrap: impl Fn(Value) -> Value) -> Value {
    let mut v = Value::Null;
    for _ in 0..depth {
        v = wrap(v);
    }
    v
}

fn array(v: Value) -> Value {
    Value::Array(vec![v])
}
fn object(v: Value) -> Value {
    Value::Object(vec![("k".into(), v)])
}
fn map(v: Value) -> Value {
    Value::Map(vec![(Value::from(1), v)])
}
fn set(v: Value) -> Value {
    Value::Set(vec![v])
}

fn not_transferable<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Err(Error::NotTransferable(why)) => why,
        other => panic!("expected NotTransferable, got {other:?}"),
    }
}

#[test]
fn external_copy_refuses_a_million_levels_of_each_container() {
    for wrap in [array, object, map, set] {
        let why = not_transferable(ExternalCopy::new(nested(DEEP, wrap)));
        assert!(why.contains("nested deeper"), "{why}");
    }
}

#[test]
fn external_copy_takes_exactly_the_limit_and_refuses_one_more() {
    for wrap in [array, object, map, set] {
        let copy = ExternalCopy::new(nested(MAX_TRANSFER_DEPTH, wrap)).unwrap();
        // Everything downstream that recurses now stays within the stack.
        let cloned = copy.copy().unwrap();
        assert_eq!(&cloned, copy.value().unwrap());
        let json = serde_json::to_string(copy.value().unwrap()).unwrap();
        assert!(json.len() > MAX_TRANSFER_DEPTH);
        drop_values([cloned]);
        not_transferable(ExternalCopy::new(nested(MAX_TRANSFER_DEPTH + 1, wrap)));
    }
}

#[test]
fn copies_nested_in_copies_count_their_own_depth() {
    let inner = ExternalCopy::new(nested(MAX_TRANSFER_DEPTH - 10, array)).unwrap();
    // 10 levels around it fit, 11 do not (copy_into and serde walk through the copy).
    let fits = nested(10, array);
    let fits = replace_innermost(fits, Value::CopyInto(inner.clone()));
    let outer = ExternalCopy::new(fits).unwrap();
    assert!(serde_json::to_string(outer.value().unwrap()).is_ok());
    let too_deep = replace_innermost(nested(11, array), Value::ExternalCopy(inner.clone()));
    not_transferable(ExternalCopy::new(too_deep));
    // A chain of copies each one level deep cannot grow without bound either.
    let mut chain = ExternalCopy::new(Value::Null).unwrap();
    let mut refused = None;
    for level in 0..10 * MAX_TRANSFER_DEPTH {
        match ExternalCopy::new(Value::Array(vec![Value::CopyInto(chain.clone())])) {
            Ok(next) => chain = next,
            Err(e) => {
                refused = Some((level, e));
                break;
            }
        }
    }
    let (level, e) = refused.expect("a chain of copies was refused at some depth");
    assert_eq!(level, MAX_TRANSFER_DEPTH);
    assert!(matches!(e, Error::NotTransferable(_)));
}

/// `v` with its innermost `Null` replaced by `with`.
fn replace_innermost(mut v: Value, with: Value) -> Value {
    let mut slot = &mut v;
    while let Value::Array(items) = slot {
        slot = &mut items[0];
    }
    *slot = with;
    v
}

/// Drops a `serde_json::Value` without recursion (its own drop recurses).
fn drop_json(v: serde_json::Value) {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::Array(items) => stack.extend(items),
            serde_json::Value::Object(props) => stack.extend(props.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

fn deep_json(depth: usize, object: bool) -> serde_json::Value {
    let mut v = serde_json::Value::Null;
    for _ in 0..depth {
        v = if object {
            let mut m = serde_json::Map::new();
            m.insert("k".into(), v);
            serde_json::Value::Object(m)
        } else {
            serde_json::Value::Array(vec![v])
        };
    }
    v
}

#[test]
fn from_serde_refuses_a_million_levels_of_json() {
    for object in [false, true] {
        let json = deep_json(DEEP, object);
        let why = not_transferable(ExternalCopy::from_serde(&json));
        assert!(why.contains("nested deeper"), "{why}");
        drop_json(json);
    }
    let json = deep_json(MAX_TRANSFER_DEPTH, false);
    let copy = ExternalCopy::from_serde(&json).unwrap();
    assert_eq!(copy.to_serde::<serde_json::Value>().unwrap(), json);
    drop_json(json);
}

/// A value that nests without end, and costs no memory: `[[[[...`.
struct Endless;

impl serde::Serialize for Endless {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(1))?;
        seq.serialize_element(&Endless)?;
        seq.end()
    }
}

/// `{"a": {"a": ...`, through a map with `Option` values.
struct EndlessMap;

impl serde::Serialize for EndlessMap {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry("a", &Some(EndlessMap))?;
        map.end()
    }
}

#[test]
fn from_serde_refuses_endless_rust_values() {
    not_transferable(ExternalCopy::from_serde(&Endless));
    not_transferable(ExternalCopy::from_serde(&EndlessMap));
}

#[test]
fn from_serde_keeps_the_data_shape() {
    #[derive(serde::Serialize)]
    enum Shape {
        Unit,
        New(u8),
        Tuple(u8, bool),
        Struct { z: i64, a: Option<String> },
    }
    #[derive(serde::Serialize)]
    struct Doc {
        b: Vec<Shape>,
        a: std::collections::BTreeMap<u32, f64>,
        bytes: serde_bytes_like::Bytes,
    }
    mod serde_bytes_like {
        pub struct Bytes(pub Vec<u8>);
        impl serde::Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.0)
            }
        }
    }
    let doc = Doc {
        b: vec![
            Shape::Unit,
            Shape::New(1),
            Shape::Tuple(2, true),
            Shape::Struct { z: -3, a: None },
        ],
        a: [(7, 0.5)].into_iter().collect(),
        bytes: serde_bytes_like::Bytes(vec![1, 2]),
    };
    let got = ExternalCopy::from_serde(&doc).unwrap().copy().unwrap();
    let want = Value::object([
        (
            "b",
            Value::Array(vec![
                Value::from("Unit"),
                Value::object([("New", Value::from(1))]),
                Value::object([("Tuple", Value::Array(vec![2.into(), true.into()]))]),
                Value::object([(
                    "Struct",
                    Value::object([("z", Value::from(-3)), ("a", Value::Null)]),
                )]),
            ]),
        ),
        ("a", Value::object([("7", Value::from(0.5))])),
        ("bytes", Value::Array(vec![1.into(), 2.into()])),
    ]);
    assert_eq!(got, want);
    // Keys that are not scalars are refused, not mangled.
    let odd: std::collections::BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into_iter().collect();
    not_transferable(ExternalCopy::from_serde(&odd));
}

#[test]
fn deserializing_deep_json_is_refused() {
    // Text: serde_json's own recursion limit (128) answers first.
    let text = "[".repeat(DEEP) + &"]".repeat(DEEP);
    assert!(serde_json::from_str::<Value>(&text).is_err());
    // A `serde_json::Value` as the deserializer has no limit of its own: ours holds.
    for object in [false, true] {
        let json = deep_json(DEEP, object);
        let err = <Value as serde::Deserialize>::deserialize(&json).unwrap_err();
        assert!(err.to_string().contains("nested deeper"), "{err}");
        drop_json(json);
    }
    let json = deep_json(MAX_TRANSFER_DEPTH, true);
    let v = <Value as serde::Deserialize>::deserialize(&json).unwrap();
    assert!(ExternalCopy::new(v).is_ok());
    let json_over = deep_json(MAX_TRANSFER_DEPTH + 1, true);
    assert!(<Value as serde::Deserialize>::deserialize(&json_over).is_err());
    drop_json(json);
    drop_json(json_over);
}

#[test]
fn serializing_a_deep_host_value_is_refused() {
    for wrap in [array, object, map, set] {
        let v = nested(DEEP, wrap);
        let err = serde_json::to_string(&v).unwrap_err();
        assert!(err.to_string().contains("nested deeper"), "{err}");
        // The depth count unwound with the error: a shallow value serializes again.
        assert_eq!(serde_json::to_string(&Value::Array(vec![])).unwrap(), "[]");
        drop_values([v]);
    }
}
