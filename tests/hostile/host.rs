//! Hostile use of host callbacks: floods of async and ignored host calls must not start a
//! thread per call nor starve a neighbour isolate, and a deadline holds while the guest
//! loops through the host.

use super::case::{BASE, Case, Drive, Outcome::*, Src::Code};

pub const CASES: &[Case] = &[
    Case {
        name: "typed_callback_deep_argument",
        src: Code("let a = []; for (let i = 0; i < 100000; i++) a = [a]; hostTyped(a)"),
        timeout_ms: Some(2000),
        expect: &[Js(None), NotTransferable, Typed],
        then: Some(("1 + 1", &[Value(Some("2"))])),
        drive: Drive::ApiEval,
        ..BASE
    },
    Case {
        name: "typed_callback_sparse_argument",
        src: Code("const a = []; a[2 ** 32 - 2] = 1; hostTyped(a)"),
        timeout_ms: Some(2000),
        expect: &[Js(None), MemoryLimit, Typed],
        drive: Drive::ApiEval,
        ..BASE
    },
    Case {
        name: "never_settling_future_flood",
        src: Code("for (;;) hostNever(1)"),
        timeout_ms: Some(500),
        expect: &[Timeout, MemoryLimit],
        drive: Drive::ApiEval,
        ..BASE
    },
    Case {
        name: "never_settling_futures_awaited",
        src: Code("Promise.all(Array.from({ length: 20000 }, () => hostNever(1)))"),
        timeout_ms: Some(2000),
        expect: &[Js(None), Timeout, Typed],
        drive: Drive::ApiEval,
        ..BASE
    },
    Case {
        name: "eval_as_deepest_result",
        src: Code("let a = []; for (let i = 0; i < 499; i++) a = [a]; a"),
        timeout_ms: Some(2000),
        expect: &[Value(None), NotTransferable],
        drive: Drive::EvalAs,
        ..BASE
    },
    Case {
        name: "eval_as_too_deep_result",
        src: Code("let a = []; for (let i = 0; i < 100000; i++) a = [a]; a"),
        timeout_ms: Some(2000),
        expect: &[NotTransferable],
        drive: Drive::EvalAs,
        ..BASE
    },
    Case {
        name: "eval_as_sparse_result",
        src: Code("const a = []; a[2 ** 32 - 2] = 1; a"),
        timeout_ms: Some(2000),
        expect: &[MemoryLimit, NotTransferable],
        drive: Drive::EvalAs,
        ..BASE
    },
    Case {
        // Both paths: the CLI's console is a host callback too.
        name: "console_log_flood",
        src: Code("for (;;) console.log('x'.repeat(100))"),
        expect: &[Timeout],
        then: Some(("1 + 1", &[Value(Some("2"))])),
        ..BASE
    },
    Case {
        name: "async_callback_flood_awaited",
        src: Code(
            "const ps = []; for (let i = 0; i < 5000; i++) ps.push(hostAsync(i)); \
                   Promise.all(ps).then((a) => a.length)",
        ),
        timeout_ms: Some(5000),
        expect: &[Value(Some("5000")), Js(None), Timeout],
        drive: Drive::ApiEval,
        ..BASE
    },
    Case {
        name: "async_callback_flood_unawaited",
        src: Code("for (let i = 0; i < 5000; i++) hostAsync(i).catch(() => {}); 'queued'"),
        timeout_ms: Some(2000),
        expect: &[Value(Some("queued")), Js(None)],
        then: Some(("1 + 1", &[Value(Some("2"))])),
        drive: Drive::ApiEval,
        ..BASE
    },
    Case {
        name: "async_callback_loop_under_timeout",
        src: Code("(async () => { for (;;) await hostAsync(1); })()"),
        timeout_ms: Some(300),
        expect: &[Timeout],
        then: Some(("1 + 1", &[Value(Some("2"))])),
        drive: Drive::ApiEval,
        ..BASE
    },
    Case {
        name: "ignored_callback_flood",
        src: Code("for (let i = 0; i < 100000; i++) hostIgnored(i); 'queued'"),
        timeout_ms: Some(2000),
        expect: &[Value(Some("queued")), Js(None), Timeout],
        then: Some(("1 + 1", &[Value(Some("2"))])),
        drive: Drive::ApiEval,
        ..BASE
    },
];
