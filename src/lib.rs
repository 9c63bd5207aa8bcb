//! isovm runs untrusted JavaScript in isolates, from Rust.
//!
//! ```no_run
//! let isolate = isovm::Isolate::new(isovm::IsolateOptions { memory_limit_mb: 32, ..Default::default() })?;
//! let context = isolate.create_context()?;
//! assert_eq!(context.eval("1 + 1", &Default::default())?, isovm::Value::from(2));
//! # Ok::<(), isovm::Error>(())
//! ```
//!
//! Two backends, picked by Cargo feature and, when both are compiled in, per isolate at run
//! time ([`Isolate::with_backend`], [`BackendKind`]):
//!
//! | feature    | backend                         | for                                         |
//! |------------|---------------------------------|---------------------------------------------|
//! | `boa-wasi` | Boa in wasm, run by wasmtime    | the hard sandbox: fuel, a hard memory cap    |
//! | `v8`       | V8 (crate `v8`)                 | speed: JIT, snapshots, code cache            |
//!
//! The handle types here ([`Isolate`], [`Context`], [`Script`], [`Module`], [`Reference`])
//! are concrete: no trait import is needed, and isolates of both backends fit in one
//! collection. Generic code uses the trait family of the contract instead (re-exported in
//! [`traits`]; `use isovm::prelude::*` brings them into scope), and each backend's own
//! types are in [`boa_wasi`] and [`v8`].
//!
//! Every call that runs guest code has three forms: the plain one blocks the calling
//! thread, `_async` returns a [`Task`] (a future, or `.wait()` it), and `_ignored` drops the
//! result. All work of one isolate runs in the order it was queued.
#![deny(missing_docs)]

mod context;
mod dispatch;
mod dyn_backend;
mod isolate;
mod kind;
mod module;
mod reference;
mod script;

pub use context::Context;
pub use dyn_backend::Dyn;
pub use isolate::Isolate;
pub use kind::BackendKind;
pub use module::Module;
pub use reference::Reference;
pub use script::Script;

pub use engine_api::{
    AnyReference, ApplyOptions, AsyncHostFunction, Callback, CallbackMode, Capabilities,
    Capability, Cause, DeterministicSeed, Error, ErrorValue, EvalOptions, Executor, ExternalCopy,
    FromValue, FromValueError, HeapStatistics, HostFunction, HostPool, IntoCallbackResult,
    IntoValue, IsolateId, IsolateOptions, JsError, Location, MAX_EXPANSION_BYTES,
    MAX_TRANSFER_DEPTH, PropertyOptions, PropertyRefusal, Result, RunOptions, ScriptOptions,
    ScriptOrigin, Serde, SharedBuffer, Snapshot, SnapshotScript, SpawnedFuture, Spawner, Task,
    TransferOptions, TypeOf, TypedArrayKind, Value, iso_date,
};

/// Sizes of the process-wide pools: the worker pool that runs isolates' async work
/// (`ISOVM_WORKERS`), the host-callback pool (`ISOVM_HOST_THREADS`) and its per-isolate
/// bound (`ISOVM_HOST_QUEUE_LIMIT`); [`Executor`] polls async host functions' futures.
pub use engine_api::{
    host_queue_limit, host_threads, peak_worker_threads, set_host_queue_limit, set_host_threads,
    set_worker_threads, worker_threads,
};

/// The contract's traits, for code generic over backends (`fn f<B: Backend>()`) and for
/// writing a backend.
pub mod traits {
    pub use engine_api::{
        Backend, Context, Isolate, Module, Reference, ReferenceHandle, Resolver, Script,
    };
}

/// The traits in scope, unnamed: `use isovm::prelude::*;` lets generic code call their
/// methods on any backend's handles.
pub mod prelude {
    pub use engine_api::{
        Backend, Context as _, Isolate as _, Module as _, Reference as _, ReferenceHandle as _,
        Script as _,
    };
}

/// What backend authors need beyond the traits: the per-isolate task queue, the completer
/// behind a [`Task`], cancellation tokens, the host-callback pool's entry points.
pub mod backend_support {
    pub use engine_api::{
        CancelHook, CancelToken, Completer, CurrentToken, PendingSlot, Refused, TaskQueue,
        ValueDeserializer, drop_values, spawn_detached, spawn_host_call,
    };
}

/// The Boa-WASI backend's own types (`BoaIsolate`, `Runtime`, ..), for what only it offers.
#[cfg(feature = "boa-wasi")]
pub use backend_boa as boa_wasi;
/// The V8 backend's own types (`V8Isolate`, ..), for what only V8 offers.
#[cfg(feature = "v8")]
pub use backend_v8 as v8;

#[cfg(not(any(feature = "boa-wasi", feature = "v8")))]
compile_error!("isovm needs at least one backend feature: `boa-wasi` or `v8`");

cfg_if::cfg_if! {
    if #[cfg(feature = "boa-wasi")] {
        /// The backend used when none is named, as a type for generic code: the Boa-WASI
        /// sandbox.
        pub type DefaultBackend = backend_boa::BoaWasi;
    } else {
        /// The backend used when none is named, as a type for generic code: V8.
        pub type DefaultBackend = backend_v8::V8;
    }
}

/// Code that runs on whichever backend is chosen at run time, monomorphised per backend
/// (see [`with_backend`]). For most uses the run-time-chosen [`Isolate`] is simpler.
pub trait BackendVisitor {
    /// What the code returns.
    type Output;
    /// Runs the code on backend `B`.
    fn visit<B: traits::Backend>(self) -> Self::Output;
}

/// Runs `visitor` on backend `kind`. A backend that is not compiled in is an error that
/// says how to get it, never a silent fallback.
pub fn with_backend<V: BackendVisitor>(kind: BackendKind, visitor: V) -> Result<V::Output> {
    match kind {
        #[cfg(feature = "boa-wasi")]
        BackendKind::BoaWasi => Ok(visitor.visit::<backend_boa::BoaWasi>()),
        #[cfg(feature = "v8")]
        BackendKind::V8 => Ok(visitor.visit::<backend_v8::V8>()),
        #[allow(unreachable_patterns)]
        other => Err(other.not_compiled()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Name;
    impl BackendVisitor for Name {
        type Output = &'static str;
        fn visit<B: traits::Backend>(self) -> &'static str {
            B::NAME
        }
    }

    #[test]
    fn with_backend_dispatches_or_explains() {
        for kind in BackendKind::ALL {
            match with_backend(kind, Name) {
                Ok(got) => assert_eq!(got, kind.name()),
                Err(e) => {
                    assert!(!kind.is_compiled());
                    assert!(e.to_string().contains("--features"), "{e}");
                }
            }
        }
    }

    #[test]
    fn backend_names_parse_back() {
        for kind in BackendKind::ALL {
            assert_eq!(kind.name().parse::<BackendKind>(), Ok(kind));
        }
        assert!(matches!(
            "quickjs".parse::<BackendKind>(),
            Err(Error::InvalidArgument(_))
        ));
        assert!(BackendKind::default().is_compiled());
        assert_eq!(BackendKind::compiled().next(), Some(BackendKind::default()));
    }
}

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
