//! `import.meta` of modules compiled with `ScriptOptions::meta`: the meta's properties,
//! copied onto the object the first time the module reads `import.meta`.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use engine_api::Value;

use crate::convert;

/// The metas of this isolate's live modules, by module identity hash.
#[derive(Default)]
struct ImportMetas {
    by_hash: HashMap<i32, Vec<Entry>>,
}

struct Entry {
    module: v8::Global<v8::Module>,
    meta: Value,
    /// Held by the module's handle: once it is gone, so is the entry.
    alive: Weak<()>,
}

/// Installs the hook on a new isolate.
pub(crate) fn install(isolate: &mut v8::Isolate) {
    isolate.set_slot(ImportMetas::default());
    isolate.set_host_initialize_import_meta_object_callback(initialize);
}

/// Remembers `meta` for `module` while `alive` has a strong count; returns the token.
pub(crate) fn remember(
    scope: &mut v8::PinScope,
    module: v8::Local<v8::Module>,
    meta: Value,
) -> Arc<()> {
    let alive = Arc::new(());
    let entry = Entry {
        module: v8::Global::new(scope, module),
        meta,
        alive: Arc::downgrade(&alive),
    };
    let hash = module.get_identity_hash().get();
    let mut dead = Vec::new();
    if let Some(metas) = scope.get_slot_mut::<ImportMetas>() {
        // Entries of dropped modules go now (no hook runs when a module handle drops).
        metas.by_hash.retain(|_, list| {
            list.retain_mut(|e| {
                let live = e.alive.strong_count() > 0;
                if !live {
                    dead.push(std::mem::take(&mut e.meta));
                }
                live
            });
            !list.is_empty()
        });
        metas.by_hash.entry(hash).or_default().push(entry);
    }
    engine_api::drop_values(dead);
    alive
}

extern "C" fn initialize(
    context: v8::Local<v8::Context>,
    module: v8::Local<v8::Module>,
    meta: v8::Local<v8::Object>,
) {
    // SAFETY: V8 calls this on the thread that holds the isolate, inside its execution.
    v8::callback_scope!(unsafe scope, context);
    let hash = module.get_identity_hash().get();
    // Modules of the same identity hash, told apart by handle; only the match's meta is
    // cloned.
    let candidates: Vec<v8::Global<v8::Module>> = scope
        .get_slot::<ImportMetas>()
        .and_then(|m| m.by_hash.get(&hash))
        .map(|list| list.iter().map(|e| e.module.clone()).collect())
        .unwrap_or_default();
    let Some(index) = candidates
        .iter()
        .position(|g| v8::Local::new(scope, g) == module)
    else {
        return;
    };
    let found = scope
        .get_slot::<ImportMetas>()
        .and_then(|m| m.by_hash.get(&hash))
        .and_then(|list| list.get(index))
        .map(|e| e.meta.clone());
    let Some(Value::Object(props)) = found else {
        return;
    };
    for (key, value) in props {
        let Some(k) = v8::String::new(scope, &key) else {
            return;
        };
        // A failure (the memory limit) throws: V8 checks for it after this hook.
        match convert::from_value(scope, &value) {
            Ok(v) => {
                if meta.create_data_property(scope, k.into(), v).is_none() {
                    return;
                }
            }
            Err(e) => return convert::throw(scope, &e),
        }
        engine_api::drop_values([value]);
    }
}
