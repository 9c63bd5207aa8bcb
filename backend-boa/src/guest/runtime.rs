//! The one Boa context of this instance, built at pre-initialisation.

use std::cell::RefCell;
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
    /// The realm built at init, handed out by the first `CreateContext`.
    pub spare_realm: Option<Realm>,
    /// Answers module imports from the host's resolution table.
    pub loader: Rc<Loader>,
    /// The first realm's URI functions (see [`super::realm`]).
    pub uri_functions: Vec<(JsString, JsValue)>,
}

thread_local! {
    static ENGINE: RefCell<Option<GuestState>> = const { RefCell::new(None) };
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
    let spare_realm = Some(context.realm().clone());
    Ok(GuestState {
        context,
        spare_realm,
        loader,
        uri_functions,
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
                Ok(engine) => *e = Some(engine),
                // Building the default realm cannot fail short of a bug or OOM: trap.
                Err(_) => std::process::abort(),
            }
        }
    });
}

/// Handles one request.
pub fn handle(request: Request) -> Response {
    init();
    ENGINE.with(|e| match e.try_borrow_mut() {
        Ok(mut e) => match e.as_mut() {
            Some(engine) => requests::handle(engine, request),
            None => Response::Error(super::errors::invalid("engine not initialised")),
        },
        // The host called `isovm_call` from inside `host_call`, which the ABI forbids.
        Err(_) => Response::Error(super::errors::invalid(
            "re-entrant isovm_call (only isovm_alloc may be called during host_call)",
        )),
    })
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
