//! A few fast end-to-end checks of the Boa-WASI host (the full suite is `conformance`).

use std::time::{Duration, Instant};

use backend_boa::BoaIsolate;
use engine_api::{
    Callback, Context, DeterministicSeed, Error, EvalOptions, Isolate, IsolateOptions, Module,
    Reference, RunOptions, Script, ScriptOptions, TransferOptions, Value,
};

fn isolate() -> BoaIsolate {
    BoaIsolate::new(IsolateOptions::default()).expect("isolate")
}

fn js_message(e: &Error) -> String {
    e.as_js()
        .map(|j| format!("{}: {}", j.name, j.message))
        .unwrap_or_else(|| e.to_string())
}

#[test]
fn eval_one_plus_one() -> anyhow::Result<()> {
    let context = isolate().create_context()?;
    assert_eq!(
        context.eval("1 + 1", &EvalOptions::default())?,
        Value::from(2)
    );
    let v = context.eval("({a: [1, 'x', null]})", &EvalOptions::copy())?;
    assert_eq!(
        v,
        Value::object([("a", Value::Array(vec![1.into(), "x".into(), Value::Null]))])
    );
    let err = context.eval("throw new TypeError('boom')", &EvalOptions::default());
    assert_eq!(
        err.unwrap_err().as_js().map(|j| j.name.as_str()),
        Some("TypeError")
    );
    Ok(())
}

#[test]
fn scripts_and_closures() -> anyhow::Result<()> {
    let isolate = isolate();
    let context = isolate.create_context()?;
    let script = isolate.compile_script(
        "globalThis.n = (globalThis.n || 0) + 1",
        &ScriptOptions::default(),
    )?;
    script.run(&context, &RunOptions::default())?;
    assert_eq!(
        script.run(&context, &RunOptions::default())?,
        Value::from(2)
    );
    let v = context.eval_closure(
        "return $0 + $1",
        vec![2.into(), 40.into()],
        &EvalOptions::default(),
    )?;
    assert_eq!(v, Value::from(42));
    let other = BoaIsolate::new(IsolateOptions::default())?.create_context()?;
    assert_eq!(
        script.run(&other, &RunOptions::default()).unwrap_err(),
        Error::WrongIsolate
    );
    Ok(())
}

#[test]
fn callbacks_sync_async_and_errors() -> anyhow::Result<()> {
    let context = isolate().create_context()?;
    let global = context.global()?;
    let add = Callback::new(|args| {
        let n: f64 = args.iter().filter_map(Value::as_f64).sum();
        Ok(Value::from(n))
    });
    global.set("add".into(), add.into(), &TransferOptions::default())?;
    assert_eq!(
        context.eval("add(2, 3)", &EvalOptions::default())?,
        Value::from(5)
    );

    let fail = Callback::new(|_| Err(Error::js("RangeError", "nope")));
    global.set("fail".into(), fail.into(), &TransferOptions::default())?;
    let v = context.eval(
        "try { fail() } catch (e) { e.name + ':' + e.message }",
        &EvalOptions::default(),
    )?;
    assert_eq!(v, Value::from("RangeError:nope"));

    let double = Callback::new_async(|args| {
        std::thread::sleep(Duration::from_millis(5));
        Ok(Value::from(args[0].as_f64().unwrap_or(0.0) * 2.0))
    });
    global.set("double".into(), double.into(), &TransferOptions::default())?;
    let opts = EvalOptions {
        result: TransferOptions::copy().with_promise(),
        ..Default::default()
    };
    assert_eq!(
        context.eval("double(21).then(x => x + 1)", &opts)?,
        Value::from(43)
    );
    // The same from the worker pool (the waiter holds the isolate's turn).
    let task = context.eval_async("double(4)", opts);
    assert_eq!(task.wait()?, Value::from(8));
    Ok(())
}

#[test]
fn reentrant_callback_runs_nested() -> anyhow::Result<()> {
    let context = isolate().create_context()?;
    let inner = context.clone();
    let cb = Callback::new(move |_| inner.eval("base + 1", &EvalOptions::default()));
    context
        .global()?
        .set("reenter".into(), cb.into(), &TransferOptions::default())?;
    let v = context.eval(
        "globalThis.base = 40; reenter() + 1",
        &EvalOptions::default(),
    )?;
    assert_eq!(v, Value::from(42));
    assert_eq!(context.eval("2", &EvalOptions::default())?, Value::from(2));
    Ok(())
}

#[test]
fn references() -> anyhow::Result<()> {
    let context = isolate().create_context()?;
    let global = context.global()?;
    let math = global.get("Math".into(), &TransferOptions::default())?;
    let Value::Reference(math) = math else {
        panic!("expected a reference, got {math:?}")
    };
    let max = math.get("max".into(), &engine_api::PropertyOptions::default())?;
    let Value::Reference(max) = max else {
        panic!("expected a reference")
    };
    let v = max.apply(
        Value::Undefined,
        vec![1.into(), 7.into(), 3.into()],
        &Default::default(),
    )?;
    assert_eq!(v, Value::from(7));
    let isolate = context.isolate();
    let before = isolate.reference_count();
    max.release();
    assert_eq!(isolate.reference_count(), before - 1);
    assert!(matches!(
        max.get("x".into(), &engine_api::PropertyOptions::default()),
        Err(Error::Released(_))
    ));
    Ok(())
}

#[test]
fn modules() -> anyhow::Result<()> {
    let isolate = isolate();
    let context = isolate.create_context()?;
    let main = isolate.compile_module(
        "import { x } from 'dep'; export const y = x * 2;",
        &ScriptOptions::default(),
    )?;
    assert_eq!(main.dependency_specifiers()?, vec!["dep".to_string()]);
    let iso = isolate.clone();
    main.instantiate(&context, &mut |spec, _| {
        assert_eq!(spec, "dep");
        iso.compile_module("export const x = 21;", &ScriptOptions::default())
    })?;
    main.evaluate(&RunOptions::default())?;
    let ns = main.namespace()?;
    assert_eq!(
        ns.get("y".into(), &TransferOptions::copy())?,
        Value::from(42)
    );
    Ok(())
}

#[test]
fn memory_limit_disposes_the_isolate() -> anyhow::Result<()> {
    let isolate = BoaIsolate::new(IsolateOptions {
        memory_limit_mb: 32,
        ..Default::default()
    })?;
    let context = isolate.create_context()?;
    let err = context
        .eval(
            "const a = []; while (true) a.push(new Array(10000).fill('x'));",
            &EvalOptions::default(),
        )
        .unwrap_err();
    assert_eq!(err, Error::MemoryLimit, "{}", js_message(&err));
    assert!(isolate.is_disposed());
    assert_eq!(
        context.eval("1", &EvalOptions::default()).unwrap_err(),
        Error::Disposed
    );
    Ok(())
}

#[test]
fn fuel_runs_out() -> anyhow::Result<()> {
    let isolate = BoaIsolate::new(IsolateOptions {
        fuel: Some(200_000_000),
        ..Default::default()
    })?;
    let context = isolate.create_context()?;
    let before = isolate.fuel_remaining().unwrap_or(0);
    context.eval(
        "let s = 0; for (let i = 0; i < 1000; i++) s += i; s",
        &EvalOptions::default(),
    )?;
    let after = isolate.fuel_remaining().unwrap_or(0);
    assert!(after < before, "{after} < {before}");
    let err = context
        .eval("while (true) {}", &EvalOptions::default())
        .unwrap_err();
    assert_eq!(err, Error::OutOfFuel);
    assert!(isolate.is_disposed());
    Ok(())
}

#[test]
fn timeout_stops_an_endless_loop() -> anyhow::Result<()> {
    let isolate = isolate();
    let context = isolate.create_context()?;
    let start = Instant::now();
    let err = context
        .eval(
            "while (true) {}",
            &EvalOptions::default().with_timeout(Duration::from_millis(50)),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(start.elapsed() < Duration::from_secs(5));
    // A soft stop ends the call only: the isolate and its context stay usable,
    // as on V8 and in isolated-vm.
    assert!(!isolate.is_disposed());
    assert_eq!(
        context.eval("1 + 1", &EvalOptions::default())?,
        Value::from(2)
    );
    // Other isolates carry on.
    let other = BoaIsolate::new(IsolateOptions::default())?.create_context()?;
    assert_eq!(other.eval("3", &EvalOptions::default())?, Value::from(3));
    Ok(())
}

#[test]
fn dispose_from_another_thread_stops_a_running_call() -> anyhow::Result<()> {
    let isolate = isolate();
    let context = isolate.create_context()?;
    let handle = isolate.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        handle.dispose()
    });
    let err = context
        .eval("while (true) {}", &EvalOptions::default())
        .unwrap_err();
    assert_eq!(err, Error::Disposed);
    t.join().expect("thread")?;
    assert_eq!(isolate.dispose().unwrap_err(), Error::Disposed);
    Ok(())
}

#[test]
fn dispose_twice() -> anyhow::Result<()> {
    let isolate = isolate();
    let context = isolate.create_context()?;
    isolate.dispose()?;
    assert!(isolate.is_disposed());
    assert_eq!(isolate.dispose().unwrap_err(), Error::Disposed);
    assert_eq!(
        context.eval("1", &EvalOptions::default()).unwrap_err(),
        Error::Disposed
    );
    Ok(())
}

#[test]
fn deterministic_isolates_agree() -> anyhow::Result<()> {
    let run = || -> anyhow::Result<Value> {
        let isolate = BoaIsolate::new(IsolateOptions {
            deterministic: Some(DeterministicSeed {
                start_time_ms: 1_000_000,
                random_seed: 7,
            }),
            ..Default::default()
        })?;
        let context = isolate.create_context()?;
        Ok(context.eval(
            "[Math.random(), Math.random(), Date.now()]",
            &EvalOptions::copy(),
        )?)
    };
    let (a, b) = (run()?, run()?);
    assert_eq!(a, b);
    let now = a.as_array().and_then(|a| a[2].as_f64()).unwrap_or(0.0);
    assert!((1_000_000.0..1_001_000.0).contains(&now), "{now}");
    Ok(())
}

#[test]
fn heap_statistics_and_times() -> anyhow::Result<()> {
    let isolate = isolate();
    let context = isolate.create_context()?;
    context.eval("let a = new Array(1000).fill(1)", &EvalOptions::default())?;
    let stats = isolate.heap_statistics()?;
    assert!(stats.used_heap_size > 0 && stats.used_heap_size <= stats.total_heap_size);
    assert!(stats.heap_size_limit >= 128 << 20);
    assert!(stats.total_heap_size <= stats.heap_size_limit);
    assert!(isolate.wall_time() > Duration::ZERO);
    Ok(())
}

#[test]
fn guest_hash_matches_the_embedded_module() {
    use sha2::Digest;
    let digest: [u8; 32] = sha2::Sha256::digest(backend_boa::guest_wasm()).into();
    assert_eq!(&digest, backend_boa::guest_wasm_sha256());
}

#[test]
fn guest_external_copies_count_against_the_limit() -> anyhow::Result<()> {
    let isolate = BoaIsolate::new(IsolateOptions {
        memory_limit_mb: 8,
        ..Default::default()
    })?;
    let context = isolate.create_context()?;
    // Copies held past the limit end the call as `MemoryLimit`, even if the guest catches
    // the error it sees.
    let r = context.eval(
        "const keep = []; const s = 'x'.repeat(1 << 18); let err = 'none';\n\
         try { for (let i = 0; i < 400; i++) keep.push(new ivm.ExternalCopy(s)) }\n\
         catch (e) { err = e.name }\n\
         err",
        &EvalOptions::default(),
    );
    assert_eq!(r, Err(Error::MemoryLimit));
    assert!(isolate.is_disposed());
    // Below the limit, copies are fine.
    let context = BoaIsolate::new(IsolateOptions::default())?.create_context()?;
    let v = context.eval(
        "const s = 'x'.repeat(1 << 18); const keep = [];\n\
         for (let i = 0; i < 4; i++) keep.push(new ivm.ExternalCopy(s)); keep.length",
        &EvalOptions::default(),
    )?;
    assert_eq!(v, Value::from(4));
    Ok(())
}

#[test]
fn many_async_waits_do_not_starve_async_callbacks() -> anyhow::Result<()> {
    // More `_async` calls waiting on async host callbacks than the shared pool has workers.
    let slow = Callback::new_async(|_| {
        std::thread::sleep(Duration::from_millis(20));
        Ok(Value::from(1))
    });
    let opts = EvalOptions {
        result: TransferOptions::copy().with_promise(),
        ..Default::default()
    };
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let context = isolate().create_context()?;
        context.global()?.set(
            "slow".into(),
            slow.clone().into(),
            &TransferOptions::default(),
        )?;
        tasks.push((context.clone(), context.eval_async("slow()", opts.clone())));
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let results: Vec<_> = tasks.into_iter().map(|(_c, t)| t.wait()).collect();
        let _ = tx.send(results);
    });
    let results = rx
        .recv_timeout(Duration::from_secs(60))
        .map_err(|_| anyhow::anyhow!("async calls deadlocked"))?;
    for r in results {
        assert_eq!(r?, Value::from(1));
    }
    Ok(())
}

/// Copied-in objects are ordinary objects of the receiving context's realm, in the first
/// context (shared shapes) and in later ones (shapes of their own) alike.
#[test]
fn copied_objects_belong_to_their_context() -> anyhow::Result<()> {
    let iso = isolate();
    let records = Value::Array(
        (0..3)
            .map(|i| Value::object([("id", Value::from(i)), ("__proto__", Value::from("x"))]))
            .collect(),
    );
    let check = "return $0.every(r => Object.getPrototypeOf(r) === Object.prototype \
                 && Object.keys(r).join() === 'id,__proto__' && r.__proto__ === 'x' \
                 && Object.getOwnPropertyDescriptor(r, 'id').writable) \
                 && $0[0] !== $0[1] && ($0[0].id = 5, $0[1].id === 1)";
    for _ in 0..3 {
        let context = iso.create_context()?;
        let ok = context.eval_closure(check, vec![records.clone()], &EvalOptions::default())?;
        assert_eq!(ok, Value::from(true));
    }
    Ok(())
}
