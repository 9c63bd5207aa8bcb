//! [`BoaIsolate`].

use std::time::Duration;

use engine_api::{
    Error, HeapStatistics, IsolateId, IsolateOptions, Result, ScriptOptions, TaskQueue,
};
use host_wasi::{Runtime, WasiIsolate};

use super::{BoaContext, BoaModule, BoaScript, BoaWasi};

/// An isolate of the Boa-WASI backend: a Boa guest in its own wasmtime instance.
///
/// Every guest call runs through the isolate's [`TaskQueue`]. A timeout or a cancelled
/// task's call (`Error::Cancelled`) first stops the guest softly: its JS unwinds at the
/// next loop back-edge or call (past `catch` and `finally`), the call's queued microtasks
/// are dropped, a timeout names the JS stack where it stopped, and the isolate stays
/// usable, as on V8. A guest stuck in a native loop (a regex backtracking) past a short
/// grace is trapped instead. A trap of any kind (that, fuel exhausted, memory limit, a
/// guest fault) leaves the guest's state unknown, so the isolate is disposed:
/// [`is_disposed`](engine_api::Isolate::is_disposed) becomes true and later calls fail
/// with `Error::Disposed`. Other isolates carry on.
///
/// `memory_limit_mb` (at least [`IsolateOptions::MIN_MEMORY_LIMIT_MB`], else
/// `Error::InvalidOption`) counts memory beyond the guest's start-up image (Boa, its
/// first realm and the guest's stack); `heap_statistics().heap_size_limit` is the
/// resulting cap on linear memory. Reaching it disposes the isolate (`Error::MemoryLimit`).
///
/// `cpu_time` is the CPU time of the guest's own code, without host callbacks; it grows
/// while a long call runs (on every epoch tick).
#[derive(Clone, Debug)]
pub struct BoaIsolate(pub(crate) WasiIsolate);

impl BoaIsolate {
    /// A new isolate on `runtime`, which must run the Boa guest ([`crate::guest`]);
    /// [`engine_api::Isolate::new`] uses [`crate::runtime`].
    pub fn with_runtime(runtime: &Runtime, options: IsolateOptions) -> Result<Self> {
        if runtime.guest().sha256() != crate::guest_wasm_sha256() {
            return Err(Error::invalid_option(
                "runtime",
                format!(
                    "this runtime runs the guest `{}`, not this build's Boa guest",
                    runtime.guest().name()
                ),
            ));
        }
        WasiIsolate::with_runtime(runtime, options).map(BoaIsolate)
    }

    /// The runtime this isolate runs on.
    pub fn runtime(&self) -> &Runtime {
        self.0.runtime()
    }

    /// The engine-neutral isolate inside.
    pub fn as_wasi(&self) -> &WasiIsolate {
        &self.0
    }
}

impl engine_api::Isolate for BoaIsolate {
    type Backend = BoaWasi;

    fn new(options: IsolateOptions) -> Result<Self> {
        BoaIsolate::with_runtime(crate::runtime()?, options)
    }
    fn id(&self) -> IsolateId {
        self.0.id()
    }
    fn queue(&self) -> &TaskQueue {
        self.0.queue()
    }
    fn create_context(&self) -> Result<BoaContext> {
        self.0.create_context().map(BoaContext)
    }
    fn compile_script(&self, code: &str, options: &ScriptOptions) -> Result<BoaScript> {
        self.0.compile_script(code, options).map(BoaScript)
    }
    fn compile_module(&self, code: &str, options: &ScriptOptions) -> Result<BoaModule> {
        self.0.compile_module(code, options).map(BoaModule)
    }
    fn dispose(&self) -> Result<()> {
        self.0.dispose()
    }
    fn is_disposed(&self) -> bool {
        self.0.is_disposed()
    }
    fn heap_statistics(&self) -> Result<HeapStatistics> {
        self.0.heap_statistics()
    }
    fn cpu_time(&self) -> Duration {
        self.0.cpu_time()
    }
    fn wall_time(&self) -> Duration {
        self.0.wall_time()
    }
    fn reference_count(&self) -> usize {
        self.0.reference_count()
    }
    fn fuel_remaining(&self) -> Option<u64> {
        self.0.fuel_remaining()
    }
}
