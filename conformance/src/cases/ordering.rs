//! Sync, async and ignored work of one isolate runs in the order it was queued.

use engine_api::{Backend, Context, EvalOptions, Isolate, Value};

use crate::support::{R, eval, setup};
use crate::{Case, ensure_eq};

/// The ordering cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new("ordering/ignored_then_async", ignored_then_async::<E>),
        Case::new("ordering/async_then_sync", async_then_sync::<E>),
        Case::new("ordering/interleaved_forms", interleaved::<E>),
        Case::new("ordering/async_results_in_order", async_results::<E>),
        Case::new(
            "ordering/async_error_does_not_block_queue",
            async_error::<E>,
        ),
        Case::new(
            "ordering/module_evaluate_ignored_then_async",
            module_ignored::<E>,
        ),
        Case::new(
            "ordering/isolates_share_the_worker_pool",
            share_the_pool::<E>,
        ),
        Case::new(
            "ordering/slow_host_calls_of_one_isolate_do_not_delay_another",
            share_the_host_pool::<E>,
        ),
    ]
}

/// Eight isolates with a backlog of 5 ms jobs each do not make a ninth wait for their
/// backlogs: the worker pool serves queues round-robin, a short slice at a time. (Counted
/// in jobs done, not in time: with whole backlogs run first, at least half of them would
/// be done before the ninth isolate ran.)
fn share_the_pool<E: Backend>() -> R {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    const BUSY: usize = 8;
    const JOBS: usize = 20;
    let done = Arc::new(AtomicUsize::new(0));
    let mut busy = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..BUSY {
        let (i, c) = setup::<E>()?;
        let d = done.clone();
        let tick = engine_api::Callback::new(move |_| {
            d.fetch_add(1, Ordering::SeqCst);
            Ok(Value::Undefined)
        });
        c.eval_closure(
            "globalThis.tick = $0",
            vec![tick.into()],
            &EvalOptions::default(),
        )?;
        busy.push((i, c));
    }
    let (_other, other) = setup::<E>()?;
    for _ in 0..JOBS {
        for (_, c) in &busy {
            tasks.push(c.eval_async(
                "{ const t = Date.now(); while (Date.now() - t < 5) {} tick() }",
                EvalOptions::default(),
            ));
        }
    }
    ensure_eq!(
        other.eval_async("1 + 1", EvalOptions::copy()).wait()?,
        Value::from(2)
    );
    let at_other = done.load(Ordering::SeqCst);
    for t in tasks {
        t.wait()?;
    }
    ensure_eq!(done.load(Ordering::SeqCst), BUSY * JOBS);
    crate::ensure!(
        at_other < BUSY * JOBS / 2,
        "the ninth isolate's call ran only after {at_other} of {} backlog jobs",
        BUSY * JOBS
    );
    Ok(())
}

/// One tenant's flood of 200 slow async host calls (25 ms each, blocking a host thread)
/// does not make another tenant's async host call wait for the flood: the host pool serves
/// isolates round-robin. (Counted in calls done, not in time: served first in, first out,
/// the other call would come after all 200.)
fn share_the_host_pool<E: Backend>() -> R {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    const FLOOD: usize = 200;
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    let slow = engine_api::Callback::new_async(move |_| {
        std::thread::sleep(std::time::Duration::from_millis(25));
        d.fetch_add(1, Ordering::SeqCst);
        Ok(Value::Undefined)
    });
    let (_flooder, flooder) = setup::<E>()?;
    flooder.eval_closure(
        &format!("for (let i = 0; i < {FLOOD}; i++) $0()"),
        vec![slow.into()],
        &EvalOptions::default(),
    )?;
    let (_other, other) = setup::<E>()?;
    let quick = engine_api::Callback::new_async(|_| Ok(Value::from(7)));
    let opts = EvalOptions {
        result: engine_api::TransferOptions::copy().with_promise(),
        ..Default::default()
    };
    let v = other.eval_closure("return $0()", vec![quick.into()], &opts)?;
    let at_other = done.load(Ordering::SeqCst);
    ensure_eq!(v, Value::from(7));
    crate::ensure!(
        at_other < FLOOD / 2,
        "the other isolate's host call was served only after {at_other} of {FLOOD} flood calls"
    );
    // The flood itself completes (bounded generously: 200 x 25 ms on a few host threads).
    let until = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while done.load(Ordering::SeqCst) < FLOOD && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    ensure_eq!(done.load(Ordering::SeqCst), FLOOD);
    Ok(())
}

fn ignored_then_async<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    eval(&c, "globalThis.log = []")?;
    for n in 0..10 {
        c.eval_ignored(format!("log.push({n})"), EvalOptions::default());
    }
    let v = pollster::block_on(c.eval_async("log.join()", EvalOptions::copy()))?;
    ensure_eq!(v, Value::from("0,1,2,3,4,5,6,7,8,9"));
    Ok(())
}

fn async_then_sync<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    eval(&c, "globalThis.seq = ''")?;
    let tasks: Vec<_> = (0..5)
        .map(|n| c.eval_async(format!("seq += '{n}'"), EvalOptions::default()))
        .collect();
    ensure_eq!(eval(&c, "seq")?, Value::from("01234"));
    for t in tasks {
        t.wait()?;
    }
    Ok(())
}

fn interleaved<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    eval(&c, "globalThis.out = []")?;
    let mut tasks = Vec::new();
    for n in 0..30 {
        match n % 3 {
            0 => c.eval_ignored(format!("out.push({n})"), EvalOptions::default()),
            1 => tasks.push(c.eval_async(format!("out.push({n})"), EvalOptions::default())),
            _ => {
                c.eval(&format!("out.push({n})"), &EvalOptions::default())?;
            }
        }
    }
    let s = i.compile_script("out.length", &Default::default())?;
    let n = engine_api::Script::run(&s, &c, &Default::default())?;
    ensure_eq!(n, Value::from(30));
    let v = eval(&c, "out.every((x, k) => x === k)")?;
    ensure_eq!(v, Value::from(true));
    for t in tasks {
        t.wait()?;
    }
    Ok(())
}

fn async_results<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    eval(&c, "globalThis.k = 0")?;
    let tasks: Vec<_> = (0..20)
        .map(|_| c.eval_async("++k", EvalOptions::copy()))
        .collect();
    for (n, t) in tasks.into_iter().enumerate() {
        ensure_eq!(t.wait()?, Value::from(n + 1));
    }
    Ok(())
}

fn async_error<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let bad = c.eval_async("throw new Error('async')", EvalOptions::default());
    let good = c.eval_async("'after'", EvalOptions::copy());
    crate::support::expect_js(bad.wait(), "Error")?;
    ensure_eq!(good.wait()?, Value::from("after"));
    Ok(())
}

fn module_ignored<E: Backend>() -> R {
    use engine_api::Module;
    let (i, c) = setup::<E>()?;
    let m = i.compile_module("globalThis.fromModule = 'evaluated';", &Default::default())?;
    m.instantiate(&c, &mut |spec: &str, _: &E::Module| {
        Err(engine_api::Error::InvalidArgument(format!(
            "no import {spec} expected"
        )))
    })?;
    m.evaluate_ignored(Default::default());
    let v = pollster::block_on(c.eval_async("fromModule", EvalOptions::copy()))?;
    ensure_eq!(v, Value::from("evaluated"));
    Ok(())
}
