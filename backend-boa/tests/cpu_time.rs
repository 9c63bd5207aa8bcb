//! `cpu_time` counts the isolate's own guest code: not its host callbacks, and it grows
//! while a long call runs. Bounds are generous (a loaded 2-core machine).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use backend_boa::BoaIsolate;
use engine_api::{
    Callback, Context, EvalOptions, Isolate, IsolateOptions, Reference, TransferOptions, Value,
};

/// A loop of `n` iterations (700,000: about 100 ms of Boa-in-wasm work here).
const BUSY: &str =
    "(function (n) { let s = 0; for (let i = 0; i < n; i++) s += i % 7; return s; })";

fn spin(d: Duration) {
    let t = Instant::now();
    while t.elapsed() < d {
        std::hint::black_box(0);
    }
}

#[test]
fn host_callback_time_is_not_cpu_time() -> anyhow::Result<()> {
    let isolate = BoaIsolate::new(IsolateOptions::default())?;
    let context = isolate.create_context()?;
    // 200 ms of host work per call in all, half spinning (CPU time of the guest's own
    // thread), half sleeping.
    let host_work = Callback::new(|_| {
        spin(Duration::from_millis(25));
        std::thread::sleep(Duration::from_millis(25));
        Ok(Value::Undefined)
    });
    context.global()?.set(
        "hostWork".into(),
        host_work.into(),
        &TransferOptions::default(),
    )?;
    let before = isolate.cpu_time();
    context.eval(
        "for (let i = 0; i < 4; i++) hostWork();",
        &EvalOptions::default(),
    )?;
    let cpu = isolate.cpu_time() - before;
    eprintln!("host work: cpu {cpu:?}, wall {:?}", isolate.wall_time());
    assert!(isolate.wall_time() >= Duration::from_millis(200));
    assert!(cpu < Duration::from_millis(100), "cpu_time {cpu:?}");
    Ok(())
}

#[test]
fn a_busy_loop_is_cpu_time() -> anyhow::Result<()> {
    let isolate = BoaIsolate::new(IsolateOptions::default())?;
    let context = isolate.create_context()?;
    context.eval(&format!("{BUSY}(700000)"), &EvalOptions::default())?;
    let (cpu, wall) = (isolate.cpu_time(), isolate.wall_time());
    eprintln!("busy loop: cpu {cpu:?}, wall {wall:?}");
    // The loop takes ~100 ms of CPU here: a fifth of that is a safe floor, and CPU time
    // of one thread cannot exceed its wall time.
    assert!(
        cpu >= Duration::from_millis(20),
        "cpu {cpu:?} wall {wall:?}"
    );
    assert!(
        cpu <= wall + Duration::from_millis(5),
        "cpu {cpu:?} wall {wall:?}"
    );
    Ok(())
}

#[test]
fn cpu_time_grows_while_a_long_call_runs() -> anyhow::Result<()> {
    let isolate = BoaIsolate::new(IsolateOptions::default())?;
    let context = isolate.create_context()?;
    let done = Arc::new(AtomicBool::new(false));
    let call = {
        let (context, done) = (context.clone(), done.clone());
        std::thread::spawn(move || {
            let r = context.eval(&format!("{BUSY}(3000000)"), &EvalOptions::default());
            done.store(true, Ordering::SeqCst);
            r
        })
    };
    let mut during = Vec::new();
    while !done.load(Ordering::SeqCst) {
        during.push(isolate.cpu_time());
        std::thread::sleep(Duration::from_millis(10));
    }
    call.join().expect("eval thread")?;
    let total = isolate.cpu_time();
    eprintln!("long call: {} samples, total {total:?}", during.len());
    // A sample strictly between nothing and the final total was taken mid-call.
    assert!(
        during.iter().any(|d| !d.is_zero() && *d < total),
        "samples {during:?}, total {total:?}"
    );
    Ok(())
}
