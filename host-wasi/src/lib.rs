//! The isovm Boa-WASI backend: the Boa JavaScript engine compiled to `wasm32-wasip1` (crate
//! `backend-boa`), run inside wasmtime, behind the `engine_api` contract.
//!
//! This is the hard sandbox: a memory cap the guest cannot exceed, deterministic fuel
//! budgets, wall-clock timeouts through epoch interruption, and wasm as a second wall
//! around the engine. Every isolate is its own wasm instance, created from a pre-initialised
//! image (Boa already built) with the pooling allocator and copy-on-write memory.
//!
//! ```no_run
//! use engine_api::{Context, EvalOptions, Isolate, IsolateOptions, Value};
//! use host_wasi::BoaIsolate;
//!
//! let isolate = BoaIsolate::new(IsolateOptions { memory_limit_mb: 32, ..Default::default() })?;
//! let context = isolate.create_context()?;
//! assert_eq!(context.eval("1 + 1", &EvalOptions::default())?, Value::from(2));
//! # Ok::<(), engine_api::Error>(())
//! ```
//!
//! # Behaviour specific to this backend
//!
//! - Any trap (timeout, fuel exhausted, memory limit, uncatchable stack overflow, a guest
//!   fault) disposes the isolate: its state may be inconsistent after one.
//! - A host callback cannot call back into its own isolate synchronously (the guest is in
//!   the middle of a call): that fails with `Error::ReentrancyRefused`. Other isolates are
//!   fine.
//! - No snapshots, code cache, inspector or shared memory (`Error::Unsupported`).
//! - The first use compiles the guest (seconds); the result is cached on disk (see
//!   [`Runtime::new`]), so later processes start at once. [`Runtime::prepare_with`] lets a
//!   program tell its user before that happens, and [`Runtime::cache_status`] says where
//!   the cache is or why there is none.
//!
//! # The guest module
//!
//! [`guest_wasm`] is the guest binary built by this crate's build script
//! (`ISOVM_GUEST_WASM=/path` embeds another build); any wasm host can load it. Its ABI
//! (exports, the `isovm.host_call` import, postcard messages) is documented in
//! [`backend_boa::abi`]. A host needs to:
//!
//! 1. provide `isovm.host_call` and the WASI preview 1 functions the module imports (clocks,
//!    `random_get`, `fd_write`, empty args/environ, `proc_exit`; `ENOSYS` for the rest);
//! 2. run `wizer-initialize` once, either at pre-initialisation (as this crate does with
//!    `wasmtime-wizer`, snapshotting the result) or right after each instantiation;
//! 3. call `isovm_start(seed_lo, seed_hi)` once per instance, then exchange
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
mod guest_source;
mod handle_cell;
mod host_calls;
mod isolate;
mod module;
mod preinit;
mod prepared;
mod promises;
mod reference;
mod runtime;
mod runtime_config;
mod script;
mod session;
mod state;
mod ticker;
mod trap;
mod wasi;

use engine_api::Capabilities;

pub use cache_status::CacheStatus;
pub use context::BoaContext;
pub use guest_source::GuestSource;
pub use isolate::BoaIsolate;
pub use module::BoaModule;
pub use reference::BoaReference;
pub use runtime::Runtime;
pub use runtime_config::RuntimeConfig;
pub use script::BoaScript;

/// The guest ABI (re-exported from `backend-boa`).
pub use backend_boa::abi;
/// The wasmtime this crate runs on, for [`Runtime::with_engine`].
pub use wasmtime;

static GUEST_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/guest.wasm"));

/// The Boa guest module (`wasm32-wasip1`), not pre-initialised. Its ABI is
/// [`backend_boa::abi`].
pub fn guest_wasm() -> &'static [u8] {
    GUEST_WASM
}

/// sha256 of [`guest_wasm`] (computed by the build script).
pub fn guest_wasm_sha256() -> &'static [u8; 32] {
    static SHA: &[u8; 32] = include_bytes!(concat!(env!("OUT_DIR"), "/guest.sha256"));
    SHA
}

/// The Boa-WASI backend.
#[derive(Debug)]
pub struct BoaWasi;

impl engine_api::Backend for BoaWasi {
    type Isolate = BoaIsolate;
    type Context = BoaContext;
    type Script = BoaScript;
    type Module = BoaModule;
    type Reference = BoaReference;

    const NAME: &'static str = "boa-wasi";

    fn capabilities() -> Capabilities {
        Capabilities {
            fuel: true,
            hard_memory_cap: true,
            deterministic: true,
            snapshots: false,
            code_cache: false,
            inspector: false,
            shared_memory: false,
        }
    }
}
