//! Hostile results: values whose copy out of the isolate is huge, expands shared
//! structure, runs guest code (getters, proxies, `toString`), or cannot be represented.

use super::case::{BASE, Case, Drive, Outcome::*, Src::Code};

/// Refused, stopped by the deadline, or stopped by the memory limit: never copied whole.
const REFUSED: &[super::case::Outcome] = &[NotTransferable, MemoryLimit, Timeout];

pub const CASES: &[Case] = &[
    Case {
        name: "sparse_array_result",
        src: Code("const a = []; a[2 ** 32 - 2] = 1; a"),
        expect: REFUSED,
        ..BASE
    },
    Case {
        name: "array_length_max_result",
        src: Code("const a = []; a.length = 2 ** 32 - 1; a"),
        expect: REFUSED,
        ..BASE
    },
    Case {
        name: "hole_array_3e7_result",
        src: Code("new Array(3e7)"),
        expect: REFUSED,
        ..BASE
    },
    Case {
        name: "dag_result",
        src: Code("let a = [1]; for (let i = 0; i < 22; i++) a = [a, a]; a"),
        // Copied as 23 arrays and back-references (the API's Ok); the CLI, printing it
        // expanded, stops at MAX_EXPANSION_BYTES with a typed error (exit 6).
        expect: &[Value(None), Typed],
        ..BASE
    },
    Case {
        // The same DAG with no timeout, the isolate disposed from another thread while
        // the copy runs: dispose must stop it.
        name: "dag_result_dispose",
        src: Code("let a = [1]; for (let i = 0; i < 22; i++) a = [a, a]; a"),
        timeout_ms: None,
        // The copy is cheap now (see dag_result): it may end before the dispose.
        expect: &[Disposed, NotTransferable, MemoryLimit, Value(None), Typed],
        drive: Drive::DisposeAfterMs(100),
        ..BASE
    },
    Case {
        name: "repeated_string_result",
        src: Code("const s = 'x'.repeat(1 << 20); Array(2000).fill(s)"),
        timeout_ms: Some(1000),
        expect: REFUSED,
        ..BASE
    },
    Case {
        // 27 doublings: a cons string of 2^28 characters, flattened by the copy-out.
        name: "cons_string_result",
        src: Code("let s = 'ab'; for (let i = 0; i < 27; i++) s = s + s; s"),
        timeout_ms: Some(1000),
        expect: &[MemoryLimit, Js(Some("RangeError")), Timeout],
        ..BASE
    },
    Case {
        name: "repeat_2_28_result",
        src: Code("'x'.repeat(2 ** 28)"),
        timeout_ms: Some(1000),
        expect: &[MemoryLimit, Js(Some("RangeError"))],
        ..BASE
    },
    Case {
        name: "error_name_spinning_tostring",
        src: Code("const e = new Error('x'); e.name = { toString() { while (true) {} } }; e"),
        expect: &[Timeout, NotTransferable, Value(None)],
        ..BASE
    },
    Case {
        name: "error_prototype_name_getter",
        src: Code(
            "Object.defineProperty(Error.prototype, 'name', { get() { while (true) {} } }); \
             new Error('x')",
        ),
        expect: &[Timeout, NotTransferable, Value(None)],
        ..BASE
    },
    Case {
        name: "error_message_getter",
        src: Code(
            "const e = new Error('x'); \
             Object.defineProperty(e, 'message', { get() { while (true) {} } }); e",
        ),
        expect: &[Timeout, NotTransferable, Value(None)],
        ..BASE
    },
    Case {
        name: "error_message_to_primitive",
        src: Code(
            "const e = new Error('x'); \
             e.message = { [Symbol.toPrimitive]() { while (true) {} } }; e",
        ),
        expect: &[Timeout, NotTransferable, Value(None)],
        ..BASE
    },
    Case {
        name: "thrown_error_name_getter",
        src: Code(
            "const e = new Error('x'); \
             Object.defineProperty(e, 'name', { get() { while (true) {} } }); throw e",
        ),
        expect: &[Timeout, Js(None)],
        ..BASE
    },
    Case {
        name: "thrown_to_primitive",
        src: Code(
            "throw { [Symbol.toPrimitive]() { while (true) {} }, toString() { while (true) {} } }",
        ),
        expect: &[Timeout, Js(None)],
        ..BASE
    },
    Case {
        name: "getter_result_spins",
        src: Code("({ get x() { while (true) {} } })"),
        expect: &[Timeout, NotTransferable],
        ..BASE
    },
    Case {
        name: "getter_result_allocates",
        src: Code("({ get x() { const a = []; for (;;) a.push(new Array(1e5).fill(1)); } })"),
        timeout_ms: Some(2000),
        expect: &[MemoryLimit, Timeout, NotTransferable],
        ..BASE
    },
    Case {
        name: "getter_result_throws",
        src: Code("({ get x() { throw new TypeError('boom'); } })"),
        expect: &[Js(Some("TypeError")), NotTransferable],
        ..BASE
    },
    Case {
        name: "proxy_result_get_trap",
        src: Code("new Proxy({ a: 1 }, { get() { while (true) {} } })"),
        expect: &[Timeout, NotTransferable],
        ..BASE
    },
    Case {
        name: "proxy_result_own_keys_trap",
        src: Code("new Proxy({}, { ownKeys() { while (true) {} } })"),
        expect: &[Timeout, NotTransferable],
        ..BASE
    },
    Case {
        name: "proxy_result_million_keys",
        src: Code(
            "new Proxy({}, { \
               ownKeys() { return Array.from({ length: 1e6 }, (_, i) => 'k' + i); }, \
               getOwnPropertyDescriptor() { return { value: 1, enumerable: true, configurable: true }; } })",
        ),
        timeout_ms: Some(1000),
        expect: &[Timeout, NotTransferable, MemoryLimit],
        ..BASE
    },
    Case {
        name: "to_primitive_result",
        src: Code(
            "({ [Symbol.toPrimitive]() { while (true) {} }, valueOf() { while (true) {} } })",
        ),
        expect: &[Value(Some("{}")), Timeout, NotTransferable],
        ..BASE
    },
    Case {
        name: "float16array_result",
        src: Code("new Float16Array([1.5, 2.5])"),
        expect: &[NotTransferable],
        ..BASE
    },
    Case {
        name: "map_3e6_result",
        src: Code("const m = new Map(); for (let i = 0; i < 3e6; i++) m.set(i, i); m"),
        timeout_ms: Some(2000),
        expect: REFUSED,
        ..BASE
    },
    Case {
        name: "deep_nested_result",
        src: Code("let a = []; for (let i = 0; i < 1e6; i++) a = [a]; a"),
        memory_mb: 64,
        timeout_ms: Some(2000),
        expect: &[NotTransferable, StackOverflow, MemoryLimit, Timeout],
        ..BASE
    },
    Case {
        name: "guest_external_copy_deep",
        src: Code("let a = []; for (let i = 0; i < 1e6; i++) a = [a]; new ivm.ExternalCopy(a); 1"),
        memory_mb: 64,
        timeout_ms: Some(2000),
        expect: &[
            Js(None),
            NotTransferable,
            StackOverflow,
            MemoryLimit,
            Timeout,
            Value(Some("1")),
        ],
        ..BASE
    },
    Case {
        // The host makes an ExternalCopy of an array nested a million deep and copies it
        // in: a typed refusal or a copy, never a host stack overflow.
        name: "host_external_copy_deep",
        src: Code("return Array.isArray($0) ? 'array' : typeof $0"),
        memory_mb: 64,
        timeout_ms: Some(2000),
        expect: &[
            NotTransferable,
            StackOverflow,
            MemoryLimit,
            Value(Some("array")),
        ],
        drive: Drive::HostDeepValue(1_000_000),
        ..BASE
    },
];
