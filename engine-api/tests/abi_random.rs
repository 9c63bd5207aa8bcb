//! Bounded random-input test of the guest ABI decoder: what the host decodes from guest
//! memory (`Response`, `HostRequest`) and what the guest decodes from the host (`Request`,
//! `HostResponse`). Deterministic (seeded), run by `cargo test`: random bytes, mutated
//! valid messages and deep nesting. Every decode must succeed or fail with postcard's
//! typed error, never panic or overflow the stack, and whatever decodes must re-encode to
//! a message that decodes to the same bytes again.

use engine_api::abi::{
    self, CallMode, ErrorKind, GuestError, HostRequest, HostResponse, MAX_WIRE_DEPTH, Origin,
    Request, Response, Transfer, WireValue,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Inputs per message type and kind of input; 4 types x 3 kinds x this = total inputs.
const PER_KIND: usize = 17_000;

/// splitmix64: small, seeded, good enough to spread inputs.
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
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| self.next() as u8).collect()
    }
    fn string(&mut self) -> String {
        const WORDS: [&str; 6] = ["", "a", "key", "Uint8Array", "é☃", "\u{0}"];
        if self.chance(4) {
            String::from_utf8_lossy(&self.bytes(12)).into_owned()
        } else {
            WORDS[self.below(WORDS.len())].to_owned()
        }
    }
    fn number(&mut self) -> f64 {
        match self.below(5) {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => -0.0,
            3 => f64::from_bits(self.next()),
            _ => self.below(1000) as f64,
        }
    }
}

fn wire(rng: &mut Rng, depth: usize) -> WireValue {
    let leaf = depth >= 4 || rng.chance(3);
    let pick = if leaf {
        rng.below(12)
    } else {
        12 + rng.below(4)
    };
    let many = |rng: &mut Rng| -> Vec<WireValue> {
        (0..rng.below(4)).map(|_| wire(rng, depth + 1)).collect()
    };
    match pick {
        0 => WireValue::Undefined,
        1 => WireValue::Null,
        2 => WireValue::Bool(rng.chance(2)),
        3 => WireValue::Number(rng.number()),
        4 => WireValue::BigInt(rng.string()),
        5 => WireValue::String(rng.string()),
        6 => WireValue::Date(rng.number()),
        7 => WireValue::RegExp {
            source: rng.string(),
            flags: rng.string(),
        },
        8 => WireValue::Error {
            name: rng.string(),
            message: rng.string(),
            stack: rng.chance(2).then(|| rng.string()),
        },
        9 => WireValue::TypedArray {
            kind: rng.string(),
            bytes: rng.bytes(16),
        },
        10 => WireValue::GuestHandle {
            handle: rng.next() as u32,
            type_of: rng.string(),
        },
        11 => match rng.below(5) {
            3 => WireValue::OwnReference {
                handle: rng.next() as u32,
                type_of: rng.string(),
            },
            4 => WireValue::HostDeref {
                id: rng.next() as u32,
            },
            0 => WireValue::HostReference {
                id: rng.next() as u32,
                type_of: rng.string(),
            },
            1 => WireValue::HostFunction {
                id: rng.next() as u32,
                mode: rng.next() as u8,
            },
            _ => WireValue::ExternalCopy {
                id: rng.next() as u32,
            },
        },
        12 => WireValue::Array(many(rng)),
        13 => WireValue::Set(many(rng)),
        14 => WireValue::Object(
            (0..rng.below(4))
                .map(|_| (rng.string(), wire(rng, depth + 1)))
                .collect(),
        ),
        _ => WireValue::Map(
            (0..rng.below(3))
                .map(|_| (wire(rng, depth + 1), wire(rng, depth + 1)))
                .collect(),
        ),
    }
}

fn transfer(rng: &mut Rng) -> Transfer {
    let bits = rng.next();
    Transfer {
        copy: bits & 1 != 0,
        external_copy: bits & 2 != 0,
        reference: bits & 4 != 0,
        promise: bits & 8 != 0,
        fallback_reference: bits & 16 != 0,
    }
}

fn origin(rng: &mut Rng) -> Origin {
    Origin {
        filename: rng.string(),
        line_offset: rng.next() as i32,
        column_offset: rng.next() as i32,
    }
}

fn args(rng: &mut Rng) -> Vec<WireValue> {
    (0..rng.below(3)).map(|_| wire(rng, 1)).collect()
}

fn request(rng: &mut Rng) -> Request {
    let h = rng.next() as u32;
    match rng.below(19) {
        0 => Request::CreateContext,
        1 => Request::Release { handle: h },
        2 => Request::Global { context: h },
        3 => Request::Eval {
            context: h,
            code: rng.string(),
            origin: origin(rng),
            result: transfer(rng),
        },
        4 => Request::EvalClosure {
            context: h,
            code: rng.string(),
            args: args(rng),
            origin: origin(rng),
            result: transfer(rng),
        },
        5 => Request::CompileScript {
            code: rng.string(),
            origin: origin(rng),
        },
        6 => Request::RunScript {
            script: h,
            context: rng.next() as u32,
            result: transfer(rng),
        },
        7 => Request::CompileModule {
            code: rng.string(),
            origin: origin(rng),
            meta: (rng.below(2) == 0).then(|| wire(rng, 2)),
        },
        8 => Request::InstantiateModule {
            module: h,
            context: h,
            resolutions: (0..rng.below(3))
                .map(|_| (rng.next() as u32, rng.string(), rng.next() as u32))
                .collect(),
        },
        9 => Request::EvaluateModule {
            module: h,
            result: transfer(rng),
        },
        10 => Request::ModuleNamespace { module: h },
        11 => Request::TypeOf { handle: h },
        12 => Request::Get {
            handle: h,
            key: wire(rng, 2),
            result: transfer(rng),
            accessors: rng.below(2) == 1,
            inherit: rng.below(2) == 1,
        },
        13 => Request::Set {
            handle: h,
            key: wire(rng, 2),
            value: wire(rng, 0),
            accessors: rng.below(2) == 1,
        },
        14 => Request::Delete {
            handle: h,
            key: wire(rng, 2),
        },
        15 => Request::Apply {
            handle: h,
            receiver: wire(rng, 2),
            args: args(rng),
            result: transfer(rng),
        },
        16 => Request::Copy { handle: h },
        17 => Request::SettlePromise {
            promise: h,
            ok: rng.chance(2),
            value: wire(rng, 0),
            callback: rng.chance(2).then_some(h),
        },
        _ => Request::HeapStatistics,
    }
}

fn guest_error(rng: &mut Rng) -> GuestError {
    const KINDS: [ErrorKind; 6] = [
        ErrorKind::Js,
        ErrorKind::NotTransferable,
        ErrorKind::Released,
        ErrorKind::WrongKind,
        ErrorKind::StackOverflow,
        ErrorKind::InvalidRequest,
    ];
    GuestError {
        kind: rng.chance(4).then(|| KINDS[rng.below(KINDS.len())]),
        name: rng.string(),
        message: rng.string(),
        stack: rng.chance(2).then(|| rng.string()),
        file: rng.chance(2).then(|| rng.string()),
        line: rng.chance(2).then(|| rng.next() as u32),
        column: rng.chance(2).then(|| rng.next() as u32),
    }
}

fn response(rng: &mut Rng) -> Response {
    match rng.below(9) {
        0 => Response::Ok,
        1 => Response::Value(wire(rng, 0)),
        2 => Response::Handle(rng.next() as u32),
        3 => Response::Bool(rng.chance(2)),
        4 => Response::TypeOf(rng.string()),
        5 => Response::Module {
            handle: rng.next() as u32,
            specifiers: (0..rng.below(3)).map(|_| rng.string()).collect(),
        },
        6 => Response::Pending {
            watch: rng.next() as u32,
        },
        7 => Response::Heap { used: rng.next() },
        _ => Response::Error(guest_error(rng)),
    }
}

fn mode(rng: &mut Rng) -> CallMode {
    match rng.below(3) {
        0 => CallMode::Sync,
        1 => CallMode::Async {
            promise: rng.next() as u32,
        },
        _ => CallMode::Ignored,
    }
}

fn host_request(rng: &mut Rng) -> HostRequest {
    let target = rng.next() as u32;
    match rng.below(9) {
        0 => HostRequest::Apply {
            target,
            receiver: wire(rng, 2),
            args: args(rng),
            mode: mode(rng),
            result: transfer(rng),
            timeout_ms: rng.below(2).checked_sub(1).map(|_| rng.next()),
        },
        1 => HostRequest::Get {
            target,
            key: wire(rng, 2),
            result: transfer(rng),
            accessors: rng.below(2) == 1,
        },
        2 => HostRequest::Set {
            target,
            key: wire(rng, 2),
            value: wire(rng, 0),
            accessors: rng.below(2) == 1,
        },
        3 => HostRequest::Delete {
            target,
            key: wire(rng, 2),
        },
        4 => HostRequest::Copy { target },
        5 => HostRequest::Release { target },
        6 => HostRequest::NewExternalCopy {
            value: wire(rng, 0),
        },
        7 => HostRequest::ReadExternalCopy { id: target },
        _ => HostRequest::PromiseSettled {
            watch: target,
            ok: rng.chance(2),
            value: wire(rng, 0),
            callback: rng.chance(2).then_some(target),
        },
    }
}

fn host_response(rng: &mut Rng) -> HostResponse {
    match rng.below(5) {
        0 => HostResponse::Ok,
        1 => HostResponse::Value(wire(rng, 0)),
        2 => HostResponse::Bool(rng.chance(2)),
        3 => HostResponse::Id(rng.next() as u32),
        _ => HostResponse::Error {
            name: rng.string(),
            message: rng.string(),
            stack: rng.chance(2).then(|| rng.string()),
            callback: rng.chance(2).then(|| rng.next() as u32),
        },
    }
}

/// A valid message, changed a little: flipped, inserted, removed or repeated bytes, or cut.
fn mutate(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(6) {
            0 if at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
            1 if at < bytes.len() => bytes[at] = rng.next() as u8,
            2 => bytes.insert(at, rng.next() as u8),
            3 if at < bytes.len() => {
                bytes.remove(at);
            }
            4 => bytes.truncate(at),
            _ => {
                // Repeat a slice: makes long runs of nesting and huge length prefixes.
                let end = (at + 1 + rng.below(6)).min(bytes.len());
                let piece = bytes[at.min(end)..end].to_vec();
                for _ in 0..rng.below(64) {
                    bytes.splice(at..at, piece.iter().copied());
                }
            }
        }
    }
    bytes
}

/// `depth` arrays around a `Null`, as bytes (or a `Set`/`Map` chain), inside the body of a
/// message whose value field comes last: a hostile nesting attack of varying depth.
fn deep(rng: &mut Rng, wrap: &dyn Fn(WireValue) -> Vec<u8>) -> Vec<u8> {
    let containers = [
        WireValue::Array(vec![WireValue::Null]),
        WireValue::Set(vec![WireValue::Null]),
        WireValue::Map(vec![(WireValue::Null, WireValue::Null)]),
    ];
    let one = abi::encode(&containers[rng.below(containers.len())]);
    // The encoding of a container of one Null, less the Null: its nesting prefix. For a
    // Map the key is the prefix's last Null and the value nests on.
    let prefix = &one[..one.len() - 1];
    let depth = match rng.below(4) {
        0 => MAX_WIRE_DEPTH - 2 + rng.below(4),
        1 => rng.below(2 * MAX_WIRE_DEPTH),
        2 => 10_000 + rng.below(100_000),
        _ => rng.below(64),
    };
    let mut bytes = wrap(WireValue::Undefined);
    // The wrapper's trailing Undefined (variant 0) is where the nesting goes.
    assert_eq!(bytes.pop(), Some(0));
    bytes.extend(prefix.repeat(depth));
    bytes.extend(abi::encode(&WireValue::Null));
    if rng.chance(3) {
        bytes = mutate(rng, bytes);
    }
    bytes
}

/// Decodes `bytes` as `T` (on a [`STACK`]-sized thread); checks re-encoding.
fn check<T: Serialize + DeserializeOwned>(bytes: &[u8], stats: &mut Stats) {
    let typed: Result<T, postcard::Error> = postcard::from_bytes(bytes);
    let viaabi = abi::decode::<T>(bytes);
    assert_eq!(
        typed.is_ok(),
        viaabi.is_some(),
        "abi::decode agrees with postcard"
    );
    match typed {
        Ok(msg) => {
            stats.ok += 1;
            let again = abi::encode(&msg);
            let back: T = postcard::from_bytes(&again).expect("a decoded message re-decodes");
            assert_eq!(abi::encode(&back), again, "re-encoding is stable");
        }
        Err(_) => stats.refused += 1,
    }
}

#[derive(Default, Debug)]
struct Stats {
    ok: usize,
    refused: usize,
}

fn run<T: Serialize + DeserializeOwned>(
    seed: u64,
    make: fn(&mut Rng) -> T,
    wrap: &dyn Fn(WireValue) -> Vec<u8>,
) -> Stats {
    let mut rng = Rng(seed);
    let mut stats = Stats::default();
    for i in 0..3 * PER_KIND {
        let bytes = match i % 3 {
            0 => rng.bytes(64),
            1 => {
                let valid = abi::encode(&make(&mut rng));
                mutate(&mut rng, valid)
            }
            _ => deep(&mut rng, wrap),
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check::<T>(&bytes, &mut stats)
        }));
        if outcome.is_err() {
            panic!("input {i} of seed {seed:#x} panicked: {bytes:02x?}");
        }
    }
    stats
}

/// The stack the decodes run on: 2 MiB, the default of Rust threads (pool workers). A
/// `Map` or `Object` chain at the wire's depth limit needs about 4 MiB unoptimised, so
/// backend-boa is optimised in dev builds too (the root Cargo.toml says so).
const STACK: usize = 2 << 20;

#[test]
fn random_messages_decode_or_fail_typed() {
    let handle = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(|| {
            let value_last = |v| abi::encode(&Response::Value(v));
            let settled = |v| {
                abi::encode(&HostRequest::PromiseSettled {
                    watch: 1,
                    ok: true,
                    value: v,
                    callback: None,
                })
            };
            let settle = |v| {
                abi::encode(&Request::SettlePromise {
                    promise: 1,
                    ok: false,
                    value: v,
                    callback: None,
                })
            };
            let host_value = |v| abi::encode(&HostResponse::Value(v));
            [
                ("Response", run(0x15_0001, response, &value_last)),
                ("HostRequest", run(0x15_0002, host_request, &settled)),
                ("Request", run(0x15_0003, request, &settle)),
                ("HostResponse", run(0x15_0004, host_response, &host_value)),
            ]
        })
        .unwrap();
    let results = handle.join().unwrap();
    let mut total = 0;
    for (name, stats) in &results {
        eprintln!("{name}: {stats:?}");
        total += stats.ok + stats.refused;
        // Both outcomes happen: the inputs reach past the first byte check.
        assert!(stats.ok > PER_KIND / 2, "{name}: {stats:?}");
        assert!(stats.refused > PER_KIND / 2, "{name}: {stats:?}");
    }
    assert_eq!(total, 4 * 3 * PER_KIND);
}
