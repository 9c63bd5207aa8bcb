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

use boa_engine::{
    Context, JsResult, JsString, JsValue, context::ContextBuilder, realm::Realm, vm::RuntimeLimits,
};

use engine_api::abi::{Request, Response};

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
}

fn build() -> JsResult<GuestState> {
    let loader = Rc::new(Loader::default());
    let mut context = ContextBuilder::new()
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
    });
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

/// Runs the job queue dry; errors from jobs have nowhere to go.
pub fn run_jobs(ctx: &mut Context) {
    let _ = ctx.run_jobs();
}
