//! Hostile depth: recursion in guest code, in the parser (deep chains in the source) and in
//! builtins. Each ends in a catchable `RangeError`/`SyntaxError` or `Error::StackOverflow`,
//! never in a trap or a host stack overflow.

use super::case::{BASE, Case, Outcome, Outcome::*, Src::Code, Src::Gen};

/// What exhausting the stack may give.
const TOO_DEEP: &[Outcome] = &[
    Js(Some("RangeError")),
    Js(Some("SyntaxError")),
    Js(Some("InternalError")),
    StackOverflow,
];

const DEPTH: usize = 200_000;

fn unary_chain() -> String {
    format!("{}0", "~".repeat(DEPTH))
}

fn paren_chain() -> String {
    format!("{}0{}", "(".repeat(DEPTH), ")".repeat(DEPTH))
}

fn array_literal_chain() -> String {
    format!("{}{}", "[".repeat(DEPTH), "]".repeat(DEPTH))
}

fn object_literal_chain() -> String {
    format!("({}{})", "{a:".repeat(DEPTH), "}".repeat(DEPTH))
}

fn arrow_chain() -> String {
    format!("{}0", "() => ".repeat(DEPTH / 4))
}

fn template_chain() -> String {
    format!("{}x{}", "`${".repeat(DEPTH / 4), "}`".repeat(DEPTH / 4))
}

pub const CASES: &[Case] = &[
    Case {
        name: "deep_recursion",
        src: Code("function f(n) { return f(n + 1) + 1; } f(0)"),
        timeout_ms: Some(2000),
        expect: TOO_DEEP,
        ..BASE
    },
    Case {
        name: "deep_recursion_caught_and_retried",
        src: Code("function f() { try { f(); } catch (e) { f(); } } f()"),
        timeout_ms: Some(500),
        expect: &[Timeout, Js(Some("RangeError")), StackOverflow],
        ..BASE
    },
    Case {
        name: "deep_recursion_through_getters",
        src: Code("const o = { get x() { return this.x; } }; o.x"),
        timeout_ms: Some(2000),
        expect: TOO_DEEP,
        ..BASE
    },
    Case {
        name: "deep_recursion_through_to_string",
        src: Code("const o = { toString() { return `${o}`; } }; String(o)"),
        timeout_ms: Some(2000),
        expect: TOO_DEEP,
        ..BASE
    },
    Case {
        name: "deep_recursion_through_proxy",
        src: Code("const p = new Proxy({}, { get(t, k, r) { return r[k]; } }); p.x"),
        timeout_ms: Some(2000),
        expect: TOO_DEEP,
        ..BASE
    },
    Case {
        name: "deep_unary_chain_source",
        src: Gen(unary_chain),
        timeout_ms: Some(2000),
        expect: TOO_DEEP,
        ..BASE
    },
    Case {
        name: "deep_paren_chain_source",
        src: Gen(paren_chain),
        timeout_ms: Some(2000),
        expect: TOO_DEEP,
        ..BASE
    },
    Case {
        name: "deep_array_literal_source",
        src: Gen(array_literal_chain),
        timeout_ms: Some(2000),
        expect: TOO_DEEP,
        ..BASE
    },
    Case {
        name: "deep_object_literal_source",
        src: Gen(object_literal_chain),
        timeout_ms: Some(2000),
        expect: TOO_DEEP,
        ..BASE
    },
    Case {
        name: "deep_arrow_chain_source",
        src: Gen(arrow_chain),
        timeout_ms: Some(2000),
        expect: TOO_DEEP,
        ..BASE
    },
    Case {
        name: "deep_template_chain_source",
        src: Gen(template_chain),
        timeout_ms: Some(2000),
        expect: TOO_DEEP,
        ..BASE
    },
    Case {
        name: "deep_eval_in_eval",
        src: Code(
            // Each level a new eval frame; the source stays small (a string quoted again
            // at every level would double in size: a memory bomb, covered elsewhere).
            "function f(n) { return n === 0 ? 1 : eval('f(' + (n - 1) + ')'); } f(1e5)",
        ),
        timeout_ms: Some(2000),
        expect: &[
            Js(Some("RangeError")),
            Js(Some("SyntaxError")),
            Js(Some("InternalError")),
            StackOverflow,
            MemoryLimit,
            Timeout,
            Value(Some("1")),
        ],
        ..BASE
    },
    Case {
        name: "json_parse_deep",
        src: Code("JSON.parse('['.repeat(1e6) + ']'.repeat(1e6)).length"),
        memory_mb: 64,
        timeout_ms: Some(2000),
        expect: &[
            Value(Some("1")),
            Js(Some("RangeError")),
            Js(Some("SyntaxError")),
            Js(Some("InternalError")),
            StackOverflow,
            MemoryLimit,
            Timeout,
        ],
        ..BASE
    },
    Case {
        name: "json_stringify_deep",
        src: Code("let a = []; for (let i = 0; i < 1e6; i++) a = [a]; JSON.stringify(a).length"),
        memory_mb: 64,
        timeout_ms: Some(2000),
        expect: &[
            Value(Some("2000002")),
            Js(Some("RangeError")),
            Js(Some("InternalError")),
            StackOverflow,
            MemoryLimit,
            Timeout,
        ],
        ..BASE
    },
    Case {
        name: "deep_prototype_chain_lookup",
        src: Code("let o = {}; for (let i = 0; i < 1e6; i++) o = Object.create(o); o.missing"),
        memory_mb: 128,
        timeout_ms: Some(3000),
        expect: &[
            Value(None),
            Js(Some("RangeError")),
            StackOverflow,
            MemoryLimit,
            Timeout,
        ],
        ..BASE
    },
    Case {
        name: "deep_bound_function_chain",
        src: Code("let f = () => 1; for (let i = 0; i < 1e6; i++) f = f.bind(null); f()"),
        memory_mb: 128,
        timeout_ms: Some(3000),
        expect: &[
            Value(Some("1")),
            Js(Some("RangeError")),
            StackOverflow,
            MemoryLimit,
            Timeout,
        ],
        ..BASE
    },
];
