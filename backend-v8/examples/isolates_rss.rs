//! Memory of many V8 isolates: resident set size with 1,000 live isolates (each with a
//! context that evaluated a little code), after they are all disposed, and a while later.
//!
//! `cargo run --release -p backend-v8 --example isolates_rss [live] [wait seconds]`

use std::time::Duration;

use backend_v8::V8Isolate;
use engine_api::{Context, EvalOptions, Isolate, IsolateOptions};

/// Resident set size of this process in MB (Linux; 0 elsewhere).
fn rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0)
        / 1024
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>());
    let live = args.next().transpose()?.unwrap_or(1000) as usize;
    let wait = args.next().transpose()?.unwrap_or(20);
    println!("start: {} MB", rss_mb());
    let mut isolates = Vec::with_capacity(live);
    for _ in 0..live {
        let isolate = V8Isolate::new(IsolateOptions {
            memory_limit_mb: 32,
            ..Default::default()
        })?;
        let context = isolate.create_context()?;
        context.eval("[1, 2, 3].map((x) => x * 2).length", &EvalOptions::copy())?;
        isolates.push((isolate, context));
    }
    println!("{live} live isolates: {} MB", rss_mb());
    for (isolate, context) in isolates.drain(..) {
        drop(context);
        isolate.dispose()?;
    }
    println!("all disposed: {} MB", rss_mb());
    std::thread::sleep(Duration::from_secs(wait));
    println!("{wait} s later: {} MB", rss_mb());
    Ok(())
}
