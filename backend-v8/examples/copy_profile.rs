//! Profiles copying a JSON-like object out of and into an isolate (for `perf`).

use backend_v8::V8;
use engine_api::{Context, Engine, EvalOptions, Isolate, IsolateOptions};

fn main() -> anyhow::Result<()> {
    type I = <V8 as Engine>::Isolate;
    let ctx = I::new(IsolateOptions::default())?.create_context()?;
    ctx.eval(
        "globalThis.big = Array.from({length: 10000}, (_, i) => ({id: i, name: 'item' + i, tags: ['a', 'b'], score: i / 3}))",
        &EvalOptions::default(),
    )?;
    let mode = std::env::args().nth(1).unwrap_or_default();
    let v = ctx.eval("big", &EvalOptions::copy())?;
    for _ in 0..50 {
        if mode == "in" {
            ctx.eval_closure("return 0", vec![v.clone()], &EvalOptions::default())?;
        } else {
            ctx.eval("big", &EvalOptions::copy())?;
        }
    }
    Ok(())
}
