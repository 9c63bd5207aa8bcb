//! `isovm prepare` compiles and caches the Boa guest, so the first `eval` after it loads
//! the guest from the cache and does not compile it (the CLI announces every compile on
//! stderr; it must stay silent). Runs in a cache directory of its own, without `HOME`.

use std::path::Path;
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

#[test]
fn the_first_eval_after_prepare_does_not_compile_the_guest() {
    if !isovm::BackendKind::BoaWasi.is_compiled() {
        return;
    }
    let cache = std::env::temp_dir().join(format!("isovm-prepare-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    std::fs::create_dir_all(&cache).expect("cache dir");

    let prepared = isovm(&cache, &["prepare"]);
    let out = String::from_utf8_lossy(&prepared.stdout);
    assert!(prepared.status.success(), "isovm prepare: {prepared:?}");
    // A fresh cache: both engines were compiled, and said so.
    assert!(out.contains("plain: compiled"), "{out}");
    assert!(out.contains("fuel: compiled"), "{out}");
    assert!(out.contains(&cache.display().to_string()), "{out}");

    for args in [
        &["eval", "1 + 2"][..],
        &["eval", "1 + 2", "--fuel", "100000000"][..],
    ] {
        let run = isovm(&cache, args);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "isovm {args:?}: {run:?}");
        assert_eq!(String::from_utf8_lossy(&run.stdout).trim(), "3");
        assert!(
            !stderr.contains("preparing the Boa guest"),
            "isovm {args:?} compiled the guest again after prepare: {stderr}"
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
