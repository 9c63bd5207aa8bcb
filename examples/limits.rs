//! Hostile code ends in typed errors: a timeout, a memory limit, a fuel budget.
//!
//! `cargo run --release --example limits`

use std::time::Duration;

use isovm::{Error, EvalOptions, Isolate, IsolateOptions};

fn main() -> anyhow::Result<()> {
    let isolate = Isolate::new(IsolateOptions {
        memory_limit_mb: 32,
        ..Default::default()
    })?;
    let context = isolate.create_context()?;
    let spin = context.eval(
        "while (true) {}",
        &EvalOptions::default().with_timeout(Duration::from_millis(100)),
    );
    assert!(matches!(spin, Err(Error::Timeout { .. })));
    println!("infinite loop: {}", spin.unwrap_err());

    let isolate = Isolate::new(IsolateOptions {
        memory_limit_mb: 32,
        ..Default::default()
    })?;
    let context = isolate.create_context()?;
    let bomb = context.eval(
        "const keep = []; while (true) keep.push(new Array(1e5).fill(1))",
        &EvalOptions::default(),
    );
    println!(
        "allocation bomb: {:?} (isolate disposed: {})",
        bomb.unwrap_err(),
        isolate.is_disposed()
    );

    if isolate.capabilities().fuel {
        let isolate = Isolate::new(IsolateOptions {
            fuel: Some(1_000_000),
            ..Default::default()
        })?;
        let r = isolate
            .create_context()?
            .eval("for (;;) {}", &EvalOptions::default());
        println!("fuel budget: {:?}", r.unwrap_err());
    }
    Ok(())
}
