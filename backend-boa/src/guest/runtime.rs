//! The one Boa context of this instance, built at pre-initialisation, and its lending to
//! requests the host makes while a call is suspended in `host_call`.
//!
//! Re-entrancy invariant: the context is owned by `ENGINE` and borrowed (`&mut`) by the
//! outermost request for its whole run. While guest code waits in the `host_call` import,
//! the native function that made the host call holds `&mut Context` but cannot use it;
//! [`lend`] records a pointer to it for that stretch only, and a request the host makes
//! meanwhile (a host callback calling back into this isolate) runs on it, taking the
//! pointer out while it runs so that at most one `&mut` made from it is live. wasm is
//! single-threaded: nothing else can run between.

use std::cell::{Cell, RefCell};
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::atomic::Ordering;

use boa_engine::{
    Context, JsError, JsResult, JsString, JsValue, context::ContextBuilder, job::SimpleJobExecutor,
    realm::Realm, vm::RuntimeLimits,
};

use engine_api::abi::{ErrorKind, GuestError, Request, Response};

use super::{ivm, module_loader::Loader, random, realm, requests};

/// Maximum JS call depth (Boa keeps JS frames off the native stack; native re-entry
/// through accessors and callbacks counts too).
const RECURSION_LIMIT: usize = 1_000;
/// Maximum VM value-stack length.
const STACK_SIZE_LIMIT: usize = 1 << 20;
/// Native re-entries (getters, callbacks from builtins) use the wasm stack: keep it bounded.
pub const BACKTRACE_LIMIT: usize = 50;

/// The engine state.
pub struct GuestState {
    /// The Boa context.
    pub context: Context,
    /// What requests need besides the context (also reachable while the context is lent).
    pub shared: Rc<Shared>,
}

/// Engine state besides the context; requests borrow it briefly, never across JS.
pub struct Shared {
    /// The realm built at init, handed out by the first `CreateContext`.
    pub spare_realm: RefCell<Option<Realm>>,
    /// Answers module imports from the host's resolution table.
    pub loader: Rc<Loader>,
    /// The first realm's URI functions (see [`super::realm`]).
    pub uri_functions: Vec<(JsString, JsValue)>,
}

thread_local! {
    static ENGINE: RefCell<Option<GuestState>> = const { RefCell::new(None) };
    static SHARED: RefCell<Option<Rc<Shared>>> = const { RefCell::new(None) };
    /// The context of the call suspended in `host_call`, while the host may call back in.
    static LENT: Cell<Option<NonNull<Context>>> = const { Cell::new(None) };
    /// The engine context's runtime limits, for [`interrupt`] (the context never moves
    /// once it is in `ENGINE`).
    static LIMITS: Cell<Option<NonNull<RuntimeLimits>>> = const { Cell::new(None) };
    /// While the host has the running call interrupted: the limits to restore.
    static INTERRUPTED: Cell<Option<RuntimeLimits>> = const { Cell::new(None) };
    /// The JS stack where an interrupted call stopped, when no response carries it (a
    /// microtask stopped inside the job queue).
    static STOPPED_AT: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Sets the job executor's cancellation token: its next run drops every queued job.
    static DROP_JOBS: RefCell<Option<Box<dyn Fn()>>> = const { RefCell::new(None) };
}

fn build() -> JsResult<GuestState> {
    let loader = Rc::new(Loader::default());
    let jobs = Rc::new(SimpleJobExecutor::new());
    let token = jobs.get_cancellation_token();
    DROP_JOBS
        .with_borrow_mut(|d| *d = Some(Box::new(move || token.store(true, Ordering::Relaxed))));
    let mut context = ContextBuilder::new()
        .job_executor(jobs)
        .module_loader(loader.clone())
        .host_hooks(Rc::new(super::rejections::GuestHooks))
        .build()?;
    let mut limits = RuntimeLimits::default();
    limits.set_recursion_limit(RECURSION_LIMIT);
    limits.set_stack_size_limit(STACK_SIZE_LIMIT);
    limits.set_backtrace_limit(BACKTRACE_LIMIT);
    context.set_runtime_limits(limits);
    super::convert::set_first_realm(&context);
    let uri_functions = realm::capture_uri_functions(&mut context)?;
    setup_realm(&mut context)?;
    let spare_realm = RefCell::new(Some(context.realm().clone()));
    Ok(GuestState {
        context,
        shared: Rc::new(Shared {
            spare_realm,
            loader,
            uri_functions,
        }),
    })
}

/// Installs what every realm gets (called with the realm entered).
pub fn setup_realm(ctx: &mut Context) -> JsResult<()> {
    random::install(ctx)?;
    ivm::install(ctx)
}

/// Builds the engine if not built yet.
pub fn init() {
    super::alloc::install_panic_hook();
    ENGINE.with(|e| {
        // Busy means a call is running (a forbidden re-entry): the engine exists already.
        let Ok(mut e) = e.try_borrow_mut() else {
            return;
        };
        if e.is_none() {
            match build() {
                Ok(engine) => {
                    SHARED.with_borrow_mut(|s| *s = Some(engine.shared.clone()));
                    *e = Some(engine);
                }
                // Building the default realm cannot fail short of a bug or OOM: trap.
                Err(_) => std::process::abort(),
            }
        }
        if let Some(engine) = e.as_mut() {
            LIMITS.set(Some(NonNull::from(engine.context.runtime_limits_mut())));
        }
    });
}

/// The host's soft stop (`isovm_interrupt`): `stop` sets the running context's loop
/// limit to 0 and its recursion limit to 1, so that Boa raises its uncatchable `RuntimeLimit` error at the
/// next loop back-edge or call (unwinding past `catch` and `finally`), and the call ends
/// in an `Interrupted` response ([`interrupted_response`]); `!stop` restores the limits.
/// Returns whether the guest can be stopped so.
///
/// The host calls this from its epoch callback while a request may be running anywhere,
/// with the interpreter holding `&mut Context`: it touches nothing but these flags and the
/// limits word, with volatile accesses (Boa rereads its limits at every check).
pub fn interrupt(stop: bool) -> bool {
    let Some(limits) = LIMITS.get() else {
        return false;
    };
    let limits = limits.as_ptr();
    if stop {
        if INTERRUPTED.get().is_none() {
            // SAFETY: `limits` points into the engine's context, which lives in `ENGINE`
            // for the instance's life and never moves. wasm is single-threaded: the
            // interpreter is suspended at an instruction boundary (an epoch check) while
            // this runs, and only reads the word at its next limit check.
            let before = unsafe { limits.read_volatile() };
            let mut stopped = before;
            stopped.set_loop_iteration_limit(0);
            // 1, not 0: a call Rust makes at depth 0 (a microtask's callback) still enters
            // its frame, so that what stops it next has that frame on the stack.
            stopped.set_recursion_limit(1);
            // SAFETY: as above.
            unsafe { limits.write_volatile(stopped) };
            INTERRUPTED.set(Some(before));
        }
    } else if let Some(before) = INTERRUPTED.take() {
        // SAFETY: as above.
        unsafe { limits.write_volatile(before) };
        STOPPED_AT.with_borrow_mut(|s| *s = None);
    }
    true
}

/// What an interrupted call answers, whatever it made of the stop: `Interrupted`, with the
/// JS stack where it stopped. Other responses pass.
pub fn interrupted_response(response: Response) -> Response {
    if INTERRUPTED.get().is_none() {
        return response;
    }
    let from_response = match response {
        Response::Error(e) if e.kind == Some(ErrorKind::StackOverflow) => e.stack,
        _ => None,
    };
    let stack = from_response.or_else(|| STOPPED_AT.with_borrow(Clone::clone));
    Response::Error(GuestError {
        kind: Some(ErrorKind::Interrupted),
        name: "Error".into(),
        message: "interrupted by the host".into(),
        stack,
        ..GuestError::default()
    })
}

/// The JS frames of a Boa error's backtrace (`    at f (file:1:2)` lines), if it has any.
pub fn stack_of(err: &JsError) -> Option<String> {
    let text = err.to_string();
    let frames: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("at "))
        .collect();
    (!frames.is_empty()).then(|| frames.join("\n"))
}

/// Handles one request: on the engine's context, or, when the host calls back in while a
/// call waits in `host_call`, on the context that call lent.
pub fn handle(request: Request) -> Response {
    init();
    let Some(shared) = SHARED.with_borrow(Clone::clone) else {
        return Response::Error(super::errors::invalid("engine not initialised"));
    };
    ENGINE.with(|e| match e.try_borrow_mut() {
        Ok(mut e) => match e.as_mut() {
            Some(engine) => requests::handle(&mut engine.context, &shared, request),
            None => Response::Error(super::errors::invalid("engine not initialised")),
        },
        Err(_) => nested(&shared, request),
    })
}

/// A request made while the outermost one is suspended in `host_call`.
fn nested(shared: &Shared, request: Request) -> Response {
    // Taken out while in use: a request reaching here again without a new `lend` (the
    // host calling in outside of `host_call`) is refused instead of aliasing it.
    let Some(mut lent) = LENT.take() else {
        return Response::Error(super::errors::invalid(
            "re-entrant isovm_call outside of a host_call",
        ));
    };
    // SAFETY: `lent` was made by `lend` from the `&mut Context` of a native function that
    // is suspended in `host_call` until this request returns (wasm is single-threaded, and
    // the host only calls `isovm_call` from inside that import). That function does not
    // touch the context meanwhile, and the pointer was taken out of `LENT`, so this is the
    // only reference made from it; it ends before the pointer is put back.
    let ctx = unsafe { lent.as_mut() };
    let response = requests::handle(ctx, shared, request);
    LENT.set(Some(lent));
    response
}

/// Runs `f` (a call into the host) with `ctx` lent to requests the host makes meanwhile.
pub fn lend<R>(ctx: &mut Context, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<NonNull<Context>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            LENT.set(self.0);
        }
    }
    let _restore = Restore(LENT.replace(Some(NonNull::from(ctx))));
    f()
}

/// Runs `f` with `realm` entered, then restores the previous realm.
pub fn in_realm<R>(ctx: &mut Context, realm: &Realm, f: impl FnOnce(&mut Context) -> R) -> R {
    let old = ctx.enter_realm(realm.clone());
    let out = f(ctx);
    ctx.enter_realm(old);
    out
}

/// Runs the job queue dry; errors from jobs have nowhere to go, but where an interrupted
/// call stopped in a job is kept for its response. An interrupted call's queued jobs are
/// dropped (Boa's executor drops the rest of its queue when a job fails, too): they never
/// run in a later call.
pub fn run_jobs(ctx: &mut Context) {
    if INTERRUPTED.get().is_some() {
        // A stopped call's jobs never run: not even those without a loop or a call in
        // them, which the limits alone would let through.
        DROP_JOBS.with_borrow(|d| d.as_ref().map(|drop_jobs| drop_jobs()));
    }
    if let Err(e) = ctx.run_jobs()
        && INTERRUPTED.get().is_some()
        && let Some(stack) = stack_of(&e)
    {
        STOPPED_AT.with_borrow_mut(|s| {
            s.get_or_insert(stack);
        });
    }
}
