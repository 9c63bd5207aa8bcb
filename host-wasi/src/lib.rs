//! The isovm wasm host: runs a guest module (a JavaScript engine compiled to
//! `wasm32-wasip1` that speaks the isovm ABI, [`engine_api::abi`]) inside wasmtime. It
//! knows no engine in particular: `backend-boa` gives it the Boa guest and makes the
//! Boa-WASI backend of it; another engine compiled to wasm could plug in the same way.
//!
//! This is the hard sandbox: a memory cap the guest cannot exceed, deterministic fuel
//! budgets, wall-clock timeouts through epoch interruption, and wasm as a second wall
//! around the engine. Every isolate is its own wasm instance, created from a pre-initialised
//! image (the engine already built) with the pooling allocator and copy-on-write memory.
//!
//! ```no_run
//! use engine_api::{EvalOptions, IsolateOptions, Value};
//! use host_wasi::{GuestModule, Runtime, RuntimeConfig, WasiIsolate};
//!
//! let guest = GuestModule::from_bytes("engine", std::fs::read("engine.wasm").unwrap());
//! let runtime = Runtime::new(guest, RuntimeConfig::default())?;
//! let isolate = WasiIsolate::with_runtime(&runtime, IsolateOptions::default())?;
//! let context = isolate.create_context()?;
//! assert_eq!(context.eval("1 + 1", &EvalOptions::default())?, Value::from(2));
//! # Ok::<(), engine_api::Error>(())
//! ```
//!
//! The handle types ([`WasiIsolate`], [`WasiContext`], [`WasiScript`], [`WasiModule`],
//! [`WasiReference`]) have the contract's methods as inherent methods; a backend crate
//! wraps them to implement the `engine_api` traits under its own [`engine_api::Backend`].
//!
//! # Behaviour
//!
//! - Any trap (timeout, fuel exhausted, memory limit, uncatchable stack overflow, a guest
//!   fault) disposes the isolate: its state may be inconsistent after one.
//! - A host callback may call back into its own isolate (on the thread it was called on),
//!   and A -> B -> A chains run: the nested call runs inside the waiting one, within its
//!   deadline, fuel and memory limit, and a trap in it ends the outer call too. At most
//!   `MAX_NESTED_CALLS` (32) calls nest; deeper ones fail with `Error::ReentrancyRefused`.
//!   A callback calling in from a thread of its own waits for the callback to end, but no
//!   longer than its own deadline (`Error::Timeout`) or the waiting call's
//!   (`Error::ReentrancyRefused`); with neither, `engine_api::UNBOUNDED_LEND_WAIT` after
//!   the callback began (`Error::ReentrancyRefused`); a dispose ends it (`Error::Disposed`).
//! - No snapshots, code cache, inspector or shared memory (`Error::Unsupported`).
//! - The first use compiles the guest (seconds); the result is cached on disk (see
//!   [`Runtime::new`]), so later processes start at once. [`Runtime::prepare_with`] lets a
//!   program tell its user before that happens, and [`Runtime::cache_status`] says where
//!   the cache is or why there is none.
//!
//! # What a guest module provides
//!
//! Its ABI (exports, the `isovm.host_call` import, postcard messages) is documented in
//! [`engine_api::abi`]. This host:
//!
//! 1. provides `isovm.host_call`, `isovm.out_of_memory` and the WASI preview 1 functions
//!    the module imports (clocks, `random_get`, `fd_write`, empty args/environ,
//!    `proc_exit`; `ENOSYS` for the rest);
//! 2. runs `wizer-initialize` once at pre-initialisation (with `wasmtime-wizer`,
//!    snapshotting the result);
//! 3. calls `isovm_start(seed_lo, seed_hi)` once per instance, then exchanges
//!    [`abi::Request`] / [`abi::Response`] messages through `isovm_alloc` and `isovm_call`,
//!    treating every pointer, length and message from the guest as untrusted.
#![deny(missing_docs)]

mod cache;
mod cache_dirs;
mod cache_status;
mod callback_errors;
mod context;
mod convert;
mod cpu_meter;
mod guest;
mod guest_module;
mod guest_source;
mod handle_cell;
mod host_calls;
mod isolate;
mod lent_store;
mod module;
mod precompiled;
mod preinit;
mod prepared;
mod promises;
mod reference;
mod runtime;
mod runtime_config;
mod script;
mod session;
mod soft_stop;
mod state;
mod ticker;
mod trap;
mod wasi;

pub use cache_status::CacheStatus;
pub use context::WasiContext;
pub use guest_module::GuestModule;
pub use guest_source::GuestSource;
pub use isolate::WasiIsolate;
pub use module::WasiModule;
pub use precompiled::precompile;
pub use reference::WasiReference;
pub use runtime::Runtime;
pub use runtime_config::RuntimeConfig;
pub use script::WasiScript;

/// The guest ABI (defined in `engine-api`, next to the values it carries).
pub use engine_api::abi;
/// The wasmtime this crate runs on, for [`Runtime::with_engines`].
pub use wasmtime;

/// What a backend built on this host can do (the same for every guest: these are
/// properties of the wasm wall, not of the engine inside).
pub fn capabilities() -> engine_api::Capabilities {
    engine_api::Capabilities {
        fuel: true,
        hard_memory_cap: true,
        deterministic: true,
        snapshots: false,
        code_cache: false,
        inspector: false,
        shared_memory: false,
        // The engine's, not the wall's: Boa 0.22 raises its recursion limit uncatchably.
        catchable_stack_overflow: false,
    }
}
