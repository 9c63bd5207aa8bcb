//! Bounded random-input test of the host's value entry points: JSON text and
//! `serde_json::Value`s into [`Value`], values into [`ExternalCopy`] and back out through
//! serde. Deterministic (seeded), run by `cargo test`: mutated valid documents, random
//! bytes and deep nesting. Every step must succeed or fail with a typed error, never panic
//! or overflow the stack.

use engine_api::{Error, ExternalCopy, MAX_TRANSFER_DEPTH, TypedArrayKind, Value, drop_values};

const INPUTS: usize = 20_000;

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
    fn string(&mut self) -> String {
        const WORDS: [&str; 5] = ["", "a", "key", "é☃", "\u{0}\"\\"];
        WORDS[self.below(WORDS.len())].to_owned()
    }
    fn number(&mut self) -> f64 {
        match self.below(4) {
            0 => f64::NAN,
            1 => f64::NEG_INFINITY,
            2 => f64::from_bits(self.next()),
            _ => self.below(100) as f64,
        }
    }
    fn depth(&mut self) -> usize {
        match self.below(4) {
            0 => MAX_TRANSFER_DEPTH - 2 + self.below(4),
            1 => self.below(2 * MAX_TRANSFER_DEPTH),
            2 => 10_000 + self.below(50_000),
            _ => self.below(8),
        }
    }
}

fn value(rng: &mut Rng, depth: usize) -> Value {
    let leaf = depth >= 4 || rng.chance(3);
    match if leaf {
        rng.below(12)
    } else {
        12 + rng.below(4)
    } {
        0 => Value::Undefined,
        1 => Value::Null,
        2 => Value::Bool(rng.chance(2)),
        3 => Value::Number(rng.number()),
        4 => Value::BigInt(rng.string()),
        5 => Value::String(rng.string()),
        6 => Value::Date(rng.number()),
        7 => Value::RegExp {
            source: rng.string(),
            flags: rng.string(),
        },
        8 => Value::ArrayBuffer(vec![rng.next() as u8; rng.below(8)]),
        9 => Value::TypedArray {
            kind: TypedArrayKind::Float64,
            bytes: vec![0; 8 * rng.below(3)],
        },
        // Identity: numbers that may or may not name an earlier object, views that may or
        // may not fit their buffer.
        10 => Value::Backref(rng.below(6) as u32),
        11 => Value::TypedArrayView {
            kind: [TypedArrayKind::Uint8, TypedArrayKind::Float64][rng.below(2)],
            buffer: rng.below(6) as u32,
            byte_offset: rng.below(16),
            byte_length: [rng.below(16), usize::MAX][rng.below(2)],
        },
        12 => Value::Array((0..rng.below(4)).map(|_| value(rng, depth + 1)).collect()),
        13 => Value::Set((0..rng.below(4)).map(|_| value(rng, depth + 1)).collect()),
        14 => Value::Object(
            (0..rng.below(4))
                .map(|_| (rng.string(), value(rng, depth + 1)))
                .collect(),
        ),
        _ => Value::Map(
            (0..rng.below(3))
                .map(|_| (value(rng, depth + 1), value(rng, depth + 1)))
                .collect(),
        ),
    }
}

/// `v` wrapped in `depth` random containers (built without recursion).
fn nest(rng: &mut Rng, mut v: Value, depth: usize) -> Value {
    for _ in 0..depth {
        v = match rng.below(4) {
            0 => Value::Array(vec![v]),
            1 => Value::Set(vec![Value::Null, v]),
            2 => Value::Object(vec![("k".into(), v)]),
            _ => Value::Map(vec![(Value::Null, v)]),
        };
    }
    v
}

fn mutate(rng: &mut Rng, text: &str) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    const PIECES: [&[u8]; 8] = [b"[", b"{", b"]", b"}", b"\"", b",", b":", b"\\u"];
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(4) {
            0 if at < bytes.len() => bytes[at] = rng.next() as u8,
            1 => {
                let piece = PIECES[rng.below(PIECES.len())];
                bytes.splice(at..at, piece.iter().copied());
            }
            2 if at < bytes.len() => {
                bytes.remove(at);
            }
            _ => bytes.truncate(at),
        }
    }
    bytes
}

/// A JSON document nested `depth` deep (`[[[..]]]` or `{"a":{"a":..}}`).
fn deep_text(depth: usize, object: bool) -> String {
    if object {
        "{\"a\":".repeat(depth) + "1" + &"}".repeat(depth)
    } else {
        "[".repeat(depth) + &"]".repeat(depth)
    }
}

/// A `serde_json::Value` nested `depth` deep, built without recursion.
fn deep_json(depth: usize) -> serde_json::Value {
    let mut v = serde_json::Value::from(1);
    for _ in 0..depth {
        v = serde_json::Value::Array(vec![v]);
    }
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

#[derive(Default, Debug)]
struct Stats {
    inputs: usize,
    copied: usize,
    refused: usize,
}

/// Copies `v` in; a copy must come back out equal and serialize or fail typed.
fn copy_in(v: Value, stats: &mut Stats) {
    stats.inputs += 1;
    match ExternalCopy::new(v) {
        Ok(copy) => {
            stats.copied += 1;
            let out = copy.copy().unwrap();
            assert_eq!(&out, copy.value().unwrap());
            drop_values([out]);
            let _ = serde_json::to_string(copy.value().unwrap());
            match copy.to_serde::<serde_json::Value>() {
                Ok(json) => drop_json(json),
                Err(Error::NotTransferable(_) | Error::Deserialize(_)) => {}
                Err(e) => panic!("untyped failure reading a copy out: {e:?}"),
            }
        }
        // A back-reference or view that names no earlier object (or does not fit).
        Err(Error::NotTransferable(_) | Error::InvalidArgument(_)) => stats.refused += 1,
        Err(e) => panic!("unexpected error {e:?}"),
    }
}

fn text_in(bytes: &[u8], stats: &mut Stats) {
    // serde_json's own error for bad or too deep text; a Value when it parses.
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        copy_in(v, stats);
    } else {
        stats.inputs += 1;
        stats.refused += 1;
    }
}

fn json_in(json: serde_json::Value, stats: &mut Stats) {
    stats.inputs += 1;
    match ExternalCopy::from_serde(&json) {
        Ok(_) => stats.copied += 1,
        Err(Error::NotTransferable(_)) => stats.refused += 1,
        Err(e) => panic!("unexpected error {e:?}"),
    }
    match <Value as serde::Deserialize>::deserialize(&json) {
        Ok(v) => copy_in(v, stats),
        Err(e) => assert!(e.to_string().contains("nested deeper"), "{e}"),
    }
    drop_json(json);
}

#[test]
fn random_host_values_copy_in_or_fail_typed() {
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let mut rng = Rng(0x15_0007);
            let mut stats = Stats::default();
            for i in 0..INPUTS {
                match i % 5 {
                    0 => {
                        let v = value(&mut rng, 0);
                        let text = serde_json::to_string(&v).unwrap_or_default();
                        drop_values([v]);
                        text_in(&mutate(&mut rng, &text), &mut stats);
                    }
                    1 => {
                        let len = rng.below(48);
                        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                        text_in(&bytes, &mut stats);
                    }
                    2 => {
                        let depth = rng.depth();
                        let text = deep_text(depth, rng.chance(2));
                        text_in(&mutate(&mut rng, &text), &mut stats);
                    }
                    3 => {
                        let depth = rng.depth();
                        json_in(deep_json(depth), &mut stats);
                    }
                    _ => {
                        let (inner, depth) = (value(&mut rng, 0), rng.depth());
                        let v = nest(&mut rng, inner, depth);
                        copy_in(v, &mut stats);
                    }
                }
            }
            stats
        })
        .unwrap();
    let stats = handle.join().unwrap();
    eprintln!("{stats:?}");
    assert!(stats.inputs >= INPUTS);
    assert!(stats.copied > INPUTS / 5, "{stats:?}");
    assert!(stats.refused > INPUTS / 5, "{stats:?}");
}
