//! `WasiIsolate`: one guest instance behind the isolate's task queue.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, TryLockError};
use std::time::{Duration, Instant};

use engine_api::abi::{Handle, Request, Response};
use engine_api::{
    Capability, Error, HeapStatistics, IsolateId, IsolateOptions, Result, ScriptOptions, TaskQueue,
    TransferOptions, Value,
};

use crate::guest::{Guest, GuestOptions};
use crate::lent_store::{self, Borrowed};
use crate::promises::{Outcome, Promises};
use crate::runtime::Runtime;
use crate::session::Session;
use crate::soft_stop;
use crate::state::HostState;
use crate::trap::backend;
use crate::{WasiContext, WasiModule, WasiScript};
use wasmtime::AsContextMut;

/// An isolate of the Boa-WASI backend: a Boa guest in its own wasmtime instance.
///
/// Every guest call runs through the isolate's [`TaskQueue`]. At a call's deadline
/// (`Error::Timeout`) or its task's cancel (`Error::Cancelled`) the guest is first asked to
/// stop softly: its JS unwinds at the next loop back-edge or call, past `catch` and
/// `finally`, the microtasks the call queued are dropped, the timeout carries the JS stack
/// where it stopped, and the isolate stays usable. A guest not back within a short grace
/// (~50 ms: a native loop such as a regex backtracking) is trapped. A trap of any kind
/// (that, fuel exhausted, memory limit, stack overflow, a guest fault) leaves the guest's
/// state unknown, so the isolate is disposed:
/// [`is_disposed`](engine_api::Isolate::is_disposed) becomes true and later calls fail with
/// `Error::Disposed`. Other isolates carry on.
///
/// `memory_limit_mb` (at least [`IsolateOptions::MIN_MEMORY_LIMIT_MB`], else
/// `Error::InvalidOption`) counts memory beyond the guest's start-up image (Boa, its
/// first realm and the guest's stack); `heap_statistics().heap_size_limit` is the
/// resulting cap on linear memory. Reaching it disposes the isolate (`Error::MemoryLimit`)
/// even when the guest could have recovered from the failed allocation.
///
/// A host callback installed in an isolate that captures a handle of that same isolate keeps
/// it alive until [`dispose`](engine_api::Isolate::dispose) (the isolate holds the callback).
///
/// `cpu_time` is the CPU time of the guest's own code: its thread's CPU time while guest
/// code runs, without host callbacks (nor other isolates they call); it grows while a long
/// call runs (on every epoch tick). Stretches of guest code shorter than one tick (~1 ms)
/// count their wall time.
#[derive(Clone)]
pub struct WasiIsolate {
    pub(crate) inner: Arc<IsolateInner>,
}

impl std::fmt::Debug for WasiIsolate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiIsolate")
            .field("id", &self.inner.id)
            .field("disposed", &self.inner.disposed.load(Ordering::Relaxed))
            .finish()
    }
}

pub(crate) struct IsolateInner {
    pub(crate) id: IsolateId,
    pub(crate) queue: TaskQueue,
    runtime: Runtime,
    guest: Mutex<Option<Guest>>,
    disposed: AtomicBool,
    /// Shared with the store: `dispose` from another thread stops a running call.
    interrupt: Arc<AtomicBool>,
    /// CPU time of the guest's own code, in nanoseconds (the store adds to it).
    cpu_ns: Arc<AtomicU64>,
    wall_ns: AtomicU64,
    pub(crate) live_handles: AtomicUsize,
    fuel_left: Option<AtomicU64>,
    memory_limit: usize,
    /// Guest handles dropped on the host, released with the next call.
    pub(crate) pending_release: Mutex<Vec<Handle>>,
    pub(crate) promises: Promises,
}

pub(crate) fn unexpected(r: &Response) -> Error {
    backend(format!("unexpected guest response {r:?}"))
}

/// Calls nested in one outermost call (host callback -> isolate -> host callback -> ..):
/// deeper ones fail with `Error::ReentrancyRefused`. Each level takes native stack (host
/// frames and the guest's wasm frames), within the runtime's `max_wasm_stack`.
pub const MAX_NESTED_CALLS: u32 = 32;

fn too_deep() -> Error {
    Error::ReentrancyRefused {
        reason: "host callbacks calling back into their isolate nested deeper than 32 calls",
    }
}

fn busy() -> Error {
    Error::ReentrancyRefused {
        reason: "the isolate's guest is busy in a call that made no host call since",
    }
}

/// The earlier of two deadlines.
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl WasiIsolate {
    /// A new isolate on `runtime`, running the runtime's guest.
    pub fn with_runtime(runtime: &Runtime, options: IsolateOptions) -> Result<Self> {
        if options.snapshot.is_some() {
            return Err(Error::Unsupported(Capability::Snapshots));
        }
        let prepared = runtime.prepared(options.fuel.is_some())?;
        let memory_limit = options
            .memory_limit_bytes()?
            .saturating_add(prepared.base_memory)
            .min(runtime.max_memory());
        let interrupt = Arc::new(AtomicBool::new(false));
        let inner = Arc::new(IsolateInner {
            id: IsolateId::next(),
            queue: TaskQueue::new(),
            runtime: runtime.clone(),
            guest: Mutex::new(None),
            disposed: AtomicBool::new(false),
            interrupt: interrupt.clone(),
            cpu_ns: Arc::default(),
            wall_ns: AtomicU64::new(0),
            live_handles: AtomicUsize::new(0),
            fuel_left: options.fuel.map(AtomicU64::new),
            memory_limit,
            pending_release: Mutex::new(Vec::new()),
            promises: Promises::default(),
        });
        let guest = Guest::new(
            &prepared,
            GuestOptions {
                memory_limit,
                fuel: options.fuel,
                seed: options.deterministic,
                isolate: Arc::downgrade(&inner),
                interrupt,
                cpu: inner.cpu_ns.clone(),
            },
        )?;
        *inner.guest.lock().unwrap_or_else(|e| e.into_inner()) = Some(guest);
        Ok(WasiIsolate { inner })
    }

    /// Runs `f` with the guest, in this isolate's turn, under `timeout`; from a host
    /// callback of this isolate's running call (on its thread), nested in that call.
    pub(crate) fn with_guest<R>(
        &self,
        timeout: Option<Duration>,
        f: impl FnOnce(&mut Session<'_>) -> Result<R>,
    ) -> Result<R> {
        let inner = &*self.inner;
        let _counted = inner.promises.call_started();
        match lent_store::borrow(inner) {
            Borrowed::NotLent => {}
            Borrowed::Busy => return Err(busy()),
            Borrowed::Lent(mut lent) => return self.nested(lent.caller(), timeout, f),
        }
        // While the turn is lent to a host callback on another thread, which may be waiting
        // for this very call, wait no longer than either call's deadline (`run_by`).
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        inner.queue.run_by(deadline, || {
            if inner.disposed.load(Ordering::Acquire) {
                return Err(Error::Disposed);
            }
            let mut slot = match inner.guest.try_lock() {
                Ok(g) => g,
                Err(TryLockError::Poisoned(p)) => p.into_inner(),
                // Only the holder of the turn locks the store, and it lends it while in a
                // host callback: this is `dispose` racing us, or a call from a thread the
                // turn's holder does not run on.
                Err(TryLockError::WouldBlock) if inner.disposed.load(Ordering::Acquire) => {
                    return Err(Error::Disposed);
                }
                Err(TryLockError::WouldBlock) => return Err(busy()),
            };
            let Some(guest) = slot.as_mut() else {
                return Err(Error::Disposed);
            };
            // The queued task this call runs for (none for blocking calls): its cancel sets
            // the flag the next epoch tick checks. The hook is gone before the turn passes,
            // so it cannot stop the next call.
            let cancel = engine_api::CancelToken::current();
            if cancel.as_ref().is_some_and(|t| t.is_cancelled()) {
                return Err(Error::Cancelled);
            }
            let flag = cancel.as_ref().map(|_| Arc::new(AtomicBool::new(false)));
            let _hook = cancel
                .zip(flag.clone())
                .map(|(token, flag)| token.on_cancel(move || flag.store(true, Ordering::Relaxed)));
            let _call = inner.runtime.enter_call();
            let started = Instant::now();
            guest.begin(timeout.and_then(|t| started.checked_add(t)), flag);
            let Guest {
                store,
                exports,
                buf,
            } = &mut *guest;
            let mut session = Session {
                isolate: self,
                store: store.as_context_mut(),
                exports,
                buf,
                fatal: false,
            };
            let mut result = session.flush_releases().and_then(|()| f(&mut session));
            let mut fatal = session.fatal;
            // A call stopped softly ends with its stop's error, whatever it returned, and
            // the guest runs normally again (a trap ended it: it is disposed below).
            if let Some(stop) = guest.store.data_mut().soft_stop.take() {
                result = Err(stop.error(&result));
                if !fatal && let Err(e) = soft_stop::resume(guest.store.as_context_mut()) {
                    (result, fatal) = (Err(e), true);
                }
            }
            if guest.store.data().limits.exhausted {
                // The guest may have recovered (Boa turns some failed allocations into a
                // RangeError), but the isolate reached its cap: it is disposed.
                (result, fatal) = (Err(Error::MemoryLimit), true);
            }
            inner
                .wall_ns
                .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
            if let Some(left) = &inner.fuel_left {
                left.store(guest.fuel().unwrap_or(0), Ordering::Relaxed);
            }
            if fatal || inner.disposed.load(Ordering::Acquire) {
                let guest = slot.take();
                drop(slot);
                self.mark_disposed();
                drop(guest);
            }
            result
        })
    }

    /// A call made by a host callback of this isolate's running call, through the store
    /// that call's `host_call` lent: it runs within the outer call's deadline, and a trap
    /// ends the outer call too (the guest's state is unknown).
    fn nested<R>(
        &self,
        caller: &mut wasmtime::Caller<'_, HostState>,
        timeout: Option<Duration>,
        f: impl FnOnce(&mut Session<'_>) -> Result<R>,
    ) -> Result<R> {
        if self.inner.disposed.load(Ordering::Acquire) || caller.data().fatal.is_some() {
            return Err(Error::Disposed);
        }
        let Some(exports) = caller.data().exports.clone() else {
            return Err(backend("a nested call before the guest was started"));
        };
        let state = caller.data_mut();
        if state.nesting >= MAX_NESTED_CALLS {
            return Err(too_deep());
        }
        state.nesting += 1;
        let outer_stop = state.soft_stop.take();
        let outer_deadline = state.deadline;
        state.deadline = earliest(
            outer_deadline,
            timeout.and_then(|t| Instant::now().checked_add(t)),
        );
        let mut buf = Vec::new();
        let mut session = Session {
            isolate: self,
            store: caller.as_context_mut(),
            exports: &exports,
            buf: &mut buf,
            fatal: false,
        };
        let mut result = session.flush_releases().and_then(|()| f(&mut session));
        let mut fatal = session.fatal;
        let state = caller.data_mut();
        state.nesting -= 1;
        state.deadline = outer_deadline;
        // A nested call stopped softly ends with its stop's error; the guest stays
        // interrupted if the outer call is due to stop too (or was stopped already), else
        // it runs normally again.
        let inner_stop = state.soft_stop.take();
        state.soft_stop = outer_stop;
        if let Some(stop) = inner_stop {
            result = Err(stop.error(&result));
            if !fatal && outer_stop.is_none() {
                match soft_stop::carry_over(state, stop) {
                    Some(carried) => state.soft_stop = Some(carried),
                    None => {
                        if let Err(e) = soft_stop::resume(caller.as_context_mut()) {
                            (result, fatal) = (Err(e), true);
                        }
                    }
                }
            }
        }
        let state = caller.data_mut();
        if state.limits.exhausted {
            (result, fatal) = (Err(Error::MemoryLimit), true);
        }
        if fatal {
            let error = result.as_ref().err().cloned().unwrap_or(Error::Disposed);
            state.fatal.get_or_insert(error);
        }
        result
    }

    /// A call whose answer is a value: runs `req` in the turn, then (for a pending promise)
    /// waits outside it.
    pub(crate) fn call_value(
        &self,
        timeout: Option<Duration>,
        transfer: &TransferOptions,
        req: impl FnOnce(&mut Session<'_>) -> Result<Request>,
    ) -> Result<Value> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let outcome = self.with_guest(timeout, |s| {
            let req = req(s)?;
            s.value(&req, transfer)
        })?;
        match outcome {
            Outcome::Ready(v) => Ok(v),
            Outcome::Pending(watch) => {
                // Waiting for the promise counts as wall time of the isolate.
                let started = Instant::now();
                let result = self.wait_watch(watch, deadline);
                self.inner
                    .wall_ns
                    .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
                result
            }
        }
    }

    fn mark_disposed(&self) {
        self.inner.disposed.store(true, Ordering::Release);
        self.inner.interrupt.store(true, Ordering::Release);
        self.inner.promises.wake_all();
        // Calls from other threads waiting for the turn end now.
        self.inner.queue.close();
    }

    /// The runtime this isolate runs on.
    pub fn runtime(&self) -> &Runtime {
        &self.inner.runtime
    }
}

impl WasiIsolate {
    /// As [`engine_api::Isolate::id`].
    pub fn id(&self) -> IsolateId {
        self.inner.id
    }

    /// As [`engine_api::Isolate::queue`].
    pub fn queue(&self) -> &TaskQueue {
        &self.inner.queue
    }

    /// As [`engine_api::Isolate::create_context`].
    pub fn create_context(&self) -> Result<WasiContext> {
        let handle = self.with_guest(None, |s| s.handle(&Request::CreateContext))?;
        Ok(WasiContext::new(self, handle))
    }

    /// As [`engine_api::Isolate::compile_script`].
    pub fn compile_script(&self, code: &str, options: &ScriptOptions) -> Result<WasiScript> {
        options.check_for_script()?;
        if options.cached_data.is_some() || options.produce_cached_data {
            return Err(Error::Unsupported(Capability::CodeCache));
        }
        let req = Request::CompileScript {
            code: code.to_owned(),
            origin: crate::convert::origin(&options.origin),
        };
        let handle = self.with_guest(None, |s| s.handle(&req))?;
        Ok(WasiScript::new(self, handle))
    }

    /// As [`engine_api::Isolate::compile_module`].
    pub fn compile_module(&self, code: &str, options: &ScriptOptions) -> Result<WasiModule> {
        options.check_for_module()?;
        if options.cached_data.is_some() || options.produce_cached_data {
            return Err(Error::Unsupported(Capability::CodeCache));
        }
        let (handle, specifiers) = self.with_guest(None, |s| {
            let meta = match &options.meta {
                Some(m) => Some(s.enter(m.clone(), &engine_api::TransferOptions::copy())?),
                None => None,
            };
            let req = Request::CompileModule {
                code: code.to_owned(),
                origin: crate::convert::origin(&options.origin),
                meta,
            };
            match s.request(&req)? {
                Response::Module { handle, specifiers } => Ok((handle, specifiers)),
                other => Err(unexpected(&other)),
            }
        })?;
        Ok(WasiModule::new(self, handle, specifiers))
    }

    /// As [`engine_api::Isolate::dispose`].
    pub fn dispose(&self) -> Result<()> {
        if self.inner.disposed.swap(true, Ordering::AcqRel) {
            return Err(Error::Disposed);
        }
        self.mark_disposed();
        // Drop the instance now unless a call holds it; that call drops it when it ends
        // (the interrupt stops it at the next epoch tick).
        if let Ok(mut slot) = self.inner.guest.try_lock() {
            let guest = slot.take();
            drop(slot);
            drop(guest);
        }
        Ok(())
    }

    /// As [`engine_api::Isolate::is_disposed`].
    pub fn is_disposed(&self) -> bool {
        self.inner.disposed.load(Ordering::Acquire)
    }

    /// As [`engine_api::Isolate::heap_statistics`].
    pub fn heap_statistics(&self) -> Result<HeapStatistics> {
        let limit = self.inner.memory_limit;
        self.with_guest(None, |s| {
            let used = match s.request(&Request::HeapStatistics)? {
                Response::Heap { used } => used as usize,
                other => return Err(unexpected(&other)),
            };
            Ok(HeapStatistics {
                total_heap_size: s.exports.memory.data_size(&s.store),
                used_heap_size: used,
                heap_size_limit: limit,
                externally_allocated_size: s.store.data().table.external_bytes(),
            })
        })
    }

    /// As [`engine_api::Isolate::cpu_time`].
    pub fn cpu_time(&self) -> Duration {
        Duration::from_nanos(self.inner.cpu_ns.load(Ordering::Relaxed))
    }

    /// As [`engine_api::Isolate::wall_time`].
    pub fn wall_time(&self) -> Duration {
        Duration::from_nanos(self.inner.wall_ns.load(Ordering::Relaxed))
    }

    /// As [`engine_api::Isolate::reference_count`].
    pub fn reference_count(&self) -> usize {
        self.inner.live_handles.load(Ordering::Relaxed)
    }

    /// As [`engine_api::Isolate::fuel_remaining`].
    pub fn fuel_remaining(&self) -> Option<u64> {
        self.inner
            .fuel_left
            .as_ref()
            .map(|f| f.load(Ordering::Relaxed))
    }
}
