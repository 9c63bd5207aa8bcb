//! The guest compiled at build time: a release build embeds it (`backend_boa::PRECOMPILED`
//! says what), a fresh runtime with an empty cache loads it without compiling and copies it
//! into the cache, and an artifact that is not this guest's is ignored (the guest is
//! compiled as before).

use std::path::PathBuf;

use backend_boa::host_wasi::GuestModule;
use backend_boa::{BoaIsolate, GuestSource, Runtime, RuntimeConfig};
use engine_api::{Context, EvalOptions, Isolate, IsolateOptions, Value};

/// A fresh directory of this test run.
fn scratch(name: &str) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("isovm-precompiled-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn runtime(guest: GuestModule, cache_dir: PathBuf) -> anyhow::Result<Runtime> {
    Ok(Runtime::new(
        guest,
        RuntimeConfig {
            cache_dir: Some(cache_dir),
            ..Default::default()
        },
    )?)
}

fn eval(runtime: &Runtime, code: &str) -> anyhow::Result<Value> {
    let isolate = BoaIsolate::with_runtime(runtime, IsolateOptions::default())?;
    Ok(isolate
        .create_context()?
        .eval(code, &EvalOptions::default())?)
}

#[test]
fn a_release_build_embeds_the_plain_engine_and_says_so() {
    let what = backend_boa::PRECOMPILED;
    let guest = backend_boa::guest();
    if !cfg!(debug_assertions) && option_env!("ISOVM_PRECOMPILE") != Some("none") {
        assert!(what == "plain" || what == "plain,fuel", "{what}");
    }
    if what.starts_with("none") {
        assert!(guest.precompiled().is_none(), "{what}");
        assert!(what.starts_with("none ("), "says why: {what}");
    } else {
        assert!(guest.has_precompiled(false), "{what}");
        assert_eq!(guest.has_precompiled(true), what.contains("fuel"), "{what}");
    }
}

#[test]
fn a_fresh_runtime_loads_the_precompiled_guest_and_caches_it() -> anyhow::Result<()> {
    if !backend_boa::guest().has_precompiled(false) {
        return Ok(());
    }
    let dir = scratch("fresh")?;
    let first = runtime(backend_boa::guest(), dir.clone())?;
    let mut announced = false;
    assert_eq!(
        first.prepare_with(false, |_| announced = true)?,
        GuestSource::Precompiled
    );
    assert!(!announced, "a compile was announced");
    assert_eq!(eval(&first, "6 * 7")?, Value::from(42));
    // Copied into the cache whole: the next process maps it from there.
    let entries: Vec<_> = std::fs::read_dir(&dir)?.collect::<std::io::Result<_>>()?;
    assert_eq!(entries.len(), 1, "one cached guest, no temporary file");
    drop(first);
    let second = runtime(backend_boa::guest(), dir.clone())?;
    assert_eq!(second.prepare(false)?, GuestSource::DiskCache);
    assert_eq!(eval(&second, "[1, 2].length")?, Value::from(2));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
fn an_artifact_of_another_guest_is_ignored() -> anyhow::Result<()> {
    let Some(artifact) = backend_boa::guest().precompiled() else {
        return Ok(());
    };
    // The same guest with a custom section appended: other bytes, so another hash.
    let mut wasm = backend_boa::guest_wasm().to_vec();
    wasm.extend_from_slice(&[0, 6, 5, b'o', b't', b'h', b'e', b'r']);
    // SAFETY: `artifact` is the build's own `host_wasi::precompile` output.
    let other = unsafe { GuestModule::from_bytes("boa", wasm).with_precompiled(artifact) };
    let dir = scratch("other")?;
    let runtime = runtime(other, dir.clone())?;
    let mut announced = false;
    assert_eq!(
        runtime.prepare_with(false, |_| announced = true)?,
        GuestSource::Compiled
    );
    assert!(announced);
    // Not this build's Boa guest, so not a BoaIsolate: the host's own isolate runs it.
    let isolate = backend_boa::host_wasi::WasiIsolate::with_runtime(&runtime, Default::default())?;
    let value = isolate
        .create_context()?
        .eval("'ok'", &EvalOptions::default())?;
    assert_eq!(value, Value::from("ok"));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
