//! Hostile use of host callbacks: floods of async and ignored host calls must not start a
//! thread per call nor starve a neighbour isolate, and a deadline holds while the guest
//! loops through the host.

use super::case::{BASE, Case, Drive, Outcome::*, Src::Code};

pub const CASES: &[Case] = &[
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
