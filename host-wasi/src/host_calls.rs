//! The `isovm.host_call` import: the guest calling host callbacks, references of other
//! isolates and external copies by host id.

use std::sync::Weak;
use std::time::Duration;

use engine_api::abi::{self, CallMode, HostRequest, HostResponse, WireValue};
use engine_api::{
    ApplyOptions, Error, ExternalCopy, ReferenceHandle, Result, TransferOptions, Value,
};
use wasmtime::Caller;

use crate::WasiIsolate;
use crate::convert::{enter, from_wire, leave, transfer_options};
use crate::guest::MAX_MESSAGE;
use crate::isolate::IsolateInner;
use crate::promises::rejection;
use crate::state::{HostObject, HostState};
use crate::trap::{HostTrap, fault};

/// `host_call(ptr, len) -> (resp_ptr << 32) | resp_len`; see [`engine_api::abi`].
pub(crate) fn host_call(
    mut caller: Caller<'_, HostState>,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<i64> {
    let state = caller.data();
    let (Some(memory), Some(alloc)) = (
        state.memory,
        state.exports.as_ref().map(|e| e.alloc.clone()),
    ) else {
        return Err(fault("host_call before the guest was started"));
    };
    let isolate = state
        .isolate
        .as_ref()
        .and_then(Weak::upgrade)
        .map(|inner: std::sync::Arc<IsolateInner>| WasiIsolate { inner })
        .ok_or_else(|| fault("host_call outside of an isolate"))?;
    let (start, len) = (ptr as u32 as usize, len as u32 as usize);
    if len > MAX_MESSAGE {
        return Err(fault("oversized host request"));
    }
    let request: HostRequest = memory
        .data(&caller)
        .get(start..start.saturating_add(len))
        .ok_or_else(|| fault("out-of-bounds host request"))
        .and_then(|bytes| abi::decode(bytes).ok_or_else(|| fault("malformed host request")))?;

    // The host's time is not the guest's CPU time.
    caller.data_mut().cpu.pause();
    let response = dispatch(&mut caller, &isolate, request);
    // A call nested in this one (from a host callback) trapped: this one ends as well.
    if let Some(e) = caller.data_mut().fatal.take() {
        return Err(wasmtime::Error::new(HostTrap::Nested(e)));
    }
    if caller.data().interrupted() {
        return Err(wasmtime::Error::new(HostTrap::Disposed));
    }

    let bytes = abi::encode(&response);
    let rlen = i32::try_from(bytes.len()).map_err(|_| fault("oversized host response"))?;
    caller.data_mut().cpu.resume();
    let rptr = alloc.call(&mut caller, rlen)?;
    if rptr == 0 && rlen > 0 {
        return Err(fault("the guest could not allocate a host response"));
    }
    memory
        .write(&mut caller, rptr as u32 as usize, &bytes)
        .map_err(|_| fault("the guest returned an out-of-bounds allocation"))?;
    Ok((((rptr as u32 as u64) << 32) | rlen as u32 as u64) as i64)
}

/// The guest throws a failed host callback's error as the callback's own error (V8 does
/// the same), with the stack it had; the store keeps the failure, to answer
/// `Error::Callback` if that ends the call.
fn error_response(caller: &mut Caller<'_, HostState>, e: Error) -> HostResponse {
    let callback = matches!(e, Error::Callback { .. })
        .then(|| caller.data_mut().callback_errors.remember(e.clone()));
    let (name, message, stack) = match e.callback_error().unwrap_or(&e) {
        Error::Js(j) => (j.name.clone(), j.message.clone(), j.stack.clone()),
        other => ("Error".into(), other.to_string(), None),
    };
    // The guest continues the stack of the isolate the error came from with its own frames.
    HostResponse::error(name, message, stack, callback)
}

fn dispatch(
    caller: &mut Caller<'_, HostState>,
    isolate: &WasiIsolate,
    request: HostRequest,
) -> HostResponse {
    // A panic must not unwind through the guest's frames (a callback's is caught already;
    // this covers references of other backends and conversions).
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        handle(caller, isolate, request)
    }))
    .unwrap_or_else(|_| Err(Error::callback("host call panicked")))
    .unwrap_or_else(|e| error_response(caller, e))
}

/// Runs `f` (host code that may call back into this isolate) with the store lent to it.
fn lend<R>(caller: &mut Caller<'_, HostState>, isolate: &WasiIsolate, f: impl FnOnce() -> R) -> R {
    crate::lent_store::lend(&isolate.inner, caller, f)
}

fn object(caller: &Caller<'_, HostState>, id: u32) -> Result<HostObject> {
    caller
        .data()
        .table
        .get(id)
        .cloned()
        .ok_or(Error::Released("host reference"))
}

fn as_handle(obj: &HostObject) -> Result<&dyn ReferenceHandle> {
    match obj {
        HostObject::Callback(c) => Ok(c),
        HostObject::Reference(r) => Ok(&**r),
        HostObject::Copy(_) => Err(Error::WrongKind(
            "an external copy is not a reference".into(),
        )),
    }
}

fn call(
    obj: &HostObject,
    receiver: Value,
    args: Vec<Value>,
    result: TransferOptions,
    timeout: Option<Duration>,
) -> Result<Value> {
    match obj {
        HostObject::Callback(c) => c.call(args),
        HostObject::Reference(r) => r.apply(
            receiver,
            args,
            &ApplyOptions {
                result,
                timeout,
                ..Default::default()
            },
        ),
        HostObject::Copy(_) => Err(Error::js("TypeError", "an external copy is not a function")),
    }
}

/// A host value into the guest (through this store's table).
fn to_guest(
    caller: &mut Caller<'_, HostState>,
    isolate: &WasiIsolate,
    v: Value,
) -> Result<WireValue> {
    enter(
        v,
        &mut caller.data_mut().table,
        isolate.inner.id,
        &TransferOptions::default(),
    )
}

fn from_guest(
    caller: &Caller<'_, HostState>,
    isolate: &WasiIsolate,
    w: WireValue,
) -> Result<Value> {
    from_wire(w, &caller.data().table, isolate)
}

fn handle(
    caller: &mut Caller<'_, HostState>,
    isolate: &WasiIsolate,
    request: HostRequest,
) -> Result<HostResponse> {
    Ok(match request {
        HostRequest::Apply {
            target,
            receiver,
            args,
            mode,
            result,
            timeout_ms,
        } => {
            let timeout = timeout_ms.map(Duration::from_millis);
            let obj = object(caller, target)?;
            let receiver = from_guest(caller, isolate, receiver)?;
            let args = args
                .into_iter()
                .map(|a| from_guest(caller, isolate, a))
                .collect::<Result<Vec<_>>>()?;
            let result = transfer_options(&result);
            match mode {
                CallMode::Sync => {
                    let v = lend(caller, isolate, || {
                        call(&obj, receiver, args, result, timeout)
                    })
                    .map_err(|e| match obj {
                        HostObject::Callback(_) => Error::from_callback(e),
                        _ => e,
                    })?;
                    HostResponse::Value(to_guest(caller, isolate, v)?)
                }
                // Async and ignored calls run on the host callback pool: bounded, fair
                // between isolates, and apart from the workers that drain isolate queues
                // (an `_async` call waiting for a guest promise holds one of those until
                // an async host call settles it).
                CallMode::Async { promise } => {
                    isolate.inner.promises.start_async();
                    let owner = isolate.clone();
                    if let HostObject::Callback(c) = &obj {
                        // A blocking closure on the host pool, a future on its executor;
                        // counted as pending until done, refused past the limit.
                        let refused_to = owner.clone();
                        let done = move |r: Result<Value>| {
                            owner.settle_later(promise, r.map_err(Error::from_callback))
                        };
                        if let Err(refused) = c.spawn_async(isolate.inner.id, args, done) {
                            // Not run (too many pending): the guest sees why, not a
                            // failure of the callback.
                            drop(refused.job);
                            refused_to.settle_later(promise, Err(refused.error));
                        }
                        return Ok(HostResponse::Ok);
                    }
                    let job = move || {
                        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            call(&obj, receiver, args, result, timeout)
                        }))
                        .unwrap_or_else(|_| Err(Error::callback("host call panicked")));
                        owner.settle_later(promise, r);
                    };
                    // Too many pending for this isolate: its promise is rejected instead.
                    if let Err(refused) = engine_api::spawn_host_call(isolate.inner.id, job) {
                        isolate.settle_later(promise, Err(refused.error));
                    }
                    HostResponse::Ok
                }
                CallMode::Ignored => {
                    // Refused (too many pending): dropped, as its result would be.
                    if let HostObject::Callback(c) = &obj {
                        let _ = c.spawn_async(isolate.inner.id, args, |_| {});
                        return Ok(HostResponse::Ok);
                    }
                    let _ = engine_api::spawn_host_call(isolate.inner.id, move || {
                        let _ = call(&obj, receiver, args, result, timeout);
                    });
                    HostResponse::Ok
                }
            }
        }
        HostRequest::Get {
            target,
            key,
            result,
            accessors,
        } => {
            let obj = object(caller, target)?;
            let key = from_guest(caller, isolate, key)?;
            let options = engine_api::PropertyOptions {
                transfer: transfer_options(&result),
                accessors,
            };
            let v = as_handle(&obj)?.get(key, &options)?;
            HostResponse::Value(to_guest(caller, isolate, v)?)
        }
        HostRequest::Set {
            target,
            key,
            value,
            accessors,
        } => {
            let obj = object(caller, target)?;
            let key = from_guest(caller, isolate, key)?;
            let value = from_guest(caller, isolate, value)?;
            let options = engine_api::PropertyOptions {
                accessors,
                ..Default::default()
            };
            HostResponse::Bool(as_handle(&obj)?.set(key, value, &options)?)
        }
        HostRequest::Delete { target, key } => {
            let obj = object(caller, target)?;
            let key = from_guest(caller, isolate, key)?;
            let handle = as_handle(&obj)?;
            HostResponse::Bool(lend(caller, isolate, || handle.delete(key))?)
        }
        HostRequest::Copy { target } => {
            let v = match object(caller, target)? {
                HostObject::Copy(c) => c.copy()?,
                obj => {
                    let handle = as_handle(&obj)?;
                    lend(caller, isolate, || handle.copy())?
                }
            };
            HostResponse::Value(to_guest(caller, isolate, v)?)
        }
        HostRequest::Release { target } => {
            caller.data_mut().table.remove(target);
            HostResponse::Ok
        }
        HostRequest::NewExternalCopy { value } => {
            let copy = ExternalCopy::new(from_guest(caller, isolate, value)?)?;
            // Copies live outside guest memory: without this cap a guest could fill the
            // host's memory with them.
            let state = caller.data_mut();
            if state.table.external_bytes().saturating_add(copy.size()) > state.limits.max_bytes {
                // The isolate reached its limit: the call ends as `MemoryLimit`, even if
                // the guest catches this.
                state.limits.exhausted = true;
                return Err(Error::js(
                    "RangeError",
                    "external copies held by this isolate exceed its memory limit",
                ));
            }
            HostResponse::Id(caller.data_mut().table.insert(HostObject::Copy(copy)))
        }
        HostRequest::ReadExternalCopy { id } => {
            let v = match object(caller, id)? {
                HostObject::Copy(c) => c.copy()?,
                _ => return Err(Error::WrongKind("not an external copy".into())),
            };
            HostResponse::Value(to_guest(caller, isolate, v)?)
        }
        HostRequest::PromiseSettled {
            watch,
            ok,
            value,
            callback,
        } => {
            let promises = &isolate.inner.promises;
            if let Some(transfer) = promises.transfer_of(watch) {
                // A failed host callback's error the store still keeps ends the wait as
                // that failure (an id it no longer keeps: the reason as a JS error).
                let failure = callback
                    .filter(|_| !ok)
                    .and_then(|id| caller.data().callback_errors.get(id));
                let v = leave(value, &caller.data().table, isolate, &transfer);
                let result = match (v, failure) {
                    (Ok(v), _) if ok => Ok(v),
                    (Ok(v), None) => Err(rejection(v)),
                    (Ok(v), Some(failure)) => {
                        engine_api::drop_values([v]);
                        Err(failure)
                    }
                    (Err(e), _) => Err(e),
                };
                promises.settle_watch(watch, result);
            }
            HostResponse::Ok
        }
    })
}
