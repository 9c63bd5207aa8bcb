//! Isolates: dispose, use after dispose, statistics, times, many isolates, threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use engine_api::{
    Backend, Context, Error, EvalOptions, Isolate, IsolateOptions, Reference, Script,
    TransferOptions, Value,
};

use crate::support::{R, eval, expect_err, setup};
use crate::{Case, ensure, ensure_eq};

/// The isolate cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new("isolates/dispose", dispose::<E>),
        Case::new("isolates/dispose_twice", dispose_twice::<E>),
        Case::new("isolates/use_after_dispose", use_after_dispose::<E>),
        Case::new(
            "isolates/reference_after_dispose",
            reference_after_dispose::<E>,
        ),
        Case::new("isolates/script_after_dispose", script_after_dispose::<E>),
        Case::new(
            "isolates/dispose_with_queued_work",
            dispose_with_queued_work::<E>,
        ),
        Case::new("isolates/dispose_race_threads", dispose_race::<E>),
        Case::new("isolates/heap_statistics", heap_statistics::<E>),
        Case::new("isolates/cpu_and_wall_time", times::<E>),
        Case::new("isolates/many_isolates", many_isolates::<E>),
        Case::new("isolates/create_dispose_cycles", create_dispose_cycles::<E>),
        Case::new("isolates/dropped_without_dispose", dropped::<E>),
        Case::new(
            "isolates/one_isolate_many_threads",
            one_isolate_many_threads::<E>,
        ),
        Case::new("isolates/isolate_per_thread", isolate_per_thread::<E>),
        Case::new("isolates/minimum_memory_limit", minimum_memory_limit::<E>),
        Case::new("isolates/ids_unique", ids_unique::<E>),
    ]
}

fn is_disposed_err(e: &Error) -> bool {
    matches!(e, Error::Disposed)
}

fn dispose<E: Backend>() -> R {
    let (i, _c) = setup::<E>()?;
    ensure!(!i.is_disposed());
    i.dispose()?;
    ensure!(i.is_disposed());
    ensure!(i.clone().is_disposed(), "clones see the dispose");
    Ok(())
}

fn dispose_twice<E: Backend>() -> R {
    let (i, _c) = setup::<E>()?;
    i.dispose()?;
    expect_err(i.dispose(), "Disposed", is_disposed_err)?;
    Ok(())
}

fn use_after_dispose<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    i.dispose()?;
    expect_err(
        c.eval("1", &EvalOptions::default()),
        "Disposed",
        is_disposed_err,
    )?;
    expect_err(i.create_context(), "Disposed", is_disposed_err)?;
    expect_err(
        i.compile_script("1", &Default::default()),
        "Disposed",
        is_disposed_err,
    )?;
    expect_err(
        i.compile_module("1", &Default::default()),
        "Disposed",
        is_disposed_err,
    )?;
    expect_err(i.heap_statistics(), "Disposed", is_disposed_err)?;
    expect_err(
        pollster::block_on(c.eval_async("1", EvalOptions::default())),
        "Disposed",
        is_disposed_err,
    )?;
    Ok(())
}

fn reference_after_dispose<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let g = c.global()?;
    i.dispose()?;
    let r = g.get("Array".into(), &TransferOptions::default());
    expect_err(r, "Disposed or Released", |e| {
        matches!(e, Error::Disposed | Error::Released(_))
    })?;
    Ok(())
}

fn script_after_dispose<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let s = i.compile_script("1", &Default::default())?;
    i.dispose()?;
    expect_err(s.run(&c, &Default::default()), "Disposed", |e| {
        matches!(e, Error::Disposed | Error::Released(_))
    })?;
    Ok(())
}

fn dispose_with_queued_work<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let tasks: Vec<_> = (0..20)
        .map(|n| c.eval_async(format!("{n}"), EvalOptions::default()))
        .collect();
    i.dispose()?;
    for t in tasks {
        match t.wait() {
            Ok(_) | Err(Error::Disposed) => {}
            Err(e) => return Err(format!("queued work ended with {e:?}").into()),
        }
    }
    Ok(())
}

fn dispose_race<E: Backend>() -> R {
    for _ in 0..5 {
        let (i, c) = setup::<E>()?;
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        match c.eval("[1, 2, 3].map(x => x * 2).length", &EvalOptions::copy()) {
                            Ok(v) => assert_eq!(v, Value::from(3)),
                            Err(Error::Disposed) => return,
                            Err(e) => panic!("unexpected error in dispose race: {e:?}"),
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let _ = i.dispose();
        for w in workers {
            w.join().map_err(|_| "worker panicked".to_string())?;
        }
        ensure!(i.is_disposed());
    }
    Ok(())
}

fn heap_statistics<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let before = i.heap_statistics()?;
    ensure!(before.used_heap_size > 0, "{before:?}");
    ensure!(before.heap_size_limit > 0, "{before:?}");
    eval(&c, "globalThis.big = new Array(200000).fill({ a: 1 }); 1")?;
    let after = i.heap_statistics()?;
    ensure!(
        after.used_heap_size > before.used_heap_size,
        "{before:?} -> {after:?}"
    );
    let st = pollster::block_on(i.heap_statistics_async())?;
    ensure!(st.total_heap_size >= st.used_heap_size.min(st.total_heap_size));
    Ok(())
}

fn times<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    eval(&c, "let s = 0; for (let k = 0; k < 300000; k++) s += k; s")?;
    ensure!(i.cpu_time() > std::time::Duration::ZERO, "cpu time zero");
    ensure!(i.wall_time() > std::time::Duration::ZERO, "wall time zero");
    let (cpu, wall) = (i.cpu_time(), i.wall_time());
    eval(&c, "let t = 0; for (let k = 0; k < 300000; k++) t += k; t")?;
    ensure!(
        i.cpu_time() > cpu && i.wall_time() > wall,
        "times did not grow"
    );
    Ok(())
}

fn many_isolates<E: Backend>() -> R {
    let isolates: Vec<_> = (0..100).map(|_| setup::<E>()).collect::<Result<_, _>>()?;
    for (n, (_i, c)) in isolates.iter().enumerate() {
        c.eval_closure(
            "globalThis.id = $0",
            vec![n.into()],
            &EvalOptions::default(),
        )?;
    }
    for (n, (_i, c)) in isolates.iter().enumerate() {
        ensure_eq!(eval(c, "id")?, Value::from(n));
    }
    Ok(())
}

fn create_dispose_cycles<E: Backend>() -> R {
    for n in 0..300 {
        let (i, c) = setup::<E>()?;
        ensure_eq!(eval(&c, &format!("{n} * 2"))?, Value::from(n * 2));
        i.dispose()?;
    }
    Ok(())
}

fn dropped<E: Backend>() -> R {
    for _ in 0..50 {
        let (_i, c) = setup::<E>()?;
        eval(&c, "globalThis.x = new Array(1000).fill(1)")?;
    }
    let (_i, c) = setup::<E>()?;
    ensure_eq!(eval(&c, "1")?, Value::from(1));
    Ok(())
}

fn one_isolate_many_threads<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    eval(&c, "globalThis.counter = 0")?;
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                for _ in 0..100 {
                    c.eval("counter++", &EvalOptions::default()).expect("eval");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().map_err(|_| "thread panicked".to_string())?;
    }
    ensure_eq!(eval(&c, "counter")?, Value::from(400));
    Ok(())
}

fn isolate_per_thread<E: Backend>() -> R {
    let done = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let done = done.clone();
            std::thread::spawn(move || -> Result<(), String> {
                let i = E::Isolate::new(IsolateOptions::default()).map_err(|e| e.to_string())?;
                let c = i.create_context().map_err(|e| e.to_string())?;
                let v = c
                    .eval(
                        &format!("let s = 0; for (let k = 0; k < 10000; k++) s += {t}; s"),
                        &EvalOptions::copy(),
                    )
                    .map_err(|e| e.to_string())?;
                if v != Value::from(10000 * t) {
                    return Err(format!("thread {t}: {v:?}"));
                }
                done.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })
        })
        .collect();
    for t in threads {
        t.join().map_err(|_| "thread panicked".to_string())??;
    }
    ensure_eq!(done.load(Ordering::SeqCst), 4);
    Ok(())
}

/// Below [`IsolateOptions::MIN_MEMORY_LIMIT_MB`] the limit is refused, not raised silently.
fn minimum_memory_limit<E: Backend>() -> R {
    for mb in [0, 1, 4, IsolateOptions::MIN_MEMORY_LIMIT_MB - 1] {
        let r = E::Isolate::new(IsolateOptions {
            memory_limit_mb: mb,
            ..Default::default()
        });
        expect_err(r, "InvalidOption memory_limit_mb", |e| {
            matches!(
                e,
                Error::InvalidOption {
                    option: "memory_limit_mb",
                    ..
                }
            )
        })?;
    }
    let (_i, c) = crate::support::setup_with::<E>(IsolateOptions {
        memory_limit_mb: IsolateOptions::MIN_MEMORY_LIMIT_MB,
        ..Default::default()
    })?;
    ensure_eq!(eval(&c, "'still runs'")?, Value::from("still runs"));
    Ok(())
}

fn ids_unique<E: Backend>() -> R {
    let a = E::Isolate::new(Default::default())?;
    let b = E::Isolate::new(Default::default())?;
    ensure!(a.id() != b.id());
    ensure_eq!(a.clone().id(), a.id());
    Ok(())
}
