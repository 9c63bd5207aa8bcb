//! Host callbacks as guest functions.

use engine_api::{Callback, CallbackMode, Error, Result, TransferOptions, Value};

use crate::convert::{self, Fallback};
use crate::host_promise;
use crate::isolate_core::Core;

/// A guest function that calls `cb`.
pub(crate) fn function<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    cb: Callback,
) -> Result<v8::Local<'s, v8::Function>> {
    let core = Core::of(scope);
    let index = {
        let mut t = core.tables();
        match t.callbacks.iter().position(|c| c.ptr_eq(&cb)) {
            Some(i) => i,
            None => {
                t.callbacks.push(cb);
                t.callbacks.len() - 1
            }
        }
    };
    let data = v8::Number::new(scope, index as f64);
    v8::Function::builder(call_host)
        .data(data.into())
        .build(scope)
        .ok_or_else(crate::empty)
}

/// Copies guest arguments out for the host.
pub(crate) fn arguments<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
    from: i32,
    opts: &TransferOptions,
) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(args.length().max(0) as usize);
    for i in from..args.length() {
        out.push(convert::to_value(
            scope,
            args.get(i),
            opts,
            Fallback::Error,
        )?);
    }
    Ok(out)
}

fn call_host<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: v8::FunctionCallbackArguments<'s>,
    mut rv: v8::ReturnValue<'s, v8::Value>,
) {
    let core = Core::of(scope);
    let Some(index) = args.data().number_value(scope) else {
        return;
    };
    let Some(cb) = core.tables().callbacks.get(index as usize).cloned() else {
        return convert::throw(scope, &Error::Released("callback"));
    };
    let values = match arguments(scope, &args, 0, &TransferOptions::copy()) {
        Ok(v) => v,
        Err(e) => return convert::throw(scope, &e),
    };
    match cb.mode() {
        CallbackMode::Sync => match core.lend(|| crate::cpu::host(|| cb.call(values))) {
            Ok(v) => {
                match convert::from_value(scope, &v) {
                    Ok(local) => rv.set(local),
                    Err(e) => convert::throw(scope, &e),
                }
                engine_api::drop_values([v]);
            }
            Err(e) => convert::throw(scope, &Error::from_callback(e)),
        },
        CallbackMode::Ignored if cb.is_future() => {
            // On its executor, counted on the host pool; refused past the limit, dropped
            // as its result would be.
            let _ = cb.spawn_async(core.id, values, |_| {});
        }
        CallbackMode::Ignored => {
            core.outbox.spawn_ignored(move || {
                let _ = cb.call(values);
            });
        }
        CallbackMode::Async => {
            let Ok(isolate) = core.isolate() else {
                return convert::throw(scope, &Error::Disposed);
            };
            match host_promise::promise(scope, &core) {
                Some((promise, id)) => {
                    rv.set(promise.into());
                    // A blocking closure on the bounded host pool, a future on its
                    // executor; both fair between isolates and counted until done. One
                    // that has too many pending sees this promise rejected instead.
                    let refused_to = isolate.clone();
                    let done = move |r: engine_api::Result<Value>| {
                        host_promise::settle(isolate, id, r.map_err(Error::from_callback))
                    };
                    if let Err(refused) = cb.spawn_async(core.id, values, done) {
                        // Not run (too many pending): the guest sees why, not a failure
                        // of the callback.
                        drop(refused.job);
                        host_promise::settle(refused_to, id, Err(refused.error));
                    }
                }
                None => convert::throw(scope, &crate::empty()),
            }
        }
    }
}
