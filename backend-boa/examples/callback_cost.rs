//! The cost of a host callback round trip and of `eval("1")`: medians of many runs.
//!
//! `cargo run --release -p backend-boa --example callback_cost [samples]`

use std::time::{Duration, Instant};

use backend_boa::BoaIsolate;
use engine_api::{Callback, Context, EvalOptions, Isolate, IsolateOptions, Value};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(f: &mut dyn FnMut()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn main() -> anyhow::Result<()> {
    let samples: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(5000);
    let isolate = BoaIsolate::new(IsolateOptions::default())?;
    let c = isolate.create_context()?;
    let noop = Callback::new(|_| Ok(Value::Undefined));
    c.eval_closure(
        "globalThis.host = $0",
        vec![noop.into()],
        &EvalOptions::default(),
    )?;
    let copy = EvalOptions::copy();
    // A loop of 100 callbacks per eval, against the same loop without them.
    let with_calls = "for (let k = 0; k < 100; k++) host(); 0";
    let without = "for (let k = 0; k < 100; k++) {} 0";
    for _ in 0..200 {
        c.eval("1", &copy)?;
        c.eval(with_calls, &copy)?;
    }
    let (mut one, mut calls, mut empty, mut single) = (vec![], vec![], vec![], vec![]);
    for _ in 0..samples {
        one.push(time(&mut || {
            c.eval("1", &copy).unwrap();
        }));
        single.push(time(&mut || {
            c.eval("host()", &copy).unwrap();
        }));
        calls.push(time(&mut || {
            c.eval(with_calls, &copy).unwrap();
        }));
        empty.push(time(&mut || {
            c.eval(without, &copy).unwrap();
        }));
    }
    let (one, single, calls, empty) = (median(one), median(single), median(calls), median(empty));
    println!(
        "eval(\"1\")                      median {:>8.2} us",
        one.as_secs_f64() * 1e6
    );
    println!(
        "eval(\"host()\")                 median {:>8.2} us",
        single.as_secs_f64() * 1e6
    );
    println!(
        "host callback round trip       median {:>8.2} us  ((loop with 100 calls - empty loop) / 100)",
        (calls.saturating_sub(empty)).as_secs_f64() * 1e6 / 100.0
    );
    // A callback calling back into its own isolate (only where that runs).
    let c2 = c.clone();
    let nested = Callback::new(move |_| c2.eval("1", &EvalOptions::copy()));
    c.eval_closure(
        "globalThis.nested = $0",
        vec![nested.into()],
        &EvalOptions::default(),
    )?;
    if c.eval("nested()", &copy).is_ok() {
        let mut v = vec![];
        for _ in 0..samples {
            v.push(time(&mut || {
                c.eval("nested()", &copy).unwrap();
            }));
        }
        println!(
            "eval(\"nested()\") (re-entrant)  median {:>8.2} us",
            median(v).as_secs_f64() * 1e6
        );
    }
    isolate.dispose()?;
    Ok(())
}
