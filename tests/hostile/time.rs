//! Hostile time: loops in every place a deadline must reach (scripts, microtasks,
//! builtins' callbacks, regular expressions, wasm, `Atomics.wait`), fuel, calls that can
//! never finish, and what the isolate's next call sees afterwards.

use super::case::{BASE, BOA, BOTH, Case, Outcome, Outcome::*, Src::Code};

/// A follow-up call after a timeout: it must run clean (or find the isolate disposed).
const NEXT_CALL: Option<(&str, &[Outcome])> = Some(("1 + 1", &[Value(Some("2"))]));

pub const CASES: &[Case] = &[
    Case {
        name: "infinite_loop",
        src: Code("while (true) {}"),
        expect: &[Timeout],
        then: NEXT_CALL,
        ..BASE
    },
    Case {
        name: "microtask_loop_then_second_call",
        src: Code("(function spin() { Promise.resolve().then(spin); })(); 'queued'"),
        expect: &[Timeout],
        then: NEXT_CALL,
        ..BASE
    },
    Case {
        name: "microtask_busy_then_second_call",
        src: Code("Promise.resolve().then(() => { while (true) {} }); 'queued'"),
        expect: &[Timeout],
        then: NEXT_CALL,
        ..BASE
    },
    Case {
        name: "awaited_loop_then_second_call",
        src: Code("(async () => { await null; for (;;) await null; })()"),
        expect: &[Timeout],
        then: NEXT_CALL,
        ..BASE
    },
    Case {
        name: "timer_free_async_spin",
        src: Code("(async () => { await 0; while (true) {} })()"),
        expect: &[Timeout],
        then: NEXT_CALL,
        ..BASE
    },
    Case {
        name: "sort_comparator_spins",
        src: Code("Array.from({ length: 1000 }, (_, i) => i).sort(() => { while (true) {} })"),
        expect: &[Timeout],
        then: NEXT_CALL,
        ..BASE
    },
    Case {
        name: "regex_catastrophic_backtracking",
        src: Code("/^(a+)+$/.test('a'.repeat(40) + 'b')"),
        timeout_ms: Some(200),
        expect: &[Timeout],
        then: NEXT_CALL,
        ..BASE
    },
    Case {
        name: "regex_replace_callback_spins",
        src: Code("'aaaa'.replace(/a/g, () => { while (true) {} })"),
        expect: &[Timeout],
        ..BASE
    },
    Case {
        name: "atomics_wait_forever",
        src: Code("Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)"),
        timeout_ms: Some(200),
        expect: &[Timeout, Js(None)],
        then: NEXT_CALL,
        ..BASE
    },
    Case {
        name: "wasm_infinite_loop",
        src: Code(
            "if (typeof WebAssembly === 'undefined') 'no wasm'; else { \
                 const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, \
                   3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 9, 1, 7, 0, 3, 64, 12, 0, 11, 11]); \
                 new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.f() }",
        ),
        expect: &[Timeout, Value(Some("no wasm"))],
        then: NEXT_CALL,
        ..BASE
    },
    Case {
        name: "getter_loop_in_json_stringify",
        src: Code("JSON.stringify({ get x() { while (true) {} } })"),
        expect: &[Timeout],
        ..BASE
    },
    Case {
        name: "fuel_infinite_loop",
        src: Code("while (true) {}"),
        timeout_ms: None,
        fuel: Some(200_000_000),
        backends: BOA,
        expect: &[OutOfFuel],
        ..BASE
    },
    Case {
        name: "fuel_microtask_loop",
        src: Code("(function spin() { Promise.resolve().then(spin); })(); 'queued'"),
        timeout_ms: None,
        fuel: Some(200_000_000),
        backends: BOA,
        expect: &[OutOfFuel],
        ..BASE
    },
    Case {
        // Nothing can ever settle this promise: the call must end with a typed error.
        name: "never_settling_promise_fuel",
        src: Code("new Promise(() => {})"),
        timeout_ms: None,
        fuel: Some(200_000_000),
        backends: BOA,
        expect: &[Typed],
        ..BASE
    },
    Case {
        name: "never_settling_promise",
        src: Code("new Promise(() => {})"),
        timeout_ms: None,
        backends: BOTH,
        expect: &[Typed],
        ..BASE
    },
    Case {
        name: "never_settling_await_chain",
        src: Code("(async () => { await new Promise(() => {}); return 1; })()"),
        timeout_ms: None,
        backends: BOTH,
        expect: &[Typed],
        ..BASE
    },
    Case {
        // Durations of any size are accepted or refused with a typed error, never a panic.
        name: "huge_timeout",
        src: Code("1 + 1"),
        timeout_ms: Some(u64::MAX),
        expect: &[Value(Some("2")), InvalidArgument],
        ..BASE
    },
];
