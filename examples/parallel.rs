//! Four isolates summing in parallel on the worker pool (the isolated-vm README's example).
//!
//! `cargo run --release --example parallel`

use std::time::Instant;

use isovm::{Isolate, Reference, TransferOptions, Value};

fn main() -> anyhow::Result<()> {
    let num: u64 = 1 << 27;
    let threads: u64 = 4;
    let start = Instant::now();
    let tasks: Vec<_> = (0..threads)
        .map(|ii| {
            let isolate = Isolate::new(Default::default())?;
            let context = isolate.create_context()?;
            context.eval(
                "function sum(min, max) { let s = 0; for (let i = min; i < max; ++i) s += i; return s }",
                &Default::default(),
            )?;
            let sum = context.global()?.get("sum".into(), &TransferOptions::reference())?;
            let sum = sum
                .as_reference()
                .and_then(Reference::from_any)
                .ok_or_else(|| anyhow::anyhow!("sum is not a function"))?;
            let (min, max) = (num / threads * ii, num / threads * (ii + 1));
            Ok(sum.apply_async(Value::Undefined, vec![min.into(), max.into()], Default::default()))
        })
        .collect::<anyhow::Result<_>>()?;
    let mut total = 0.0;
    for t in tasks {
        total += t.wait()?.as_f64().unwrap_or(0.0);
    }
    println!("Calculated {total} in {} ms", start.elapsed().as_millis());
    Ok(())
}
