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

mod callbacks;
mod context;
mod convert;
mod cpu;
mod errors;
mod guard;
mod isolate;
mod ivm;
mod limits;
mod module;
mod pending;
mod reference;
mod script;
mod snapshot;
mod watchdog;

use std::sync::{OnceLock, RwLock};

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
        }
    }

    fn create_snapshot(scripts: &[SnapshotScript], warmup: Option<&str>) -> Result<Snapshot> {
        snapshot::create(scripts, warmup)
    }
}

/// Isolate creation takes this shared; snapshot creation takes it exclusively (a snapshot
/// creator must not run beside another one or beside isolate set-up).
pub(crate) static CREATION: RwLock<()> = RwLock::new(());

/// Initialises the process-wide V8 platform once.
pub(crate) fn init_v8() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        // Unprotected: isolates are created and locked on any thread, including pool
        // threads that may predate this call.
        // Snapshots made here must not extend V8's read-only space: every isolate of the
        // process shares one read-only heap, set up from whichever blob came first.
        v8::V8::set_flags_from_string("--no-extensible-ro-snapshot");
        let platform = v8::new_unprotected_default_platform(0, false).make_shared();
        let _ = PLATFORM.set(platform.clone());
        v8::V8::initialize_platform(platform);
        v8::V8::initialize();
        // V8 sets up the read-only heap and the compiler threads that all isolates share
        // when the first isolate starts, and tears them down with the last one. An idle
        // anchor isolate that lives as long as the process keeps them, so a program that
        // creates one isolate at a time does not pay for them on every creation (about
        // 300 us of the 750 us a bare V8 isolate takes here). It costs about 1 MB.
        // `Isolate::new` enters the isolate: do it on a thread where nothing is entered.
        let anchor = std::thread::Builder::new()
            .name("isovm-v8-anchor".into())
            .spawn(|| {
                let isolate = v8::Isolate::new(v8::CreateParams::default().heap_limits(0, 8 << 20));
                // SAFETY: nothing is attached to the isolate; it never runs code.
                unsafe { isolate.try_into_shared() }.ok()
            })
            .ok()
            .and_then(|t| t.join().ok())
            .flatten();
        let _ = ANCHOR.set(anchor);
    });
}

/// The process-wide platform, whose per-isolate task queues the backend runs.
static PLATFORM: OnceLock<v8::SharedRef<v8::Platform>> = OnceLock::new();

/// Tasks V8 posted for an isolate at most per call end (GC follow-ups, the cleanup of
/// `FinalizationRegistry`s, such as the one that gives back resizable buffers' bytes).
const TASKS_PER_CALL: usize = 16;

/// Runs the tasks V8 posted for `isolate` (on the thread that holds it, inside a call).
pub(crate) fn run_posted_tasks(isolate: &v8::Isolate) {
    let Some(platform) = PLATFORM.get() else {
        return;
    };
    for _ in 0..TASKS_PER_CALL {
        if !v8::Platform::pump_message_loop(platform, isolate, false) {
            break;
        }
    }
}

/// The isolate that keeps V8's shared per-process state alive (see [`init_v8`]).
static ANCHOR: OnceLock<Option<v8::SharedIsolate>> = OnceLock::new();

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
