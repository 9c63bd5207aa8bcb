//! Memory of one Octane benchmark on Boa-WASI: evaluates `base.js`, the benchmark and the
//! bench driver (or a script of one's own instead of the driver, e.g. `SplaySetup()`) in
//! one isolate under a memory limit, then prints the outcome and the heap statistics
//! before and after. The linear memory never shrinks: `total_heap_size` after is the
//! run's peak.
//!
//! `cargo run --release -p backend-boa --example octane_memory [name] [limit_mb] [script]`
//! (`ISOVM_OCTANE_DIR`: the Octane files, default `../shared/octane` beside the repo).

use std::path::PathBuf;
use std::time::Instant;

use backend_boa::BoaIsolate;
use engine_api::{Context, EvalOptions, Isolate, IsolateOptions};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "splay".into());
    let limit: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(128);
    let script = args.next();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = std::env::var_os("ISOVM_OCTANE_DIR")
        .map_or_else(|| root.join("../shared/octane"), PathBuf::from);
    let mut source = String::new();
    for file in [dir.join("base.js"), dir.join(format!("{name}.js"))] {
        source.push_str(&std::fs::read_to_string(&file)?);
        source.push('\n');
    }
    match &script {
        Some(s) => source.push_str(s),
        None => source.push_str(&std::fs::read_to_string(
            root.join("benches/octane/driver.js"),
        )?),
    }
    let isolate = BoaIsolate::new(IsolateOptions {
        memory_limit_mb: limit,
        ..Default::default()
    })?;
    let context = isolate.create_context()?;
    let before = isolate.heap_statistics()?;
    let t = Instant::now();
    let result = context.eval(&source, &EvalOptions::default());
    let wall = t.elapsed();
    println!("{name} in {limit} MB: {result:?} ({wall:.1?})");
    let mib = |b: usize| b as f64 / f64::from(1 << 20);
    println!(
        "before: linear memory {:.1} MiB, used {:.1} MiB, cap {:.1} MiB",
        mib(before.total_heap_size),
        mib(before.used_heap_size),
        mib(before.heap_size_limit)
    );
    if let Ok(after) = isolate.heap_statistics() {
        println!(
            "after:  linear memory {:.1} MiB, used {:.1} MiB",
            mib(after.total_heap_size),
            mib(after.used_heap_size)
        );
    }
    Ok(())
}
