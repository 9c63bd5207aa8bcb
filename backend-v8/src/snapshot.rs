//! Start-up snapshots.

use std::sync::Arc;

use engine_api::{Error, Result, Snapshot, SnapshotScript};

use crate::backend_error;
use crate::script::origin;

/// Runs `scripts` in a fresh snapshot-creator isolate (and `warmup` in a throwaway
/// context, so its compiled code is kept but not its effects) and serialises the heap.
pub(crate) fn create(scripts: &[SnapshotScript], warmup: Option<&str>) -> Result<Snapshot> {
    crate::init_v8();
    // A snapshot creator must not run beside another one, nor beside isolate creation
    // (they share V8's read-only heap set-up).
    let _alone = crate::CREATION.write().unwrap_or_else(|e| e.into_inner());
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
    Ok(Snapshot(Arc::from(&blob[..])))
}
