//! How long a 100 ms timeout takes to end a call, by how it ends: a JS loop (the soft
//! stop: the isolate stays usable) against a regex backtracking (a native loop: the grace
//! runs out and the guest is trapped, the isolate disposed), and what the next call costs
//! after each (a call on the same isolate, against a fresh isolate). Medians.
//!
//! `cargo run --release -p backend-boa --example soft_timeout [samples]`

use std::time::{Duration, Instant};

use backend_boa::BoaIsolate;
use engine_api::{Context, Error, EvalOptions, Isolate, IsolateOptions};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let samples: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(20);
    let timeout = EvalOptions::default().with_timeout(Duration::from_millis(100));
    let isolate = BoaIsolate::new(IsolateOptions::default())?;
    let c = isolate.create_context()?;
    let (mut soft, mut next, mut stack) = (Vec::new(), Vec::new(), None);
    for _ in 0..samples {
        let t = Instant::now();
        let r = c.eval("function spin() { for (;;) {} }\nspin()", &timeout);
        soft.push(t.elapsed());
        match r {
            Err(Error::Timeout { stack: s }) => stack = s,
            other => anyhow::bail!("expected a timeout, got {other:?}"),
        }
        anyhow::ensure!(!isolate.is_disposed(), "the soft stop disposed the isolate");
        let t = Instant::now();
        c.eval("1 + 1", &EvalOptions::copy())?;
        next.push(t.elapsed());
    }
    let (mut hard, mut fresh, mut disposed) = (Vec::new(), Vec::new(), 0);
    for _ in 0..samples {
        let i = BoaIsolate::new(IsolateOptions::default())?;
        let c = i.create_context()?;
        let t = Instant::now();
        let r = c.eval("/^(x+x+)+y$/.test('x'.repeat(48))", &timeout);
        hard.push(t.elapsed());
        anyhow::ensure!(matches!(r, Err(Error::Timeout { .. })), "{r:?}");
        disposed += usize::from(i.is_disposed());
        let t = Instant::now();
        let i = BoaIsolate::new(IsolateOptions::default())?;
        i.create_context()?.eval("1 + 1", &EvalOptions::copy())?;
        fresh.push(t.elapsed());
    }
    println!(
        "JS loop, 100 ms timeout:    ends after {:?} (soft stop)",
        median(soft)
    );
    println!("  next call, same isolate:  {:?}", median(next));
    println!(
        "  stack: {}",
        stack.unwrap_or_default().replace('\n', " | ")
    );
    println!(
        "regex, 100 ms timeout:      ends after {:?} ({disposed}/{samples} disposed)",
        median(hard)
    );
    println!("  next call, fresh isolate: {:?}", median(fresh));
    Ok(())
}
