//! Hostile allocation: everything a guest can make must count against its limit, and the
//! process must stay within about twice the limit.

use super::case::{BASE, Case, Outcome, Outcome::*, Src::Code};

/// The limit fired, or the engine refused the allocation with a catchable `RangeError`.
const REFUSED: &[Outcome] = &[MemoryLimit, Js(Some("RangeError"))];
/// As `REFUSED`, or the deadline came first (Boa's interpreter is slow).
const REFUSED_OR_LATE: &[Outcome] = &[MemoryLimit, Js(Some("RangeError")), Timeout];

pub const CASES: &[Case] = &[
    Case {
        name: "array_1e9_fill",
        src: Code("Array(1e9).fill(0)"),
        memory_mb: 256,
        expect: REFUSED_OR_LATE,
        ..BASE
    },
    Case {
        // Must not return normally after its timeout (the issue saw Ok at 260 ms).
        name: "array_1e7_fill_result",
        src: Code("Array(1e7).fill(0)"),
        expect: &[MemoryLimit, Timeout],
        ..BASE
    },
    Case {
        name: "resizable_arraybuffer_1g",
        src: Code(
            "const b = new ArrayBuffer(0, { maxByteLength: 2 ** 30 }); b.resize(2 ** 30); \
                 new Uint8Array(b).fill(1); b.byteLength",
        ),
        timeout_ms: Some(2000),
        expect: &[MemoryLimit, Js(None)],
        ..BASE
    },
    Case {
        name: "growable_shared_arraybuffer_1g",
        src: Code(
            "const b = new SharedArrayBuffer(0, { maxByteLength: 2 ** 30 }); b.grow(2 ** 30); \
                 new Uint8Array(b).fill(1); b.byteLength",
        ),
        timeout_ms: Some(2000),
        expect: &[MemoryLimit, Js(None)],
        ..BASE
    },
    Case {
        name: "arraybuffer_1g",
        src: Code("new Uint8Array(2 ** 30).fill(1).length"),
        timeout_ms: Some(2000),
        expect: REFUSED,
        ..BASE
    },
    Case {
        name: "typed_array_storm",
        src: Code(
            "const keep = []; \
                 for (let i = 0; i < 1e5; i++) keep.push(new Float64Array(1 << 17).fill(1)); \
                 keep.length",
        ),
        timeout_ms: Some(5000),
        expect: REFUSED,
        ..BASE
    },
    Case {
        name: "guest_external_copies_2000",
        src: Code(
            "const s = 'x'.repeat(1 << 20); const keep = []; \
                 for (let i = 0; i < 2000; i++) keep.push(new ivm.ExternalCopy(s)); keep.length",
        ),
        timeout_ms: Some(5000),
        expect: &[MemoryLimit, Js(None)],
        ..BASE
    },
    Case {
        // Released handles whose markers keep the data (copyInto({ release })) and
        // transferred buffers: the data stays counted until the marker goes.
        name: "released_copy_into_markers_2000",
        src: Code(
            "const keep = []; \
                 for (let i = 0; i < 2000; i++) { \
                   const b = new ArrayBuffer(1 << 20); \
                   const c = new ivm.ExternalCopy(b, { transferOut: true }); \
                   keep.push(c.copyInto({ release: true })); } keep.length",
        ),
        timeout_ms: Some(5000),
        expect: &[MemoryLimit, Js(None)],
        ..BASE
    },
    Case {
        name: "eval_400mb_source",
        src: Code("eval('1'.repeat(40).repeat(1e7))"),
        memory_mb: 128,
        timeout_ms: Some(2000),
        // Refusing the source (isolated-vm: above limit / 8) is an EvalError.
        expect: &[
            MemoryLimit,
            Js(Some("RangeError")),
            Js(Some("EvalError")),
            Timeout,
        ],
        ..BASE
    },
    Case {
        name: "eval_big_sources_loop",
        src: Code(
            "const body = 'x+'.repeat(1 << 20) + 'x'; \
                 for (let i = 0; i < 1000; i++) new Function('x', 'return ' + body + '+' + i);",
        ),
        timeout_ms: Some(5000),
        expect: REFUSED_OR_LATE,
        ..BASE
    },
    Case {
        name: "split_huge",
        src: Code("'ab'.repeat(5e6).split('').length"),
        timeout_ms: Some(3000),
        expect: REFUSED_OR_LATE,
        ..BASE
    },
    Case {
        name: "replace_huge",
        src: Code("'a'.repeat(1 << 22).replace(/a/g, 'b'.repeat(64)).length"),
        timeout_ms: Some(3000),
        expect: REFUSED_OR_LATE,
        ..BASE
    },
    Case {
        name: "array_from_5e7",
        src: Code("Array.from({ length: 5e7 }).length"),
        timeout_ms: Some(3000),
        expect: REFUSED_OR_LATE,
        ..BASE
    },
    Case {
        name: "bigint_squaring",
        src: Code("let x = 3n; for (;;) x = x * x;"),
        // Long enough that the squarings reach the limit, on V8 and on Boa (about 5 s).
        timeout_ms: Some(10_000),
        expect: REFUSED_OR_LATE,
        ..BASE
    },
    Case {
        name: "spread_repeat_1e9",
        src: Code("[...'.'.repeat(1e9)]"),
        timeout_ms: Some(2000),
        expect: REFUSED_OR_LATE,
        ..BASE
    },
    Case {
        name: "slice_1m_at_8mb",
        src: Code("const a = new Array(1048576).fill(0); const b = a.slice(); b.length"),
        memory_mb: 8,
        timeout_ms: Some(2000),
        expect: &[MemoryLimit, Value(Some("1048576"))],
        ..BASE
    },
    Case {
        name: "external_copy_1m_x40_at_8mb",
        src: Code(
            "const c = new ivm.ExternalCopy(new Array(1048576)); const keep = []; \
                 for (let i = 0; i < 40; i++) keep.push(c.copy()); keep.length",
        ),
        memory_mb: 8,
        timeout_ms: Some(5000),
        expect: &[MemoryLimit, Js(None)],
        ..BASE
    },
    Case {
        // Doubling past the maximum string length: refused, or the limit fires first.
        name: "string_doubling_bomb",
        src: Code("let s = 'x'; for (let i = 0; i < 40; i++) s = s + s; s.length"),
        timeout_ms: Some(2000),
        expect: REFUSED_OR_LATE,
        ..BASE
    },
    Case {
        // Doubling with a flatten (case change) each round: real memory, not cons nodes.
        name: "string_flatten_bomb",
        src: Code(
            "let s = 'x'; for (let i = 0; i < 30; i++) { s = s + s; s = s.toUpperCase(); } s.length",
        ),
        timeout_ms: Some(3000),
        expect: REFUSED_OR_LATE,
        ..BASE
    },
    Case {
        name: "string_join_bomb",
        src: Code("const a = Array(1 << 16).fill('y'.repeat(1 << 12)); a.join(',').length"),
        timeout_ms: Some(3000),
        expect: REFUSED_OR_LATE,
        ..BASE
    },
    Case {
        name: "json_stringify_dag",
        src: Code("let a = [1]; for (let i = 0; i < 30; i++) a = [a, a]; JSON.stringify(a).length"),
        timeout_ms: Some(5000),
        expect: REFUSED_OR_LATE,
        ..BASE
    },
    Case {
        name: "json_parse_wide",
        src: Code("JSON.parse('[' + '1,'.repeat(2e7) + '1]').length"),
        timeout_ms: Some(3000),
        expect: REFUSED_OR_LATE,
        ..BASE
    },
    Case {
        name: "map_growth",
        src: Code("const m = new Map(); for (let i = 0; ; i++) m.set(i, i);"),
        timeout_ms: Some(5000),
        expect: REFUSED_OR_LATE,
        ..BASE
    },
    Case {
        name: "set_growth",
        src: Code("const s = new Set(); for (let i = 0; ; i++) s.add('k' + i);"),
        timeout_ms: Some(5000),
        expect: REFUSED_OR_LATE,
        ..BASE
    },
    Case {
        name: "object_property_growth",
        src: Code("const o = {}; for (let i = 0; ; i++) o['p' + i] = i;"),
        timeout_ms: Some(5000),
        expect: REFUSED_OR_LATE,
        ..BASE
    },
    Case {
        name: "array_push_growth",
        src: Code("const a = []; for (;;) a.push({ x: a.length });"),
        timeout_ms: Some(5000),
        expect: REFUSED_OR_LATE,
        ..BASE
    },
    Case {
        name: "closure_chain_growth",
        src: Code("let f = () => 0; for (let i = 0; ; i++) { const g = f; f = () => g() + i; }"),
        timeout_ms: Some(5000),
        expect: REFUSED_OR_LATE,
        ..BASE
    },
    Case {
        name: "wasm_memory_grow_1g",
        src: Code(
            "if (typeof WebAssembly === 'undefined') 'no wasm'; else { \
                 const m = new WebAssembly.Memory({ initial: 1, maximum: 65536 }); m.grow(16384); \
                 new Uint8Array(m.buffer).fill(1).length }",
        ),
        timeout_ms: Some(2000),
        expect: &[MemoryLimit, Js(Some("RangeError")), Value(Some("no wasm"))],
        ..BASE
    },
];
