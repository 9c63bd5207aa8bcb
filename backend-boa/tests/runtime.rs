//! A runtime on an application's own wasmtime engine, driving its own epoch.

use std::time::Duration;

use backend_boa::{BoaIsolate, Runtime};
use engine_api::{Context, Error, EvalOptions, Isolate, IsolateOptions, Value};

#[test]
fn runtime_on_an_application_engine() -> anyhow::Result<()> {
    let mut config = backend_boa::host_wasi::wasmtime::Config::new();
    config.epoch_interruption(true);
    let engine = backend_boa::host_wasi::wasmtime::Engine::new(&config)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let runtime = Runtime::with_engine(backend_boa::guest(), engine.clone())?;

    // The application ticks its engine.
    let ticker = engine.weak();
    std::thread::spawn(move || {
        while let Some(engine) = ticker.upgrade() {
            engine.increment_epoch();
            drop(engine);
            std::thread::sleep(Duration::from_millis(2));
        }
    });

    let isolate = BoaIsolate::with_runtime(&runtime, IsolateOptions::default())?;
    let context = isolate.create_context()?;
    assert_eq!(
        context.eval("6 * 7", &EvalOptions::default())?,
        Value::from(42)
    );
    let err = context
        .eval(
            "while (true) {}",
            &EvalOptions::default().with_timeout(Duration::from_millis(30)),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");

    // This engine does not meter fuel.
    let fuel = BoaIsolate::with_runtime(
        &runtime,
        IsolateOptions {
            fuel: Some(1_000),
            ..Default::default()
        },
    );
    assert!(matches!(fuel, Err(Error::Unsupported(_))));

    // An engine without epoch interruption is refused.
    let plain = backend_boa::host_wasi::wasmtime::Engine::default();
    assert!(matches!(
        Runtime::with_engine(backend_boa::guest(), plain),
        Err(Error::InvalidOption {
            option: "engine",
            ..
        })
    ));
    Ok(())
}
