//! Calls into the host: the `host_call` import, host functions, async-call promises and
//! promise watches.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use boa_engine::{
    Context, JsError, JsResult, JsValue, NativeFunction, builtins::promise::ResolvingFunctions,
    object::builtins::JsPromise, realm::Realm,
};

use engine_api::abi::{
    self, CallMode, ErrorKind, GuestError, HostRequest, HostResponse, Transfer, WireValue,
};

use super::{convert, errors, exports};

#[link(wasm_import_module = "isovm")]
unsafe extern "C" {
    fn host_call(ptr: i32, len: i32) -> i64;
}

thread_local! {
    /// Promises handed out for async host calls, by id.
    static PROMISES: RefCell<HashMap<u32, (ResolvingFunctions, Realm)>> = RefCell::default();
    static NEXT_PROMISE: Cell<u32> = const { Cell::new(1) };
    static NEXT_WATCH: Cell<u32> = const { Cell::new(1) };
}

/// A request the host failed: the error's name, message and remote stack, and the host's
/// id of the failure when a host callback failed.
pub struct HostFailure {
    /// Error name.
    pub name: String,
    /// Message.
    pub message: String,
    /// The stack of the isolate the failure came from, if it has one.
    pub stack: Option<String>,
    /// The host's id of a failed host callback's failure.
    pub callback: Option<u32>,
}

impl HostFailure {
    fn local(message: &str) -> Self {
        HostFailure {
            name: "Error".into(),
            message: message.into(),
            stack: None,
            callback: None,
        }
    }

    /// The error this failure is thrown as.
    pub fn into_js(self, ctx: &mut Context) -> JsError {
        errors::host_to_js(
            &self.name,
            &self.message,
            self.stack.as_deref(),
            self.callback,
            ctx,
        )
    }
}

/// Sends one request to the host. `Err` when the host failed it.
pub fn request(req: &HostRequest) -> Result<HostResponse, HostFailure> {
    let bytes = abi::encode(req);
    let (Ok(ptr), Ok(len)) = (
        i32::try_from(bytes.as_ptr() as usize),
        i32::try_from(bytes.len()),
    ) else {
        return Err(HostFailure::local("host request too large"));
    };
    // SAFETY: `bytes` stays alive and unmodified for the whole call; the host only reads
    // it, and what it may call meanwhile (`isovm_alloc`, and `isovm_call` for a callback
    // calling back in) allocates and frees only its own buffers, never this one.
    let packed = unsafe { host_call(ptr, len) };
    let (rptr, rlen) = ((packed >> 32) as u32 as i32, packed as u32 as i32);
    match exports::take_decoded::<HostResponse>(rptr, rlen) {
        Some(HostResponse::Error {
            name,
            message,
            stack,
            callback,
        }) => Err(HostFailure {
            name,
            message,
            stack,
            callback,
        }),
        Some(r) => Ok(r),
        None => Err(HostFailure::local("malformed host response")),
    }
}

/// [`request`] with `ctx` lent to the host meanwhile: a host callback may call back into
/// this isolate (see [`super::runtime::lend`]).
pub fn request_lending(req: &HostRequest, ctx: &mut Context) -> Result<HostResponse, HostFailure> {
    super::runtime::lend(ctx, || request(req))
}

/// Sends a request (lending `ctx`); a host error is thrown into JS.
pub fn call(req: &HostRequest, ctx: &mut Context) -> JsResult<HostResponse> {
    request_lending(req, ctx).map_err(|f| f.into_js(ctx))
}

/// A host response's value, as JS.
pub fn value_of(resp: HostResponse, ctx: &mut Context) -> JsResult<JsValue> {
    match resp {
        HostResponse::Value(w) => wire_in(w, ctx),
        HostResponse::Bool(b) => Ok(b.into()),
        HostResponse::Id(id) => Ok(id.into()),
        HostResponse::Ok => Ok(JsValue::undefined()),
        HostResponse::Error {
            name,
            message,
            stack,
            callback,
        } => Err(errors::host_to_js(
            &name,
            &message,
            stack.as_deref(),
            callback,
            ctx,
        )),
    }
}

/// [`convert::from_wire`] with failures thrown into JS.
pub fn wire_in(w: WireValue, ctx: &mut Context) -> JsResult<JsValue> {
    convert::from_wire(w, ctx).map_err(|e| errors::guest_to_js(&e, ctx))
}

/// A new pending promise for an async host call, and its id.
pub fn new_async(ctx: &mut Context) -> (JsPromise, u32) {
    let (promise, functions) = JsPromise::new_pending(ctx);
    let id = NEXT_PROMISE.with(|n| {
        let id = n.get();
        n.set(id.wrapping_add(1).max(1));
        id
    });
    let realm = ctx.realm().clone();
    PROMISES.with_borrow_mut(|p| p.insert(id, (functions, realm)));
    (promise, id)
}

/// Settles promise `id` (from `Request::SettlePromise`). A failed host callback's error
/// (`callback` is the host's id of the failure) rejects as a sync one's throw does: with
/// the remote stack continued, and remembered to report it as such if it ends a call.
pub fn settle(
    id: u32,
    ok: bool,
    value: WireValue,
    callback: Option<u32>,
    ctx: &mut Context,
) -> Result<(), GuestError> {
    let Some((functions, realm)) = PROMISES.with_borrow_mut(|p| p.remove(&id)) else {
        return Err(errors::guest(
            ErrorKind::Released,
            "ReferenceError",
            format!("no pending promise {id}"),
        ));
    };
    super::runtime::in_realm(ctx, &realm, |ctx| {
        let value = match (ok, callback, value) {
            (
                false,
                Some(_),
                WireValue::Error {
                    name,
                    message,
                    stack,
                },
            ) => errors::host_to_js(&name, &message, stack.as_deref(), callback, ctx)
                .into_opaque(ctx)
                // Only an engine error (a runtime limit) has no JS value: reject with
                // `undefined` then, as nothing of the callback's error can be built.
                .unwrap_or_default(),
            (_, _, value) => convert::from_wire(value, ctx)?,
        };
        let f = if ok {
            functions.resolve
        } else {
            functions.reject
        };
        f.call(&JsValue::undefined(), &[value], ctx)
            .map_err(|e| errors::from_js(e, None, ctx))?;
        super::runtime::run_jobs(ctx);
        Ok(())
    })
}

/// Settles a promise of ours right away (the host call failed synchronously).
pub fn settle_now(id: u32, ok: bool, value: JsValue, ctx: &mut Context) {
    if let Some((functions, _)) = PROMISES.with_borrow_mut(|p| p.remove(&id)) {
        let f = if ok {
            functions.resolve
        } else {
            functions.reject
        };
        let _ = f.call(&JsValue::undefined(), &[value], ctx);
    }
}

/// A plain JS function calling host function `id`.
pub fn function(id: u32, mode: u8, ctx: &mut Context) -> Result<JsValue, GuestError> {
    if mode > 2 {
        return Err(errors::invalid(format!(
            "unknown host function mode {mode}"
        )));
    }
    let f = NativeFunction::from_copy_closure(move |this, args, ctx| {
        call_function(id, mode, this, args, ctx)
    });
    Ok(f.to_js_function(ctx.realm()).into())
}

fn call_function(
    id: u32,
    mode: u8,
    this: &JsValue,
    args: &[JsValue],
    ctx: &mut Context,
) -> JsResult<JsValue> {
    let mut wire = Vec::with_capacity(args.len());
    for (i, a) in args.iter().enumerate() {
        match convert::copy_out(a, ctx) {
            Ok(w) => wire.push(w),
            Err(convert::CopyError::NotTransferable(m)) => {
                return Err(boa_engine::JsNativeError::typ()
                    .with_message(format!(
                        "argument {i} of a host function is not transferable: {m}"
                    ))
                    .into());
            }
            Err(convert::CopyError::Js(e)) => return Err(e),
        }
    }
    let receiver = convert::copy_out(this, ctx).unwrap_or(WireValue::Undefined);
    apply(id, receiver, wire, mode, Transfer::default(), None, ctx)
}

/// `HostRequest::Apply` in mode 0 (sync), 1 (async: returns a promise) or 2 (ignored),
/// with the call's own timeout (references into isolates honour it).
pub fn apply(
    target: u32,
    receiver: WireValue,
    args: Vec<WireValue>,
    mode: u8,
    result: Transfer,
    timeout_ms: Option<u64>,
    ctx: &mut Context,
) -> JsResult<JsValue> {
    match mode {
        0 => {
            let r = call(
                &HostRequest::Apply {
                    target,
                    receiver,
                    args,
                    mode: CallMode::Sync,
                    result,
                    timeout_ms,
                },
                ctx,
            )?;
            value_of(r, ctx)
        }
        1 => {
            let (promise, id) = new_async(ctx);
            let req = HostRequest::Apply {
                target,
                receiver,
                args,
                mode: CallMode::Async { promise: id },
                result,
                timeout_ms,
            };
            if let Err(f) = request_lending(&req, ctx) {
                let err = errors::host_to_js(&f.name, &f.message, f.stack.as_deref(), None, ctx);
                let reason = err.into_opaque(ctx).unwrap_or_default();
                settle_now(id, false, reason, ctx);
            }
            Ok(promise.into())
        }
        _ => {
            let req = HostRequest::Apply {
                target,
                receiver,
                args,
                mode: CallMode::Ignored,
                result,
                timeout_ms,
            };
            let _ = request_lending(&req, ctx);
            Ok(JsValue::undefined())
        }
    }
}

/// Watches a pending promise: when it settles, tells the host (`PromiseSettled`).
pub fn watch(promise: &JsPromise, t: Transfer, ctx: &mut Context) -> u32 {
    let watch = NEXT_WATCH.with(|n| {
        let id = n.get();
        n.set(id.wrapping_add(1).max(1));
        id
    });
    let on_ok = NativeFunction::from_copy_closure(move |_, args, ctx| {
        let v = args.first().cloned().unwrap_or_default();
        let (ok, value) = match convert::transfer_out(v, t, ctx) {
            Ok(abi::Response::Value(w)) => (true, w),
            Ok(_) => (true, WireValue::Undefined),
            Err(e) => (false, error_wire(e)),
        };
        let _ = request_lending(
            &HostRequest::PromiseSettled {
                watch,
                ok,
                value,
                callback: None,
            },
            ctx,
        );
        Ok(JsValue::undefined())
    })
    .to_js_function(ctx.realm());
    let on_err = NativeFunction::from_copy_closure(move |_, args, ctx| {
        let v = args.first().cloned().unwrap_or_default();
        let reason = errors::from_value(&v, None, ctx);
        let callback = match reason.kind {
            Some(abi::ErrorKind::Callback { id }) => Some(id),
            _ => None,
        };
        let value = error_wire(reason);
        let _ = request_lending(
            &HostRequest::PromiseSettled {
                watch,
                ok: false,
                value,
                callback,
            },
            ctx,
        );
        Ok(JsValue::undefined())
    })
    .to_js_function(ctx.realm());
    let _ = promise.then(Some(on_ok), Some(on_err), ctx);
    watch
}

fn error_wire(e: GuestError) -> WireValue {
    WireValue::Error {
        name: e.name,
        message: e.message,
        stack: e.stack,
    }
}
