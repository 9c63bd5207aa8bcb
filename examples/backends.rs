//! Both backends side by side: isolates of each in one `Vec`, each with a typed sync host
//! function and an async one (a real future), and a serde struct read out of each.
//!
//! `cargo run --release --features v8 --example backends`

use isovm::{BackendKind, Callback, EvalOptions, Isolate, IsolateOptions, TransferOptions};
use serde::Deserialize;

#[derive(Deserialize, Debug)]
struct Report {
    backend: String,
    area: f64,
    fetched: String,
}

fn main() -> anyhow::Result<()> {
    let isolates: Vec<Isolate> = BackendKind::compiled()
        .map(|kind| {
            Isolate::with_backend(
                kind,
                IsolateOptions {
                    memory_limit_mb: 64,
                    ..Default::default()
                },
            )
        })
        .collect::<isovm::Result<_>>()?;

    for isolate in &isolates {
        let context = isolate.create_context()?;
        // Typed arguments and result: a wrong argument type is a TypeError in the guest.
        let area = Callback::wrap(|w: f64, h: f64| w * h);
        // A future, polled on the library's executor; a tokio user passes its runtime
        // with `Callback::from_async_on(move |f| { handle.spawn(f); }, ..)`. The guest gets
        // a promise.
        let fetch = Callback::from_async(|key: String| async move { format!("value of {key}") });
        context.eval_closure(
            "globalThis.area = $0; globalThis.fetch = $1;",
            vec![area.into(), fetch.into()],
            &EvalOptions::default(),
        )?;
        let report: Report = context.eval_as(
            &format!(
                "(async () => ({{ backend: '{}', area: area(3, 4), fetched: await fetch('k') }}))()",
                isolate.backend()
            ),
            &EvalOptions { result: TransferOptions::copy().with_promise(), ..Default::default() },
        )?;
        println!("{report:?}");
        assert_eq!(report.area, 12.0);
        assert_eq!(report.backend, isolate.backend().name());
        assert_eq!(report.fetched, "value of k");
    }
    for isolate in isolates {
        isolate.dispose()?;
    }
    Ok(())
}
