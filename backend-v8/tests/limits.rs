//! Memory limits and timeouts: hostile code ends in an error, never a process abort.

use std::time::Duration;

use backend_v8::V8;
use engine_api::{Backend, Context, Error, EvalOptions, Isolate, IsolateOptions, Value};

type I = <V8 as Backend>::Isolate;

fn small() -> I {
    I::new(IsolateOptions {
        memory_limit_mb: 32,
        ..Default::default()
    })
    .unwrap()
}

fn bomb(code: &str) {
    let iso = small();
    let ctx = iso.create_context().unwrap();
    let err = ctx.eval(code, &EvalOptions::default()).unwrap_err();
    assert_eq!(err, Error::MemoryLimit, "{code}");
    assert!(iso.is_disposed(), "{code}");
    assert_eq!(
        ctx.eval("1", &EvalOptions::default()).unwrap_err(),
        Error::Disposed
    );
    // Other isolates keep running.
    let other = I::new(IsolateOptions::default())
        .unwrap()
        .create_context()
        .unwrap();
    assert_eq!(
        other.eval("1 + 1", &EvalOptions::default()).unwrap(),
        Value::from(2)
    );
}

#[test]
fn array_bomb() {
    bomb("const a = []; while (true) a.push({x: a.length, y: [1, 2, 3]})");
}

#[test]
fn string_bomb() {
    bomb("const a = []; let i = 0; while (true) a.push('x'.repeat(1000) + (i++))");
}

#[test]
fn json_bomb() {
    bomb(
        "let s = JSON.stringify(Array.from({length: 1000}, (_, i) => ({i, s: 'abcdefgh'}))); const keep = []; while (true) keep.push(JSON.parse(s))",
    );
}

#[test]
fn typed_array_bomb() {
    bomb("const keep = []; while (true) keep.push(new Uint8Array(1 << 20))");
}

#[test]
fn one_huge_array_buffer() {
    bomb("new ArrayBuffer(256 * 1024 * 1024)");
}

#[test]
fn context_spam_bomb() {
    let iso = small();
    let mut contexts = Vec::new();
    let err = loop {
        match iso.create_context() {
            Ok(c) => contexts.push(c),
            Err(e) => break e,
        }
        assert!(contexts.len() < 100_000, "never hit the limit");
    };
    assert_eq!(err, Error::MemoryLimit);
    assert!(iso.is_disposed());
}

#[test]
fn heap_statistics_count_array_buffers() {
    let iso = I::new(IsolateOptions::default()).unwrap();
    let ctx = iso.create_context().unwrap();
    ctx.eval(
        "globalThis.buf = new Uint8Array(4 << 20)",
        &EvalOptions::default(),
    )
    .unwrap();
    let s = iso.heap_statistics().unwrap();
    assert!(s.externally_allocated_size >= 4 << 20, "{s:?}");
    assert!(
        s.externally_allocated_size < 6 << 20,
        "counted twice: {s:?}"
    );
    assert!(s.used_heap_size > 0 && s.heap_size_limit > 0);
}

#[test]
fn timeout_keeps_isolate_usable() {
    let iso = I::new(IsolateOptions::default()).unwrap();
    let ctx = iso.create_context().unwrap();
    let opts = EvalOptions::default().with_timeout(Duration::from_millis(50));
    let err = ctx.eval("while (true) {}", &opts).unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(!iso.is_disposed());
    assert_eq!(
        ctx.eval("1 + 1", &EvalOptions::default()).unwrap(),
        Value::from(2)
    );
    assert!(iso.cpu_time() > Duration::ZERO);
    assert!(iso.wall_time() >= iso.cpu_time() / 2);
}

#[test]
fn timeout_in_microtask_loop() {
    let iso = I::new(IsolateOptions::default()).unwrap();
    let ctx = iso.create_context().unwrap();
    let opts = EvalOptions::default().with_timeout(Duration::from_millis(50));
    let err = ctx
        .eval(
            "function spin() { Promise.resolve().then(spin) } spin(); 1",
            &opts,
        )
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert_eq!(
        ctx.eval("2", &EvalOptions::default()).unwrap(),
        Value::from(2)
    );
    // An async function looping forever after an await.
    let err = ctx
        .eval("(async () => { await null; while (true) {} })(); 1", &opts)
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert_eq!(
        ctx.eval("3", &EvalOptions::default()).unwrap(),
        Value::from(3)
    );
}

#[test]
fn timeout_inside_builtins_and_closures() {
    let iso = I::new(IsolateOptions::default()).unwrap();
    let ctx = iso.create_context().unwrap();
    let opts = EvalOptions::default().with_timeout(Duration::from_millis(50));
    // A closure spinning inside a builtin (the sort's comparator).
    let err = ctx
        .eval_closure(
            "Array.from({length: 1e5}, () => 1).sort(() => { while (true) {} }); return 1",
            vec![],
            &opts,
        )
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert_eq!(
        ctx.eval("4", &EvalOptions::default()).unwrap(),
        Value::from(4)
    );
}

#[test]
fn no_stale_termination_after_fast_calls() {
    let iso = I::new(IsolateOptions::default()).unwrap();
    let ctx = iso.create_context().unwrap();
    let opts = EvalOptions::default().with_timeout(Duration::from_millis(1));
    for i in 0..200 {
        let _ = ctx.eval("let x = 0; for (let i = 0; i < 1000; i++) x += i; x", &opts);
        assert_eq!(
            ctx.eval(&format!("{i}"), &EvalOptions::default()).unwrap(),
            Value::from(i)
        );
    }
}

#[test]
fn stack_overflow_is_a_js_error() {
    let ctx = I::new(IsolateOptions::default())
        .unwrap()
        .create_context()
        .unwrap();
    let Error::Js(e) = ctx
        .eval(
            "function f() { return f() + 1 } f()",
            &EvalOptions::default(),
        )
        .unwrap_err()
    else {
        panic!()
    };
    assert_eq!(e.name, "RangeError");
}

#[test]
fn single_shot_bombs() {
    for code in [
        "'x'.repeat(2 ** 28).length",
        "new Array(1e8).fill(0).length",
        "Array.from({length: 5e7}, (_, i) => i).length",
        "const a = 'ab'.repeat(2 ** 20); a.split('').length",
        "const o = Array(1000).fill('y'.repeat(1000)); let s = []; for (let i = 0; i < 1e5; i++) s.push(JSON.stringify(o)); s.length",
        "Array(5e6).fill('abcdefgh').join('-').length",
    ] {
        let iso = small();
        let ctx = iso.create_context().unwrap();
        let r = ctx.eval(code, &EvalOptions::default());
        // Whatever the outcome (V8 may build some of these lazily), never a process abort.
        assert!(
            r.is_ok()
                || matches!(r, Err(Error::MemoryLimit))
                || matches!(&r, Err(Error::Js(e)) if e.name == "RangeError"),
            "{code}: {r:?}"
        );
        eprintln!("{code}: {r:?}");
    }
}

#[test]
fn timeout_inside_regexp_backtracking() {
    let iso = I::new(IsolateOptions::default()).unwrap();
    let ctx = iso.create_context().unwrap();
    let opts = EvalOptions::default().with_timeout(Duration::from_millis(100));
    let err = ctx
        .eval("/^(a+)+$/.test('a'.repeat(40) + 'b')", &opts)
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert_eq!(
        ctx.eval("5", &EvalOptions::default()).unwrap(),
        Value::from(5)
    );
}

#[test]
fn no_webassembly_to_escape_the_limit() {
    // Wasm memory is allocated outside V8's heap and the array buffer allocator.
    let ctx = small().create_context().unwrap();
    assert_eq!(
        ctx.eval("typeof WebAssembly", &EvalOptions::default())
            .unwrap(),
        Value::from("undefined")
    );
}

#[test]
fn timeout_interrupts_atomics_wait() {
    let iso = I::new(IsolateOptions::default()).unwrap();
    let ctx = iso.create_context().unwrap();
    let opts = EvalOptions::default().with_timeout(Duration::from_millis(100));
    let r = ctx.eval(
        "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)",
        &opts,
    );
    assert!(
        matches!(r, Err(Error::Timeout { .. }) | Err(Error::Js(_))),
        "{r:?}"
    );
    assert_eq!(
        ctx.eval("6", &EvalOptions::default()).unwrap(),
        Value::from(6)
    );
}

#[test]
fn host_value_bigger_than_the_limit() {
    let iso = small();
    let ctx = iso.create_context().unwrap();
    let big = Value::Array(
        (0..400_000)
            .map(|i| Value::from(format!("{i:0>100}")))
            .collect(),
    );
    let r = ctx.eval_closure("return $0.length", vec![big], &EvalOptions::default());
    assert_eq!(r.unwrap_err(), Error::MemoryLimit);
    assert!(iso.is_disposed());
}

#[test]
fn timeout_stack_is_formatted_like_v8_stacks() {
    let iso = I::new(IsolateOptions::default()).unwrap();
    let ctx = iso.create_context().unwrap();
    let mut opts = EvalOptions::default().with_timeout(Duration::from_millis(50));
    opts.origin = engine_api::ScriptOrigin::file("spin.js");
    let code = "function inner() { for (;;) {} }\nfunction outer() { inner() }\nouter()";
    let err = ctx.eval(code, &opts).unwrap_err();
    let Error::Timeout { stack: Some(stack) } = &err else {
        panic!("no stack: {err:?}");
    };
    let lines: Vec<&str> = stack.lines().collect();
    assert!(lines[0].starts_with("    at inner (spin.js:1:"), "{stack}");
    assert!(lines[1].starts_with("    at outer (spin.js:2:"), "{stack}");
    assert!(err.to_string().contains("at inner"), "{err}");
    // The isolate keeps working, and a later call in time has no stale interrupt.
    assert_eq!(
        ctx.eval(
            "1 + 1",
            &EvalOptions::default().with_timeout(Duration::from_secs(5))
        )
        .unwrap(),
        Value::from(2)
    );
}
