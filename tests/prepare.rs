//! The first `eval` after a build compiles nothing: a release build embeds the Boa guest
//! compiled ahead of time (the plain engine's), and `isovm prepare` compiles and caches the
//! rest, so the first `eval` after it loads the guest and does not compile it (the CLI
//! announces every compile on stderr; it must stay silent). Each runs in a cache directory
//! of its own, without `HOME`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn isovm(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isovm"))
        .args(args)
        .env_remove("HOME")
        .env_remove("XDG_CACHE_HOME")
        .env("ISOVM_CACHE_DIR", cache)
        .output()
        .expect("running isovm")
}

/// A fresh, empty cache directory of this test.
fn fresh_cache(name: &str) -> PathBuf {
    let cache = std::env::temp_dir().join(format!("isovm-{name}-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    std::fs::create_dir_all(&cache).expect("cache dir");
    cache
}

/// What this build compiled ahead of time, per engine (plain, fuel).
#[cfg(feature = "boa-wasi")]
fn precompiled() -> (bool, bool) {
    let what = isovm::boa_wasi::PRECOMPILED;
    // A release build precompiles unless told not to (build.rs of backend-boa).
    if !cfg!(debug_assertions) && option_env!("ISOVM_PRECOMPILE") != Some("none") {
        assert!(
            what.starts_with("plain"),
            "a release build precompiled {what}"
        );
    }
    (what.starts_with("plain"), what.contains("fuel"))
}

#[cfg(not(feature = "boa-wasi"))]
fn precompiled() -> (bool, bool) {
    (false, false)
}

/// `isovm eval 1 + 2` (with a fuel budget if `fuel`): whether it announced a compile.
fn eval_compiled(cache: &Path, fuel: bool) -> bool {
    let args: &[&str] = if fuel {
        &["eval", "1 + 2", "--fuel", "100000000"]
    } else {
        &["eval", "1 + 2"]
    };
    let run = isovm(cache, args);
    assert!(run.status.success(), "isovm {args:?}: {run:?}");
    assert_eq!(String::from_utf8_lossy(&run.stdout).trim(), "3");
    String::from_utf8_lossy(&run.stderr).contains("preparing the Boa guest")
}

#[test]
fn the_first_eval_after_a_build_does_not_compile_the_guest() {
    if !isovm::BackendKind::BoaWasi.is_compiled() {
        return;
    }
    let (plain, fuel) = precompiled();
    let cache = fresh_cache("first-eval");
    // The plain engine: loaded from the build (and copied into the cache), not compiled.
    assert_eq!(eval_compiled(&cache, false), !plain, "plain engine");
    assert!(!eval_compiled(&cache, false), "plain engine, second run");
    // The fuel engine is compiled on first use unless the build embedded it too
    // (ISOVM_PRECOMPILE=all); either way the second use loads it from the cache.
    assert_eq!(eval_compiled(&cache, true), !fuel, "fuel engine");
    assert!(!eval_compiled(&cache, true), "fuel engine, second run");
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn the_first_eval_after_prepare_does_not_compile_the_guest() {
    if !isovm::BackendKind::BoaWasi.is_compiled() {
        return;
    }
    let (plain, fuel) = precompiled();
    let cache = fresh_cache("prepare");

    let prepared = isovm(&cache, &["prepare"]);
    let out = String::from_utf8_lossy(&prepared.stdout);
    assert!(prepared.status.success(), "isovm prepare: {prepared:?}");
    // A fresh cache: each engine was loaded from the build or compiled, and said which.
    for (engine, embedded) in [("plain", plain), ("fuel", fuel)] {
        let said = if embedded {
            format!("{engine}: precompiled in this build")
        } else {
            format!("{engine}: compiled")
        };
        assert!(out.contains(&said), "{out}");
    }
    assert!(out.contains(&cache.display().to_string()), "{out}");

    for fuel in [false, true] {
        assert!(
            !eval_compiled(&cache, fuel),
            "the first eval (fuel: {fuel}) compiled the guest again after prepare"
        );
    }

    // And prepare again finds both in the cache.
    let again = isovm(&cache, &["prepare"]);
    let out = String::from_utf8_lossy(&again.stdout);
    assert!(
        out.contains("plain: already cached") && out.contains("fuel: already cached"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&cache);
}
