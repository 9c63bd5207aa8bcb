//! Rough timings of the V8 backend (not a test): `cargo run --release -p backend-v8 --example bench`.

use std::time::Instant;

use backend_v8::V8;
use engine_api::{
    ApplyOptions, Backend, Context, EvalOptions, Isolate, IsolateOptions, Reference,
    TransferOptions, Value,
};

fn per_op(label: &str, n: u32, mut f: impl FnMut()) {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    println!(
        "{label:<40} {:>10.1} us",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
}

fn main() -> anyhow::Result<()> {
    type I = <V8 as Backend>::Isolate;
    // Warm up the platform.
    I::new(IsolateOptions::default())?.create_context()?;
    per_op("isolate + context create, dispose", 200, || {
        let iso = I::new(IsolateOptions::default()).unwrap();
        iso.create_context().unwrap();
        iso.dispose().unwrap();
    });
    let isolates: Vec<_> = (0..100)
        .map(|_| I::new(IsolateOptions::default()).unwrap())
        .collect();
    let mut it = isolates.iter();
    per_op("  of which: isolate create + drop", 100, || {
        let _ = I::new(IsolateOptions::default()).unwrap();
    });
    per_op("  of which: context create (incl. ivm API)", 100, || {
        it.next().unwrap().create_context().unwrap();
    });
    per_op("  another context in the same isolate", 100, || {
        isolates[0].create_context().ok();
    });
    let iso = I::new(IsolateOptions::default())?;
    let ctx = iso.create_context()?;
    per_op("eval '1 + 1'", 10_000, || {
        ctx.eval("1 + 1", &EvalOptions::default()).unwrap();
    });
    ctx.eval("globalThis.add = (a, b) => a + b", &EvalOptions::default())?;
    let add = ctx
        .global()?
        .get("add".into(), &TransferOptions::default())?;
    let Value::Reference(add) = add else {
        anyhow::bail!("no reference")
    };
    per_op("host -> guest apply add(1, 2)", 10_000, || {
        add.apply(
            Value::Undefined,
            vec![1.into(), 2.into()],
            &ApplyOptions::default(),
        )
        .unwrap();
    });
    ctx.eval(
        "globalThis.big = Array.from({length: 10000}, (_, i) => ({id: i, name: 'item' + i, tags: ['a', 'b'], score: i / 3}))",
        &EvalOptions::default(),
    )?;
    let size = ctx.eval("JSON.stringify(big).length", &EvalOptions::default())?;
    let mut copied = Value::Undefined;
    per_op(
        &format!("copy out a {size:?}-byte JSON-like object"),
        20,
        || {
            copied = ctx.eval("big", &EvalOptions::copy()).unwrap();
        },
    );
    let other = I::new(IsolateOptions::default())?.create_context()?;
    per_op("copy the same object into another isolate", 20, || {
        other
            .eval_closure(
                "return $0.length",
                vec![copied.clone()],
                &EvalOptions::default(),
            )
            .unwrap();
    });
    let global_other = other.global()?;
    ctx.eval_closure(
        "globalThis.otherGlobal = $0",
        vec![global_other.to_any().into()],
        &EvalOptions::default(),
    )?;
    other.eval("globalThis.inc = (x) => x + 1", &EvalOptions::default())?;
    ctx.eval(
        "globalThis.inc = otherGlobal.getSync('inc')",
        &EvalOptions::default(),
    )?;
    per_op("guest -> other isolate applySync", 1000, || {
        ctx.eval("inc.applySync(undefined, [1])", &EvalOptions::default())
            .unwrap();
    });
    per_op("compute: fib(27)", 5, || {
        ctx.eval(
            "(function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) })(27)",
            &EvalOptions::default(),
        )
        .unwrap();
    });
    Ok(())
}
