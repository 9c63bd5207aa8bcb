//! The isovm Boa-WASI backend: the [Boa](https://boajs.dev) engine compiled to
//! `wasm32-wasip1` and run inside wasmtime by `host-wasi`, behind the `engine_api`
//! contract.
//!
//! This is the hard sandbox: a memory cap the guest cannot exceed, deterministic fuel
//! budgets, wall-clock timeouts through epoch interruption, and wasm as a second wall
//! around the engine. Every isolate is its own wasm instance, created from a pre-initialised
//! image (Boa already built) with the pooling allocator and copy-on-write memory.
//!
//! ```no_run
//! use backend_boa::BoaIsolate;
//! use engine_api::{Context, EvalOptions, Isolate, IsolateOptions, Value};
//!
//! let isolate = BoaIsolate::new(IsolateOptions { memory_limit_mb: 32, ..Default::default() })?;
//! let context = isolate.create_context()?;
//! assert_eq!(context.eval("1 + 1", &EvalOptions::default())?, Value::from(2));
//! # Ok::<(), engine_api::Error>(())
//! ```
//!
//! The crate is two things, by target:
//! - on `wasm32-wasip1` it is the guest: Boa behind the message ABI of
//!   [`engine_api::abi`];
//! - on the host it is the backend ([`BoaWasi`] and its handle types), with that guest
//!   embedded ([`guest_wasm`]): the build script builds it (`ISOVM_GUEST_WASM=/path` embeds
//!   another build), and the first use compiles it for wasmtime and caches the result
//!   ([`runtime`], [`host_wasi::Runtime`]).
//!
//! # Behaviour specific to this backend
//!
//! - Any trap (timeout, fuel exhausted, memory limit, uncatchable stack overflow, a guest
//!   fault, a cancelled task's call) disposes the isolate: its state may be inconsistent
//!   after one.
//! - A host callback may call back into its own isolate (on the thread it was called on),
//!   and A -> B -> A chains run: the nested call runs inside the waiting one, within its
//!   deadline, fuel and memory limit, and a trap in it ends the outer call too. At most
//!   `MAX_NESTED_CALLS` (32) calls nest; deeper ones fail with `Error::ReentrancyRefused`.
//!   A callback calling in from a thread of its own waits for the callback to end, but no
//!   longer than its own deadline (`Error::Timeout`) or the waiting call's
//!   (`Error::ReentrancyRefused`).
//! - No snapshots, code cache, inspector or shared memory (`Error::Unsupported`).
#![deny(missing_docs)]

#[cfg(not(target_arch = "wasm32"))]
mod backend;
#[cfg(target_arch = "wasm32")]
mod guest;

#[cfg(not(target_arch = "wasm32"))]
pub use backend::{
    BoaContext, BoaIsolate, BoaModule, BoaReference, BoaScript, BoaWasi, PRECOMPILED, guest,
    guest_wasm, guest_wasm_sha256, runtime,
};
/// The wasm host this backend runs on (its `Runtime`, `RuntimeConfig`, cache status, and
/// the engine-neutral `Wasi*` handles inside the Boa ones).
#[cfg(not(target_arch = "wasm32"))]
pub use host_wasi;
#[cfg(not(target_arch = "wasm32"))]
pub use host_wasi::{CacheStatus, GuestSource, Runtime, RuntimeConfig};
