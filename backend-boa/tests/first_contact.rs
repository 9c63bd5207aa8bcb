//! First contact: the first process compiles the guest and caches it, and the next one loads
//! it, even with `HOME` and `XDG_CACHE_HOME` unset; a damaged cache entry is compiled again
//! and replaced; a cache that cannot be written is reported, and the guest still runs.
//!
//! The processes are this test binary run again with [`CHILD`] set: it then runs only
//! [`child`], which prepares a runtime, evaluates `1 + 1` and prints what the runtime said.

use std::path::{Path, PathBuf};
use std::process::Command;

use backend_boa::{BoaIsolate, CacheStatus, GuestSource, Runtime, RuntimeConfig};
use engine_api::{Context, EvalOptions, Isolate, IsolateOptions, Value};

/// Set in a child process: what it should do (`prepare` or `status`).
const CHILD: &str = "ISOVM_FIRST_CONTACT_CHILD";
/// Starts the child's report (after libtest's `test child ... `).
const REPORT: &str = "first-contact-report:";

/// The guest without what the build compiled ahead of time (`tests/precompiled.rs`
/// checks that): these cases are about compiling and caching.
fn small_runtime(cache_dir: Option<PathBuf>) -> anyhow::Result<Runtime> {
    let guest = backend_boa::host_wasi::GuestModule::embedded(
        "boa",
        backend_boa::guest_wasm(),
        *backend_boa::guest_wasm_sha256(),
    );
    Ok(Runtime::new(
        guest,
        RuntimeConfig {
            max_isolates: 4,
            max_memory_mb: 64,
            cache_dir,
            ..Default::default()
        },
    )?)
}

/// A fresh directory of this test run.
fn scratch(name: &str) -> anyhow::Result<PathBuf> {
    let dir =
        std::env::temp_dir().join(format!("isovm-first-contact-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The child's side (does nothing unless [`CHILD`] is set).
#[test]
fn child() -> anyhow::Result<()> {
    let Some(task) = std::env::var_os(CHILD) else {
        return Ok(());
    };
    let runtime = small_runtime(None)?;
    if task == "status" {
        println!("{REPORT}status={:?}", runtime.cache_status());
        return Ok(());
    }
    let mut announced = None;
    let source = runtime.prepare_with(false, |status| announced = Some(status.clone()))?;
    let isolate = BoaIsolate::with_runtime(&runtime, IsolateOptions::default())?;
    let context = isolate.create_context()?;
    assert_eq!(
        context.eval("1 + 1", &EvalOptions::default())?,
        Value::from(2)
    );
    println!(
        "{REPORT}source={source:?} announced={announced:?} status={:?}",
        runtime.cache_status()
    );
    Ok(())
}

/// Runs [`child`] in a new process with no `HOME` or `XDG_CACHE_HOME`, `cache_dir` (if any)
/// as `ISOVM_CACHE_DIR`, and `tmp` as its temporary directory; returns its report.
fn run_child(task: &str, tmp: &Path, cache_dir: Option<&Path>) -> anyhow::Result<String> {
    let mut child = Command::new(std::env::current_exe()?);
    child
        .args(["child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, task)
        .env_remove("HOME")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("ISOVM_CACHE_DIR");
    if let Some(dir) = cache_dir {
        child.env("ISOVM_CACHE_DIR", dir);
    }
    let output = child
        .env("TMPDIR", tmp)
        .env("TMP", tmp)
        .env("TEMP", tmp)
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "child failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let report = stdout
        .lines()
        .find_map(|l| l.split_once(REPORT).map(|(_, report)| report))
        .ok_or_else(|| anyhow::anyhow!("no report from the child:\n{stdout}"))?;
    Ok(report.to_owned())
}

#[test]
fn without_home_the_second_process_loads_the_guest_from_the_cache() -> anyhow::Result<()> {
    let tmp = scratch("no-home")?;
    let first = run_child("prepare", &tmp, None)?;
    let dir = std::fs::read_dir(&tmp)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    assert_eq!(dir.len(), 1, "{dir:?}");
    let dir = &dir[0];
    assert!(
        dir.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("isovm-")),
        "{dir:?}"
    );
    let enabled = format!("Enabled({dir:?})");
    assert_eq!(
        first,
        format!("source=Compiled announced=Some({enabled}) status={enabled}")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        assert_eq!(mode & 0o077, 0, "cache dir mode {mode:o}");
    }
    let entries: Vec<_> = std::fs::read_dir(dir)?.collect::<std::io::Result<_>>()?;
    assert_eq!(
        entries.len(),
        1,
        "one compiled guest, no temporary file left"
    );

    let second = run_child("prepare", &tmp, None)?;
    assert_eq!(
        second,
        format!("source=DiskCache announced=None status={enabled}")
    );
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

#[test]
fn a_damaged_cache_entry_is_compiled_again_and_replaced() -> anyhow::Result<()> {
    let dir = scratch("damaged")?;
    let first = small_runtime(Some(dir.clone()))?;
    assert_eq!(first.cache_status(), &CacheStatus::Enabled(dir.clone()));
    assert_eq!(first.prepare(false)?, GuestSource::Compiled);
    drop(first);
    let entry = std::fs::read_dir(&dir)?
        .next()
        .ok_or_else(|| anyhow::anyhow!("nothing cached"))??
        .path();
    let good = std::fs::read(&entry)?;

    // Truncated, as a torn write would leave it (the cache's unit tests try other damage
    // on a small module; each case here costs a full compile).
    std::fs::write(&entry, &good[..good.len() / 2])?;
    let runtime = small_runtime(Some(dir.clone()))?;
    let mut announced = false;
    let source = runtime.prepare_with(false, |_| announced = true)?;
    assert_eq!(source, GuestSource::Compiled);
    assert!(announced);
    let isolate = BoaIsolate::with_runtime(&runtime, IsolateOptions::default())?;
    assert_eq!(
        isolate
            .create_context()?
            .eval("6 * 7", &EvalOptions::default())?,
        Value::from(42)
    );
    assert!(
        std::fs::read(&entry)?.len() > good.len() / 2,
        "entry rewritten"
    );
    assert_eq!(
        small_runtime(Some(dir.clone()))?.prepare(false)?,
        GuestSource::DiskCache
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
fn a_cache_that_cannot_be_written_is_reported() -> anyhow::Result<()> {
    let tmp = scratch("unwritable")?;
    // A regular file as the temporary directory: nothing can be created under it.
    let file = tmp.join("not-a-directory");
    std::fs::write(&file, b"")?;
    let report = run_child("status", &file, None)?;
    assert!(report.starts_with("status=Unavailable("), "{report}");
    assert!(report.contains("no platform cache directory"), "{report}");
    assert!(report.contains("not-a-directory"), "{report}");

    // An unwritable ISOVM_CACHE_DIR falls back to the private temporary directory.
    let report = run_child("status", &tmp, Some(&file.join("cache")))?;
    let private: Vec<_> = std::fs::read_dir(&tmp)?
        .map(|e| e.map(|e| e.path()))
        .filter(|p| p.as_ref().map_or(true, |p| p != &file))
        .collect::<std::io::Result<_>>()?;
    assert_eq!(private.len(), 1, "{private:?}");
    assert_eq!(report, format!("status=Enabled({:?})", private[0]));
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}
