//! Snapshots, code cache and modules.

use backend_v8::V8;
use engine_api::{
    Backend, Context, Error, EvalOptions, Isolate, IsolateOptions, Module, Reference, RunOptions,
    Script, ScriptOptions, ScriptOrigin, SnapshotScript, TransferOptions, Value,
};

type I = <V8 as Backend>::Isolate;

#[test]
fn snapshot_carries_state() {
    let snapshot = V8::create_snapshot(
        &[SnapshotScript {
            code: "globalThis.greet = (n) => 'hello ' + n; globalThis.counter = 10;".into(),
            origin: ScriptOrigin::file("boot.js"),
        }],
        Some("greet('warm'); globalThis.counter = 999;"),
    )
    .unwrap();
    assert!(!snapshot.0.is_empty());
    let iso = I::new(IsolateOptions {
        snapshot: Some(snapshot.clone()),
        ..Default::default()
    })
    .unwrap();
    let ctx = iso.create_context().unwrap();
    assert_eq!(
        ctx.eval("greet('you')", &EvalOptions::default()).unwrap(),
        Value::from("hello you")
    );
    // The warmup's effects are not in the snapshot.
    assert_eq!(
        ctx.eval("counter", &EvalOptions::default()).unwrap(),
        Value::from(10)
    );
    // The ivm API is still there.
    assert_eq!(
        ctx.eval("typeof ivm.Reference", &EvalOptions::default())
            .unwrap(),
        Value::from("function")
    );
    // A second isolate from the same snapshot is independent.
    let ctx2 = I::new(IsolateOptions {
        snapshot: Some(snapshot),
        ..Default::default()
    })
    .unwrap()
    .create_context()
    .unwrap();
    ctx.eval("counter = 1", &EvalOptions::default()).unwrap();
    assert_eq!(
        ctx2.eval("counter", &EvalOptions::default()).unwrap(),
        Value::from(10)
    );
}

#[test]
fn snapshot_script_errors_are_reported() {
    let err = V8::create_snapshot(
        &[SnapshotScript {
            code: "throw new Error('bad boot')".into(),
            ..Default::default()
        }],
        None,
    )
    .unwrap_err();
    let Error::Js(e) = err else { panic!("{err:?}") };
    assert_eq!(e.message, "bad boot");
}

#[test]
fn code_cache_produce_and_consume() {
    let code = "function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) } fib(20)";
    let iso = I::new(IsolateOptions::default()).unwrap();
    let script = iso
        .compile_script(
            code,
            &ScriptOptions {
                produce_cached_data: true,
                ..Default::default()
            },
        )
        .unwrap();
    let cache = script.cached_data().expect("code cache");
    assert_eq!(script.cached_data_rejected(), None);
    let iso2 = I::new(IsolateOptions::default()).unwrap();
    let script2 = iso2
        .compile_script(
            code,
            &ScriptOptions {
                cached_data: Some(cache.clone()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(script2.cached_data_rejected(), Some(false));
    let ctx = iso2.create_context().unwrap();
    assert_eq!(
        script2.run(&ctx, &RunOptions::default()).unwrap(),
        Value::from(6765)
    );
    // A cache for other code is rejected, and the script still works.
    let script3 = iso2
        .compile_script(
            "1 + 1",
            &ScriptOptions {
                cached_data: Some(cache),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(script3.cached_data_rejected(), Some(true));
    assert_eq!(
        script3.run(&ctx, &RunOptions::default()).unwrap(),
        Value::from(2)
    );
    let garbage = iso2
        .compile_script(
            "2",
            &ScriptOptions {
                cached_data: Some(vec![1u8, 2, 3].into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(garbage.cached_data_rejected(), Some(true));
    // Same isolate, same source (V8's compilation cache hits): garbage is still rejected.
    let again = iso
        .compile_script(
            code,
            &ScriptOptions {
                cached_data: Some(vec![9u8; 64].into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(again.cached_data_rejected(), Some(true));
}

#[test]
fn scripts_run_in_any_context_and_release() {
    let iso = I::new(IsolateOptions::default()).unwrap();
    let script = iso
        .compile_script(
            "globalThis.n = (globalThis.n || 0) + 1",
            &Default::default(),
        )
        .unwrap();
    let a = iso.create_context().unwrap();
    let b = iso.create_context().unwrap();
    script.run(&a, &RunOptions::default()).unwrap();
    script.run(&a, &RunOptions::default()).unwrap();
    assert_eq!(
        script
            .run(
                &b,
                &RunOptions {
                    release: true,
                    ..Default::default()
                }
            )
            .unwrap(),
        Value::from(1)
    );
    assert!(matches!(
        script.run(&a, &RunOptions::default()),
        Err(Error::Released(_))
    ));
    let task = iso
        .compile_script("40 + 2", &Default::default())
        .unwrap()
        .run_async(&a, RunOptions::default());
    assert_eq!(task.wait().unwrap(), Value::from(42));
}

#[test]
fn modules_link_evaluate_namespace() {
    let iso = I::new(IsolateOptions::default()).unwrap();
    let ctx = iso.create_context().unwrap();
    let dep = iso
        .compile_module(
            "export const x = 40; export default function two() { return 2 }",
            &ScriptOptions {
                origin: ScriptOrigin::file("dep.js"),
                ..Default::default()
            },
        )
        .unwrap();
    let main = iso
        .compile_module(
            "import two, { x } from './dep.js'; export const y = x + two(); await null;",
            &Default::default(),
        )
        .unwrap();
    assert_eq!(
        main.dependency_specifiers().unwrap(),
        vec!["./dep.js".to_string()]
    );
    let dep2 = dep.clone();
    main.instantiate(&ctx, &mut |spec, _referrer| {
        assert_eq!(spec, "./dep.js");
        Ok(dep2.clone())
    })
    .unwrap();
    let opts = RunOptions {
        result: TransferOptions::default().with_promise(),
        ..Default::default()
    };
    assert_eq!(main.evaluate(&opts).unwrap(), Value::Undefined);
    assert_eq!(main.evaluate(&opts).unwrap(), Value::Undefined);
    let ns = main.namespace().unwrap();
    assert_eq!(
        ns.get("y".into(), &TransferOptions::default()).unwrap(),
        Value::from(42)
    );
}

#[test]
fn module_errors() {
    let iso = I::new(IsolateOptions::default()).unwrap();
    let ctx = iso.create_context().unwrap();
    let m = iso
        .compile_module("import './missing.js'", &Default::default())
        .unwrap();
    let err = m
        .instantiate(&ctx, &mut |_, _| {
            Err(Error::InvalidArgument("no such module".into()))
        })
        .unwrap_err();
    assert_eq!(err, Error::InvalidArgument("no such module".into()));
    let thrower = iso
        .compile_module("throw new Error('top')", &Default::default())
        .unwrap();
    thrower
        .instantiate(&ctx, &mut |_, _| unreachable!())
        .unwrap();
    let first = thrower.evaluate(&RunOptions::default()).unwrap_err();
    assert_eq!(thrower.evaluate(&RunOptions::default()).unwrap_err(), first);
    let Error::Js(e) = first else { panic!() };
    assert_eq!(e.message, "top");
    let Error::Js(e) = iso
        .compile_module("export let = 1", &Default::default())
        .unwrap_err()
    else {
        panic!()
    };
    assert_eq!(e.name, "SyntaxError");
    let other = I::new(IsolateOptions::default()).unwrap();
    let foreign = other
        .compile_module("export const a = 1", &Default::default())
        .unwrap();
    let m = iso
        .compile_module("import { a } from 'x'", &Default::default())
        .unwrap();
    assert_eq!(
        m.instantiate(&ctx, &mut |_, _| Ok(foreign.clone()))
            .unwrap_err(),
        Error::WrongIsolate
    );
}

#[test]
fn corrupt_snapshot_is_an_error() {
    for bytes in [vec![0u8; 16], vec![1u8; 4096]] {
        let err = I::new(IsolateOptions {
            snapshot: Some(engine_api::Snapshot(bytes.into())),
            ..Default::default()
        })
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidOption {
                    option: "snapshot",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}

#[test]
fn snapshots_beside_busy_isolates() {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let iso = I::new(IsolateOptions::default()).unwrap();
                    let ctx = iso.create_context().unwrap();
                    let s = iso
                        .compile_script(
                            "'w' + [1, 2].join()",
                            &ScriptOptions {
                                produce_cached_data: true,
                                ..Default::default()
                            },
                        )
                        .unwrap();
                    assert_eq!(
                        s.run(&ctx, &RunOptions::default()).unwrap(),
                        Value::from("w1,2")
                    );
                }
            })
        })
        .collect();
    for i in 0..5 {
        let snap = V8::create_snapshot(
            &[SnapshotScript {
                code: format!("globalThis.gen = {i}; globalThis.names = ['alpha{i}', 'beta{i}']"),
                ..Default::default()
            }],
            None,
        )
        .unwrap();
        let ctx = I::new(IsolateOptions {
            snapshot: Some(snap),
            ..Default::default()
        })
        .unwrap()
        .create_context()
        .unwrap();
        assert_eq!(
            ctx.eval("gen + names[1]", &EvalOptions::default()).unwrap(),
            Value::from(format!("{i}beta{i}"))
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
}
