//! serde in and out: a Rust struct goes in as a JS object, and a JS result comes out as
//! a Rust struct, with no JSON in between.
//!
//! `cargo run --release --example serde`

use isovm::{EvalOptions, Isolate, Value};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Order {
    id: u64,
    items: Vec<Item>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Item {
    name: String,
    price_cents: u32,
    quantity: u32,
}

#[derive(Deserialize, Debug)]
struct Summary {
    id: u64,
    total_cents: u64,
    names: Vec<String>,
}

fn main() -> anyhow::Result<()> {
    let order = Order {
        id: 1 << 60, // beyond 2^53: it crosses as a BigInt, never rounded
        items: vec![
            Item {
                name: "tea".into(),
                price_cents: 450,
                quantity: 2,
            },
            Item {
                name: "cake".into(),
                price_cents: 325,
                quantity: 1,
            },
        ],
    };
    let context = Isolate::new(Default::default())?.create_context()?;
    let summary: Summary = context.eval_closure_as(
        "const order = $0;
         return {
           id: order.id,
           total_cents: order.items.reduce((t, i) => t + i.price_cents * i.quantity, 0),
           names: order.items.map(i => i.name),
         };",
        vec![Value::from_serde(&order)?],
        &EvalOptions::copy(),
    )?;
    assert_eq!(summary.id, order.id);
    assert_eq!(summary.total_cents, 1225);
    assert_eq!(summary.names, ["tea", "cake"]);
    println!("{summary:?}");

    // A value the struct cannot hold is an error, not a silent default.
    let wrong = context.eval_as::<Summary>(
        "({ id: 1.5, total_cents: 0, names: [] })",
        &EvalOptions::copy(),
    );
    println!("id 1.5 into a u64: {}", wrong.unwrap_err());
    Ok(())
}
