//! The process-wide V8 platform: set up once, kept alive by an idle anchor isolate, and
//! the tasks it posts for each isolate.

use std::sync::{OnceLock, RwLock};

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
