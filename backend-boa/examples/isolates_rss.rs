//! Memory of many isolates: resident set size with 1,000 live isolates (each with a
//! context that evaluated a little code), then over 10,000 create/eval/dispose cycles.
//!
//! `cargo run --release -p host-wasi --example isolates_rss [live] [cycles]`

use std::time::Instant;

use backend_boa::BoaIsolate;
use engine_api::{Context, EvalOptions, Isolate, Value};

/// Resident set size of this process in KB (Linux; 0 elsewhere).
fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let live = args.next().transpose()?.unwrap_or(1000);
    let cycles = args.next().transpose()?.unwrap_or(10_000);
    let opts = EvalOptions::default();

    // Warm up process-wide state (compiled module, engines) outside the numbers.
    BoaIsolate::new(Default::default())?.dispose()?;
    let base = rss_kb();
    println!("baseline (runtime ready)          {:8.1} MB", mb(base));

    let t = Instant::now();
    let mut isolates = Vec::with_capacity(live);
    for i in 0..live {
        let iso = BoaIsolate::new(Default::default())?;
        let ctx = iso.create_context()?;
        let v = ctx.eval(&format!("const x = {{ n: {i} }}; x.n + 1"), &opts)?;
        assert_eq!(v, Value::from(i + 1));
        isolates.push((iso, ctx));
    }
    let with_live = rss_kb();
    println!(
        "{live} live isolates                {:8.1} MB  (+{:.1} KB each, {:?} to create)",
        mb(with_live),
        (with_live - base) as f64 / live as f64,
        t.elapsed()
    );
    for (iso, ctx) in isolates.drain(..) {
        drop(ctx);
        iso.dispose()?;
    }
    println!("after disposing them               {:8.1} MB", mb(rss_kb()));

    let t = Instant::now();
    let mut samples = Vec::new();
    for i in 0..cycles {
        let iso = BoaIsolate::new(Default::default())?;
        let ctx = iso.create_context()?;
        ctx.eval("[1, 2, 3].map(x => x * 2).join()", &opts)?;
        drop(ctx);
        iso.dispose()?;
        if (i + 1) % (cycles / 5).max(1) == 0 {
            samples.push((i + 1, rss_kb()));
        }
    }
    let elapsed = t.elapsed();
    for (i, kb) in &samples {
        println!("after {i:6} create/dispose cycles {:8.1} MB", mb(*kb));
    }
    println!(
        "{cycles} cycles in {elapsed:?} ({:?} per create + eval + dispose)",
        elapsed / cycles.max(1) as u32
    );
    Ok(())
}
