//! Hostile scripts end with their typed error (issue 7): memory exhaustion inside the
//! guest, recursion deep enough to exhaust the guest's stacks, untransferable results,
//! promises nothing can settle.

use backend_boa::BoaIsolate;
use engine_api::{
    Callback, Context, Error, EvalOptions, Isolate, IsolateOptions, Reference, TransferOptions,
    Value,
};

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

/// Runs `f` on a thread of its own; a hang fails the test instead of blocking it.
fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(std::time::Duration::from_secs(60))
        .expect("the call hung")
}

fn promise_result() -> EvalOptions {
    EvalOptions {
        result: TransferOptions::copy().with_promise(),
        ..Default::default()
    }
}

#[test]
fn a_promise_nothing_can_settle_ends_the_call() {
    for fuel in [Some(200_000_000), None] {
        for code in [
            "new Promise(() => {})",
            "(async () => { await new Promise(() => {}); return 1; })()",
            "new Promise(r => { globalThis.later = r; })",
        ] {
            let isolate = BoaIsolate::new(IsolateOptions {
                fuel,
                ..Default::default()
            })
            .expect("isolate");
            let context = isolate.create_context().expect("context");
            // Blocking, on this thread.
            let c = context.clone();
            let err = bounded(move || c.eval(code, &promise_result())).unwrap_err();
            assert_eq!(err, Error::PromiseNeverSettles, "`{code}` (fuel {fuel:?})");
            // From the worker pool, holding the isolate's turn.
            let c = context.clone();
            let err = bounded(move || c.eval_async(code, promise_result()).wait()).unwrap_err();
            assert_eq!(
                err,
                Error::PromiseNeverSettles,
                "async `{code}` (fuel {fuel:?})"
            );
            // Nothing trapped: the isolate goes on.
            assert!(!isolate.is_disposed());
            assert_eq!(
                context
                    .eval("6 * 7", &EvalOptions::default())
                    .expect("usable"),
                Value::from(42)
            );
        }
    }
}

#[test]
fn promises_settled_by_pending_host_calls_are_still_awaited() -> anyhow::Result<()> {
    let isolate = BoaIsolate::new(IsolateOptions {
        fuel: Some(1_000_000_000),
        ..Default::default()
    })?;
    let context = isolate.create_context()?;
    let slow = Callback::new_async(|args| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        Ok(Value::from(args[0].as_f64().unwrap_or(0.0) + 1.0))
    });
    context
        .global()?
        .set("slow".into(), slow.into(), &TransferOptions::default())?;
    // Two host calls one after the other: between them only the guest's settlement runs.
    let code = "(async () => { const a = await slow(1); return await slow(a); })()";
    let c = context.clone();
    assert_eq!(
        bounded(move || c.eval(code, &promise_result()))?,
        Value::from(3)
    );
    let c = context.clone();
    assert_eq!(
        bounded(move || c.eval_async(code, promise_result()).wait())?,
        Value::from(3)
    );
    Ok(())
}
