//! Host functions in the guest: sync (a value), async (a promise), ignored.
//!
//! `cargo run --release --example callbacks`

use isovm::{Callback, EvalOptions, Isolate, TransferOptions, Value};

fn main() -> anyhow::Result<()> {
    let isolate = Isolate::new(Default::default())?;
    let context = isolate.create_context()?;

    let greet = Callback::new(|args| {
        let who = args.first().and_then(Value::as_str).unwrap_or("nobody");
        Ok(Value::from(format!("hello, {who}")))
    });
    let fetch = Callback::new_async(|args| {
        // Runs on the worker pool; the guest gets a promise.
        let id = args.first().and_then(Value::as_f64).unwrap_or(0.0);
        Ok(Value::object([
            ("id", Value::from(id)),
            ("name", Value::from("record")),
        ]))
    });
    let log = Callback::new_ignored(|args| {
        println!("guest says: {args:?}");
        Ok(Value::Undefined)
    });
    context.eval_closure(
        "globalThis.greet = $0; globalThis.fetchRecord = $1; globalThis.log = $2;",
        vec![greet.into(), fetch.into(), log.into()],
        &EvalOptions::default(),
    )?;

    println!(
        "{:?}",
        context.eval("greet('isovm')", &EvalOptions::copy())?
    );
    let record = context.eval(
        "(async () => { const r = await fetchRecord(7); log('fetched', r.id); return r })()",
        &EvalOptions {
            result: TransferOptions::copy().with_promise(),
            ..Default::default()
        },
    )?;
    println!("{record:?}");
    Ok(())
}
