//! Hostile scripts end with their typed error (issue 7): memory exhaustion inside the
//! guest, recursion deep enough to exhaust the guest's stacks, untransferable results.

use engine_api::{Context, Error, EvalOptions, Isolate, IsolateOptions, Value};
use host_wasi::BoaIsolate;

fn isolate(memory_limit_mb: u64) -> BoaIsolate {
    BoaIsolate::new(IsolateOptions {
        memory_limit_mb,
        ..Default::default()
    })
    .expect("isolate")
}

/// Runs `code` in a fresh 32 MB isolate; returns its error and whether it was disposed. A
/// disposed isolate refuses the next call; one that is not still works.
fn fails_with(code: &str) -> (Error, bool) {
    let isolate = isolate(32);
    let context = isolate.create_context().expect("context");
    let err = match context.eval(code, &EvalOptions::default()) {
        Ok(v) => panic!("`{code:.60}` returned {v:?}"),
        Err(e) => e,
    };
    let disposed = isolate.is_disposed();
    let next = context.eval("6 * 7", &EvalOptions::default());
    if disposed {
        assert_eq!(next.unwrap_err(), Error::Disposed);
    } else {
        assert_eq!(next.expect("usable after the error"), Value::from(42));
    }
    (err, disposed)
}

#[test]
fn allocations_beyond_the_limit_are_memory_limit() {
    // A string of 2^28 code units and a spread of 1e9 elements: sizes no wasm32 allocation
    // can have (the guest's Rust code panics with "capacity overflow"), and a plain
    // allocation the host refuses to grow memory for.
    for code in [
        "'x'.repeat(2 ** 28)",
        "[...'.'.repeat(1e9)]",
        "'x'.repeat(2 ** 24) + 'y'.repeat(2 ** 24)",
        "new Array(2 ** 26).fill(0).map(x => x + 1)",
    ] {
        let (err, disposed) = fails_with(code);
        assert_eq!(err, Error::MemoryLimit, "`{code}`: {err}");
        assert!(disposed, "`{code}`");
    }
}

#[test]
fn deep_source_nesting_is_stack_overflow() {
    // Boa's parser recurses once per nesting level: these exhaust the guest's shadow stack
    // (below address 0: an out-of-bounds trap) or the native wasm stack, whichever first.
    let n = 100_000;
    let sources = [
        format!("{}1", "!".repeat(n)),
        format!("{}1", "-".repeat(n)),
        format!("{}1{}", "(".repeat(n), ")".repeat(n)),
        format!("{}{}", "[".repeat(n), "]".repeat(n)),
    ];
    // A trap disposes the isolate; where Boa catches the depth itself it stays usable
    // (`fails_with` checks either way).
    for src in &sources {
        let (err, disposed) = fails_with(src);
        assert_eq!(err, Error::StackOverflow, "`{src:.20}..`: {err}");
        eprintln!("`{:.8}..`: disposed {disposed}", src);
        // The same through `eval` inside the guest.
        let code = format!("eval({:?})", src);
        let (err, disposed) = fails_with(&code);
        assert_eq!(err, Error::StackOverflow, "eval(`{src:.20}..`): {err}");
        eprintln!("eval(`{:.8}..`): disposed {disposed}", src);
    }
    // Other isolates carry on.
    let context = isolate(32).create_context().expect("context");
    assert_eq!(
        context
            .eval("1 + 1", &EvalOptions::default())
            .expect("1 + 1"),
        Value::from(2)
    );
}

#[test]
fn float16_array_is_not_transferable() -> anyhow::Result<()> {
    let isolate = isolate(32);
    let context = isolate.create_context()?;
    let err = context
        .eval("new Float16Array([1, 2])", &EvalOptions::copy())
        .unwrap_err();
    assert!(matches!(err, Error::NotTransferable(_)), "{err:?}");
    // The guest reported it: the isolate stays usable, and a guest-side copy refuses too.
    assert!(!isolate.is_disposed());
    let v = context.eval(
        "try { new ivm.ExternalCopy(new Float16Array(2)); 'copied' } catch (e) { e.name }",
        &EvalOptions::default(),
    )?;
    assert_eq!(v, Value::from("TypeError"));
    assert_eq!(
        context.eval("new Float32Array([1.5])[0]", &EvalOptions::default())?,
        Value::from(1.5)
    );
    Ok(())
}
