//! The isovm V8 backend: the `engine-api` contract on the `v8` crate.
//!
//! Isolates are `v8::SharedIsolate`s: an idle isolate owns no thread. A blocking call
//! takes the isolate's turn in its [`TaskQueue`](engine_api::TaskQueue), locks it with a
//! `v8::Locker` and runs on the calling thread; async work runs on the shared pool.
//!
//! ```no_run
//! use backend_v8::V8;
//! use engine_api::{Context, Backend, EvalOptions, Isolate, IsolateOptions, Value};
//!
//! let isolate = <V8 as Backend>::Isolate::new(IsolateOptions::default()).unwrap();
//! let context = isolate.create_context().unwrap();
//! let v = context.eval("[1, 2].map(x => x * 2)", &EvalOptions::copy()).unwrap();
//! assert_eq!(v, Value::from(vec![2, 4]));
//! ```
#![deny(missing_docs)]

#[macro_use]
mod macros;

mod allocator;
mod call_deadline;
mod callbacks;
mod context;
mod convert;
mod copy_budget;
mod copy_in;
mod copy_out;
mod cpu;
mod errors;
mod freed_memory;
mod guard;
mod handle_count;
mod host_promise;
mod import_meta;
mod isolate;
mod isolate_core;
mod ivm;
mod ivm_options;
mod limits;
mod lock_stack;
mod module;
mod pending;
mod platform;
mod properties;
mod reference;
mod rejections;
mod script;
mod shared_memory;
mod snapshot;
mod source_limit;
mod tables;
mod thread_stack;
mod transfer_list;
mod watchdog;

use engine_api::{Backend, Capabilities, Error, Result, Snapshot, SnapshotScript};

pub use context::V8Context;
pub use isolate::V8Isolate;
pub use module::V8Module;
pub use reference::V8Reference;
pub use script::V8Script;

/// The V8 backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct V8;

impl Backend for V8 {
    type Isolate = V8Isolate;
    type Context = V8Context;
    type Script = V8Script;
    type Module = V8Module;
    type Reference = V8Reference;

    const NAME: &'static str = "v8";

    fn capabilities() -> Capabilities {
        Capabilities {
            fuel: false,
            hard_memory_cap: false,
            snapshots: true,
            code_cache: true,
            inspector: false,
            deterministic: false,
            shared_memory: true,
            catchable_stack_overflow: true,
        }
    }

    fn create_snapshot(scripts: &[SnapshotScript], warmup: Option<&str>) -> Result<Snapshot> {
        snapshot::create(scripts, warmup)
    }
}

/// The message of [`empty`]; only ever compared by [`is_empty`].
const EMPTY: &str = "V8 returned no value without a pending exception or termination";

/// The internal marker for "V8 returned an empty handle": an exception is pending (a
/// `TryCatch` caught it) or execution is terminating. It never leaves the backend as is:
/// the `TryCatch` boundaries turn it into the caught `Error::Js`, and `enter` into
/// `Timeout` / `MemoryLimit` when the isolate was terminated for a limit. What is left
/// (V8 failing for no reason the backend can name) is this `Error::Backend`.
pub(crate) fn empty() -> Error {
    backend_error(EMPTY)
}

/// Whether `e` is the [`empty`] marker.
pub(crate) fn is_empty(e: &Error) -> bool {
    matches!(e, Error::Backend { message, .. } if message == EMPTY)
}

/// The instant `timeout` from now; `None` when that is beyond what `Instant` can hold
/// (such a timeout never fires).
pub(crate) fn deadline(timeout: std::time::Duration) -> Option<std::time::Instant> {
    std::time::Instant::now().checked_add(timeout)
}

/// An error of this backend.
pub(crate) fn backend_error(message: impl Into<String>) -> Error {
    Error::backend("v8", message)
}
