//! Promises the guest holds and the host settles later (async host callbacks, and the
//! guest's async `reference.apply`).

use std::sync::Arc;

use engine_api::{Result, Value};

use crate::V8Isolate;
use crate::convert;
use crate::isolate_core::Core;

/// A new promise the host settles later with [`settle`].
pub(crate) fn promise<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    core: &Arc<Core>,
) -> Option<(v8::Local<'s, v8::Promise>, u64)> {
    let resolver = v8::PromiseResolver::new(scope)?;
    let context = scope.get_current_context();
    let entry = (
        v8::Global::new(scope, resolver),
        v8::Global::new(scope, context),
    );
    let id = {
        let mut t = core.tables();
        let id = t.next_id();
        t.resolvers.insert(id, entry);
        id
    };
    Some((resolver.get_promise(scope), id))
}

/// Settles promise `id` of `isolate` with `result`, in the isolate's queue order.
pub(crate) fn settle(isolate: V8Isolate, id: u64, result: Result<Value>) {
    let queue = isolate.core().queue.clone();
    queue.spawn_ignored(move || {
        let core = isolate.core().clone();
        let _ = isolate.enter(None, move |iso| {
            let Some((resolver, context)) = core.tables().resolvers.remove(&id) else {
                return Ok(());
            };
            v8::scope!(let scope, iso);
            let context = v8::Local::new(scope, &context);
            let scope = &mut v8::ContextScope::new(scope, context);
            let resolver = v8::Local::new(scope, &resolver);
            let built = match &result {
                Ok(v) => convert::from_value(scope, v),
                Err(e) => Err(e.clone()),
            };
            if let Ok(v) = result {
                engine_api::drop_values([v]);
            }
            match built {
                Ok(v) => resolver.resolve(scope, v),
                // A failed host callback rejects with its own error, remembered: left
                // uncaught, the call ends in its Error::Callback (as a sync one's throw).
                Err(e) => match crate::errors::exception(scope, &e) {
                    Some(exc) => resolver.reject(scope, exc),
                    None => None,
                },
            };
            scope.perform_microtask_checkpoint();
            Ok(())
        });
    });
}
