//! The on-disk cache of compiled guest modules: only the first run ever compiles.
//!
//! One file per (guest bytes, wasmtime version, engine configuration, target), named by the
//! sha256 of all of them, written atomically (a temporary file unique to the process and
//! thread, then a rename), so a reader racing a writer sees the old file or the new one,
//! never a torn one. Which directory: [`crate::cache_dir`].

use std::hash::Hasher;
use std::path::Path;

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

/// Bumped when what we put in the cache changes shape (pre-initialisation, ABI).
const FORMAT: &str = "isovm-boa-guest-v1";

/// Feeds `Hash` output into sha256, so the engine's compatibility hash is stable.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// What identifies the guest compiled by `engine`: a hash of the guest bytes, the wasmtime
/// version, the engine configuration and the target (the cache file name and the key of a
/// [precompiled](crate::precompile) entry).
pub(crate) fn key(guest_sha256: &[u8; 32], engine: &Engine) -> [u8; 32] {
    let mut h = ShaHasher(Sha256::new());
    h.write(FORMAT.as_bytes());
    h.write(guest_sha256);
    h.write(b"wasmtime-48.0.8");
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut h);
    h.write(&[u8::from(engine.get_consume_fuel())]);
    h.write(std::env::consts::ARCH.as_bytes());
    h.write(std::env::consts::OS.as_bytes());
    h.0.finalize().into()
}

/// The cache file name for the guest compiled by `engine`.
pub(crate) fn file_name(guest_sha256: &[u8; 32], engine: &Engine) -> String {
    let hex: String = key(guest_sha256, engine)[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("boa-guest-{hex}.cwasm")
}

/// Loads a cached module; `None` if absent or unusable (the caller recompiles).
pub(crate) fn load(engine: &Engine, path: &Path) -> Option<Module> {
    if !path.is_file() {
        return None;
    }
    // SAFETY: the file is our own cache entry, written by `store` from `Module::serialize`
    // of this same guest, and named by a hash of the guest bytes, the wasmtime version and
    // the engine configuration; wasmtime still checks its header and rejects a mismatch.
    unsafe { Module::deserialize_file(engine, path) }.ok()
}

/// Compiled guests kept per cache directory (each guest build and engine configuration
/// adds one of about 20 MB); the least recently written go first.
const KEEP_FILES: usize = 8;

/// Writes a serialized module atomically, then trims old entries. Failures only cost a
/// recompile next time.
pub(crate) fn store(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomically(path, bytes)?;
    if let Some(dir) = path.parent() {
        trim(dir, KEEP_FILES);
    }
    Ok(())
}

/// Temporary files older than this are left over from a writer that died mid-write.
const STALE_TEMP: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes all but the `keep` newest `boa-guest-*.cwasm` files of `dir` (a process that
/// has one mapped keeps using it; a removed entry is only recompiled when needed again),
/// and temporary files of writers that died (each as large as an entry).
fn trim(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    let mut files = Vec::new();
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Some(modified) = entry.metadata().ok().and_then(|m| m.modified().ok()) else {
            continue;
        };
        if name.starts_with("boa-guest-") && name.ends_with(".cwasm") {
            files.push((modified, entry.path()));
        } else if name.starts_with(".boa-guest-")
            && name.ends_with(".tmp")
            && now
                .duration_since(modified)
                .is_ok_and(|age| age > STALE_TEMP)
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    if files.len() <= keep {
        return;
    }
    files.sort();
    for (_, path) in &files[..files.len() - keep] {
        let _ = std::fs::remove_file(path);
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("module");
    let tmp = dir.join(crate::cache_dirs::unique_name(&format!(".{name}")) + ".tmp");
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut file| file.write_all(bytes))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_cache_file_is_ignored_and_replaced() {
        let dir = std::env::temp_dir().join(format!("isovm-cache-test-{}", std::process::id()));
        let engine = Engine::default();
        let path = dir.join(file_name(&[7; 32], &engine));
        store(&path, b"not a compiled module").expect("write");
        assert!(load(&engine, &path).is_none());
        let module = Module::new(&engine, b"\0asm\x01\0\0\0").expect("compile");
        let bytes = module.serialize().expect("serialize");
        // Truncated anywhere (a torn write that a rename would have prevented).
        for len in [0, 16, bytes.len() / 2, bytes.len() - 1] {
            store(&path, &bytes[..len]).expect("write truncated");
            assert!(
                load(&engine, &path).is_none(),
                "{len} of {} bytes",
                bytes.len()
            );
        }
        store(&path, &bytes).expect("overwrite");
        assert!(load(&engine, &path).is_some());
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(&dir)
            .expect("read")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Writers racing on one entry, and a reader beside them: every read sees one
    /// writer's whole file, never a mix or a prefix.
    #[cfg(unix)]
    #[test]
    fn racing_writers_never_show_a_torn_entry() {
        const LEN: usize = 1 << 20;
        let dir = std::env::temp_dir().join(format!("isovm-race-test-{}", std::process::id()));
        let path = dir.join("boa-guest-race.cwasm");
        store(&path, &[0xff; LEN]).expect("first write");
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let writers: Vec<_> = (0..4u8)
                .map(|w| {
                    let path = &path;
                    s.spawn(move || {
                        for _ in 0..10 {
                            store(path, &[w; LEN]).expect("write");
                        }
                    })
                })
                .collect();
            let reader = s.spawn(|| {
                let mut reads = 0;
                while !done.load(std::sync::atomic::Ordering::Relaxed) || reads == 0 {
                    let bytes = std::fs::read(&path).expect("read");
                    assert_eq!(bytes.len(), LEN, "a torn entry");
                    assert!(bytes.iter().all(|b| *b == bytes[0]), "a mixed entry");
                    reads += 1;
                }
            });
            for w in writers {
                w.join().expect("writer");
            }
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            reader.join().expect("reader");
        });
        let left: Vec<_> = std::fs::read_dir(&dir).expect("read dir").collect();
        assert_eq!(left.len(), 1, "temporary files left behind");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn old_entries_are_trimmed() {
        let dir = std::env::temp_dir().join(format!("isovm-trim-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        for i in 0..5 {
            std::fs::write(dir.join(format!("boa-guest-{i}.cwasm")), b"x").expect("write");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::fs::write(dir.join("unrelated.txt"), b"x").expect("write");
        // A writer's temporary file: kept while it may still be written, removed when stale.
        let tmp = dir.join(".boa-guest-1.cwasm.4242.0.tmp");
        std::fs::write(&tmp, b"x").expect("write");
        trim(&dir, 2);
        assert!(tmp.exists());
        let old = std::time::SystemTime::now() - 2 * STALE_TEMP;
        std::fs::File::options()
            .write(true)
            .open(&tmp)
            .and_then(|f| f.set_modified(old))
            .expect("age the temporary file");
        trim(&dir, 2);
        let mut left: Vec<_> = std::fs::read_dir(&dir)
            .expect("read")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["boa-guest-3.cwasm", "boa-guest-4.cwasm", "unrelated.txt"]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn file_names_depend_on_guest_and_engine_config() {
        let plain = Engine::default();
        let mut config = wasmtime::Config::new();
        config.consume_fuel(true);
        let fuel = Engine::new(&config).expect("engine");
        assert_ne!(file_name(&[1; 32], &plain), file_name(&[2; 32], &plain));
        assert_ne!(file_name(&[1; 32], &plain), file_name(&[1; 32], &fuel));
        assert_eq!(
            file_name(&[1; 32], &plain),
            file_name(&[1; 32], &Engine::default())
        );
    }
}
