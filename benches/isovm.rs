//! Benchmarks of every compiled backend, side by side (`cargo bench`).
//!
//! Each line is the best per-operation mean over several batches, so a noisy neighbour
//! inflates it less. Not a test: nothing here asserts a time.

use std::hint::black_box;
use std::time::{Duration, Instant};

use isovm::traits::{Backend, Context, Isolate, Reference};
use isovm::{ApplyOptions, BackendVisitor, Callback, EvalOptions, TransferOptions, Value};

/// Runs `op` in batches for about `budget`, returns the best per-op time.
fn measure(budget: Duration, mut op: impl FnMut()) -> Duration {
    op();
    let mut batch = 1u32;
    loop {
        let t = Instant::now();
        for _ in 0..batch {
            op();
        }
        if t.elapsed() > Duration::from_millis(20) || batch >= 1 << 20 {
            break;
        }
        batch *= 2;
    }
    let mut best = Duration::MAX;
    let start = Instant::now();
    while start.elapsed() < budget {
        let t = Instant::now();
        for _ in 0..batch {
            op();
        }
        best = best.min(t.elapsed() / batch);
    }
    best
}

/// Times creation (isolate + context) and disposal separately, in batches of ten live
/// isolates; returns the best per-isolate batch time of each.
fn create_then_dispose<E: Backend>(budget: Duration) -> (Duration, Duration) {
    const BATCH: u32 = 10;
    let (mut create, mut dispose) = (Duration::MAX, Duration::MAX);
    let start = Instant::now();
    while start.elapsed() < budget {
        let t = Instant::now();
        let live: Vec<_> = (0..BATCH)
            .map(|_| {
                let i = E::Isolate::new(Default::default()).expect("isolate");
                let c = i.create_context().expect("context");
                (i, c)
            })
            .collect();
        create = create.min(t.elapsed() / BATCH);
        let t = Instant::now();
        for (i, c) in live {
            i.dispose().expect("dispose");
            drop(c);
        }
        dispose = dispose.min(t.elapsed() / BATCH);
    }
    (create, dispose)
}

fn show(backend: &str, what: &str, d: Duration) {
    let us = d.as_secs_f64() * 1e6;
    let text = if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.2} us")
    };
    println!("{backend:<9} {what:<44} {text:>12}");
}

struct Bench {
    budget: Duration,
}

impl BackendVisitor for Bench {
    type Output = isovm::Result<()>;

    fn visit<E: Backend>(self) -> isovm::Result<()> {
        let name = E::NAME;
        // Warm up process-wide state (module cache, platform) outside the numbers.
        let warm = E::Isolate::new(Default::default())?;
        warm.create_context()?.eval("1", &EvalOptions::default())?;
        warm.dispose()?;

        let d = measure(self.budget, || {
            let i = E::Isolate::new(Default::default()).expect("isolate");
            let c = i.create_context().expect("context");
            black_box(&c);
            i.dispose().expect("dispose");
        });
        show(name, "new isolate + context (+ dispose)", d);
        let (create, dispose) = create_then_dispose::<E>(self.budget);
        show(name, "  new isolate + context alone", create);
        show(name, "  dispose alone", dispose);

        let i = E::Isolate::new(Default::default())?;
        let c = i.create_context()?;
        let d = measure(self.budget, || {
            black_box(c.eval("1+1", &EvalOptions::default()).expect("eval"));
        });
        show(name, "eval `1+1` round trip", d);

        let f = c.eval(
            "(a, b) => a + b",
            &EvalOptions {
                result: TransferOptions::reference(),
                ..Default::default()
            },
        )?;
        let f = f
            .as_reference()
            .and_then(<E::Reference as isovm::traits::Reference>::from_any)
            .expect("function reference");
        let d = measure(self.budget, || {
            black_box(
                f.apply(
                    Value::Undefined,
                    vec![1.into(), 2.into()],
                    &ApplyOptions::default(),
                )
                .expect("apply"),
            );
        });
        show(name, "host -> guest call (reference.apply)", d);

        let cb = Callback::new(|args| Ok(args.into_iter().next().unwrap_or_default()));
        c.eval_closure(
            "globalThis.hostEcho = $0",
            vec![cb.into()],
            &EvalOptions::default(),
        )?;
        let loop_call = c.eval(
            "(n) => { let s = 0; for (let i = 0; i < n; i++) s += hostEcho(i); return s }",
            &EvalOptions {
                result: TransferOptions::reference(),
                ..Default::default()
            },
        )?;
        let loop_call = loop_call
            .as_reference()
            .and_then(<E::Reference as isovm::traits::Reference>::from_any)
            .expect("loop reference");
        let calls = 10_000;
        let d = measure(self.budget, || {
            black_box(
                loop_call
                    .apply(
                        Value::Undefined,
                        vec![calls.into()],
                        &ApplyOptions::default(),
                    )
                    .expect("loop"),
            );
        });
        show(name, "guest -> host callback round trip", d / calls);

        let data = conformance::cases::transfers::records(10_000);
        let bytes = serde_json::to_vec(&data).map(|v| v.len()).unwrap_or(0);
        let d = measure(self.budget, || {
            black_box(
                c.eval_closure(
                    "return $0.length",
                    vec![data.clone()],
                    &EvalOptions::default(),
                )
                .expect("copy"),
            );
        });
        show(
            name,
            &format!("copy 10,000 records ({} KB JSON) in", bytes / 1000),
            d,
        );

        let sum = c.eval(
            "(function sum(min, max) { let s = 0; for (let i = min; i < max; ++i) s += i; return s })",
            &EvalOptions { result: TransferOptions::reference(), ..Default::default() },
        )?;
        let sum = sum
            .as_reference()
            .and_then(<E::Reference as isovm::traits::Reference>::from_any)
            .expect("sum reference");
        let t = Instant::now();
        let v = sum.apply(
            Value::Undefined,
            vec![0.into(), (1u64 << 27).into()],
            &ApplyOptions::default(),
        )?;
        show(name, "compute: sum of 0..2^27 in a function", t.elapsed());
        assert_eq!(v, Value::from(9007199187632128u64));
        i.dispose()?;
        Ok(())
    }
}

fn main() {
    let budget = Duration::from_millis(
        std::env::var("ISOVM_BENCH_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1500),
    );
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    println!("{:<9} {:<44} {:>12}", "backend", "operation", "time/op");
    for kind in isovm::BackendKind::compiled() {
        let backend = kind.name();
        if !only.is_empty() && !only.iter().any(|o| o == backend) {
            continue;
        }
        if let Err(e) = isovm::with_backend(kind, Bench { budget }).and_then(|r| r) {
            println!("{backend:<9} failed: {e}");
        }
    }
}
