//! Hostile time against soft stops: code that would outlast a stop which only unwinds to
//! the nearest `finally` or `catch` (both backends unwind past them: they must end within
//! the usual 2x timeout bound, and the isolate stays usable).

use super::case::{BASE, Case, Outcome::*, Src::Code};

pub const CASES: &[Case] = &[
    Case {
        name: "soft_stop_finally_spins",
        src: Code("try { while (true) {} } finally { while (true) {} }"),
        expect: &[Timeout],
        then: Some(("1 + 1", &[Value(Some("2"))])),
        ..BASE
    },
    Case {
        name: "soft_stop_catch_and_continue",
        src: Code("while (true) { try { while (true) {} } catch (e) {} }"),
        expect: &[Timeout],
        then: Some(("1 + 1", &[Value(Some("2"))])),
        ..BASE
    },
    Case {
        name: "soft_stop_finally_recurses",
        src: Code("function f() { try { while (true) {} } finally { f() } } f()"),
        expect: &[Timeout],
        then: Some(("1 + 1", &[Value(Some("2"))])),
        ..BASE
    },
    Case {
        name: "soft_stop_catch_runs_a_native_loop",
        src: Code(
            "while (true) { try { while (true) {} } catch (e) { /^(x+x+)+y$/.test('x'.repeat(48)) } }",
        ),
        expect: &[Timeout],
        then: Some(("1 + 1", &[Value(Some("2"))])),
        ..BASE
    },
    Case {
        name: "soft_stop_globals_survive",
        src: Code("globalThis.kept = 41; for (;;) {}"),
        expect: &[Timeout],
        then: Some(("kept + 1", &[Value(Some("42"))])),
        ..BASE
    },
];
