//! Start-up snapshots.

use std::sync::Arc;

use engine_api::{Error, Result, Snapshot, SnapshotScript};

use crate::backend_error;
use crate::script::origin;

/// Runs `scripts` in a fresh snapshot-creator isolate (and `warmup` in a throwaway
/// context, so its compiled code is kept but not its effects) and serialises the heap.
pub(crate) fn create(scripts: &[SnapshotScript], warmup: Option<&str>) -> Result<Snapshot> {
    crate::platform::init_v8();
    // A snapshot creator must not run beside another one, nor beside isolate creation
    // (they share V8's read-only heap set-up).
    let _alone = crate::platform::CREATION
        .write()
        .unwrap_or_else(|e| e.into_inner());
    // A snapshot creator enters its isolate: run it on a thread where none is entered.
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("isovm-v8-snapshot".into())
            .spawn_scoped(s, || build(scripts, warmup))
            .map_err(|e| backend_error(format!("spawning the snapshot thread: {e}")))?
            .join()
            .map_err(|_| backend_error("snapshot creation panicked"))?
    })
}

fn run(scope: &mut v8::PinScope, code: &str, o: &engine_api::ScriptOrigin) -> Result<()> {
    v8::tc_scope!(let tc, scope);
    let source = v8::String::new(tc, code)
        .ok_or_else(|| Error::InvalidArgument("source too long".into()))?;
    let origin = origin(tc, o, false);
    let Some(script) = v8::Script::compile(tc, source, Some(&origin)) else {
        return Err(caught!(tc));
    };
    if script.run(tc).is_none() {
        return Err(caught!(tc));
    }
    tc.perform_microtask_checkpoint();
    Ok(())
}

fn build(scripts: &[SnapshotScript], warmup: Option<&str>) -> Result<Snapshot> {
    let mut creator = v8::Isolate::snapshot_creator(None, None);
    let outcome = {
        v8::scope!(let scope, &mut creator);
        let context = v8::Context::new(scope, Default::default());
        let outcome = {
            let scope = &mut v8::ContextScope::new(scope, context);
            scripts
                .iter()
                .try_for_each(|s| run(scope, &s.code, &s.origin))
        };
        if outcome.is_ok()
            && let Some(code) = warmup
        {
            let throwaway = v8::Context::new(scope, Default::default());
            let scope = &mut v8::ContextScope::new(scope, throwaway);
            let _ = run(scope, code, &engine_api::ScriptOrigin::file("<warmup>"));
        }
        scope.set_default_context(context);
        outcome
    };
    // The creator must produce its blob even on failure: it cannot be dropped otherwise.
    let blob = creator.create_blob(v8::FunctionCodeHandling::Keep);
    outcome?;
    let blob = blob.ok_or_else(|| backend_error("V8 produced no snapshot"))?;
    Ok(Snapshot(wrap(&blob)))
}

/// Our snapshot header: magic, V8's cache version tag, a hash of the blob. V8 aborts the
/// process on a corrupt or foreign blob, so only blobs that check out reach it.
const MAGIC: &[u8; 4] = b"IVS1";
const HEADER: usize = 16;

fn hash(bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ bytes.len() as u64;
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().unwrap_or_default());
        h = (h ^ w).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
    }
    for b in chunks.remainder() {
        h = (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn wrap(blob: &[u8]) -> Arc<[u8]> {
    let mut out = Vec::with_capacity(HEADER + blob.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&v8::script_compiler::cached_data_version_tag().to_le_bytes());
    out.extend_from_slice(&hash(blob).to_le_bytes());
    out.extend_from_slice(blob);
    out.into()
}

/// The V8 blob inside `snapshot`, if it is one of ours for this V8.
pub(crate) fn unwrap(snapshot: &Snapshot) -> Result<Vec<u8>> {
    static CHECKED: std::sync::Mutex<Vec<std::sync::Weak<[u8]>>> =
        std::sync::Mutex::new(Vec::new());
    let data = &snapshot.0;
    let invalid = || Error::invalid_option("snapshot", "not a snapshot of this V8 backend");
    if data.len() <= HEADER || &data[..4] != MAGIC {
        return Err(invalid());
    }
    let blob = &data[HEADER..];
    let mut checked = CHECKED.lock().unwrap_or_else(|e| e.into_inner());
    checked.retain(|w| w.strong_count() > 0);
    let known = checked
        .iter()
        .any(|w| w.upgrade().is_some_and(|a| Arc::ptr_eq(&a, data)));
    if !known {
        let tag = u32::from_le_bytes(data[4..8].try_into().map_err(|_| invalid())?);
        let sum = u64::from_le_bytes(data[8..16].try_into().map_err(|_| invalid())?);
        if tag != v8::script_compiler::cached_data_version_tag() || sum != hash(blob) {
            return Err(invalid());
        }
        checked.push(Arc::downgrade(data));
    }
    Ok(blob.to_vec())
}
