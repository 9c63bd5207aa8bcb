//! The guest does not decide how many threads the host runs: a flood of concurrent async
//! host calls runs on the bounded host callback pool. (Its own test binary, so that no
//! other test's threads come and go while the process's thread count is read.)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backend_boa::BoaIsolate;
use engine_api::{
    Callback, Context, EvalOptions, Isolate, IsolateOptions, Reference, TransferOptions, Value,
};

/// The process's thread count (`Threads:` of /proc/self/status).
fn threads() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .expect("Threads: in /proc/self/status")
}

#[test]
fn concurrent_async_host_calls_do_not_add_a_thread_each() -> anyhow::Result<()> {
    const CALLS: usize = 2_000;
    let isolate = BoaIsolate::new(IsolateOptions::default())?;
    let context = isolate.create_context()?;
    let peak = Arc::new(AtomicUsize::new(0));
    // Every call started before `release` waits for it: with a thread per call, all of
    // them would be alive at once.
    let release = Arc::new(Mutex::new(Instant::now()));
    let (seen, until) = (peak.clone(), release.clone());
    let slow = Callback::new_async(move |args| {
        seen.fetch_max(threads(), Ordering::Relaxed);
        let until = *until.lock().unwrap_or_else(|e| e.into_inner());
        std::thread::sleep(until.saturating_duration_since(Instant::now()));
        Ok(Value::from(args[0].as_f64().unwrap_or(0.0) + 1.0))
    });
    context
        .global()?
        .set("slow".into(), slow.into(), &TransferOptions::default())?;
    let opts = EvalOptions {
        result: TransferOptions::copy().with_promise(),
        ..Default::default()
    };
    // Warm up (the worker pool, the epoch ticker, a host pool thread), then count.
    context.eval("slow(0)", &opts)?;
    let before = threads();
    *release.lock().unwrap_or_else(|e| e.into_inner()) =
        Instant::now() + Duration::from_millis(300);
    let code = format!(
        "Promise.all(Array.from({{ length: {CALLS} }}, (_, i) => slow(i)))
            .then(xs => xs.reduce((a, b) => a + b, 0))"
    );
    let sum = context.eval(&code, &opts)?;
    let expected: f64 = (1..=CALLS).map(|i| i as f64).sum();
    assert_eq!(sum, Value::from(expected));
    let peak = peak.load(Ordering::Relaxed);
    let bound = before + engine_api::host_threads() + 4;
    eprintln!(
        "threads before {before}, peak {peak}, pool bound {}",
        engine_api::host_threads()
    );
    assert!(peak <= bound, "peak {peak} threads, bound {bound}");
    Ok(())
}
