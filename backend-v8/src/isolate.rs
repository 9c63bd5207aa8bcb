//! Isolates: the `V8Isolate` handle over a `v8::SharedIsolate`, and how a call enters it
//! (in queue order, locked, under its deadline and limits).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use engine_api::{
    Capability, Error, HeapStatistics, IsolateId, IsolateOptions, Result, ScriptOptions, TaskQueue,
};

use crate::call_deadline::DeadlineScope;
use crate::isolate_core::Core;
use crate::limits::{self, Limits};
use crate::lock_stack::{ANCESTORS, LOCKED, OnTop, Reenter, StepAside, hop, reentry_error};
use crate::pending::PendingTable;
use crate::tables::Tables;
use crate::{V8Context, V8Module, V8Script, backend_error, watchdog};

pub(crate) struct IsolateInner {
    pub core: Arc<Core>,
    v8: Mutex<Option<Arc<OwnedIsolate>>>,
    /// A context for compiling scripts and modules (created on first use).
    pub utility_context: Mutex<Option<v8::Global<v8::Context>>>,
    /// The utility context's `Reflect.set`, taken before any code ran there.
    pub reflect_set: Mutex<Option<v8::Global<v8::Function>>>,
}

impl Drop for IsolateInner {
    fn drop(&mut self) {
        self.core.pending.fail_all(Error::Disposed);
        let tables = std::mem::take(&mut *self.core.tables());
        drop(tables);
        let keys = self
            .core
            .tag_keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(keys);
    }
}

/// The V8 isolate itself; the process gives the memory it freed back to the system once
/// it is gone.
pub(crate) struct OwnedIsolate(Option<v8::SharedIsolate>);

impl std::ops::Deref for OwnedIsolate {
    type Target = v8::SharedIsolate;

    fn deref(&self) -> &v8::SharedIsolate {
        self.0
            .as_ref()
            .expect("the isolate lives until its owner drops")
    }
}

impl Drop for OwnedIsolate {
    fn drop(&mut self) {
        drop(self.0.take());
        crate::freed_memory::release_freed_memory();
    }
}

/// A V8 isolate. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct V8Isolate {
    pub(crate) inner: Arc<IsolateInner>,
}

impl std::fmt::Debug for V8Isolate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V8Isolate")
            .field("id", &self.inner.core.id)
            .field("disposed", &self.is_disposed_now())
            .finish()
    }
}

impl V8Isolate {
    pub(crate) fn create(options: IsolateOptions) -> Result<Self> {
        if options.fuel.is_some() {
            return Err(Error::Unsupported(Capability::Fuel));
        }
        if options.deterministic.is_some() {
            return Err(Error::Unsupported(Capability::Deterministic));
        }
        crate::platform::init_v8();
        let limit = options.memory_limit_bytes()?;
        let limits = Limits::new(limit);
        let snapshot = options
            .snapshot
            .as_ref()
            .map(crate::snapshot::unwrap)
            .transpose()?;
        // Isolate creation enters the new isolate on this thread; do it where no other
        // isolate is entered.
        let build = move || -> Result<(v8::SharedIsolate, Arc<Core>)> {
            let mut params = v8::CreateParams::default()
                .heap_limits(0, limit)
                .array_buffer_allocator(crate::allocator::allocator(&limits));
            if let Some(blob) = snapshot {
                params = params.snapshot_blob(blob.into());
            }
            let creating = crate::platform::CREATION
                .read()
                .unwrap_or_else(|e| e.into_inner());
            let mut isolate = v8::Isolate::new(params);
            drop(creating);
            let handle = isolate.thread_safe_handle();
            let _ = limits.handle.set(handle.clone());
            isolate.set_microtasks_policy(v8::MicrotasksPolicy::Explicit);
            isolate.set_capture_stack_trace_for_uncaught_exceptions(true, 10);
            let data = Arc::as_ptr(&limits) as *mut std::ffi::c_void;
            isolate.add_near_heap_limit_callback(limits::near_heap_limit, data);
            isolate.set_modify_code_generation_from_strings_callback(
                crate::source_limit::code_from_strings,
            );
            let core = Arc::new(Core {
                id: IsolateId::next(),
                queue: TaskQueue::new(),
                outbox: TaskQueue::new(),
                handle,
                limits,
                disposed: AtomicBool::new(false),
                cpu: Default::default(),
                tasks_ran_ms: AtomicU64::new(0),
                handles: AtomicUsize::new(0),
                tables: Mutex::new(Tables::default()),
                pending: PendingTable::default(),
                tagged: AtomicBool::new(false),
                tag_keys: Mutex::new(None),
                owner: OnceLock::new(),
            });
            isolate.set_slot(core.clone());
            crate::rejections::install(&mut isolate);
            crate::import_meta::install(&mut isolate);
            // SAFETY: everything attached to the isolate (the `Arc<Core>` slot, the
            // allocator's `Arc<Limits>`, the callbacks' data) is `Send + Sync`.
            let shared = unsafe { isolate.try_into_shared() }
                .map_err(|e| backend_error(format!("could not share the isolate: {e}")))?;
            Ok((shared, core))
        };
        let (shared, core) = if LOCKED.with(|l| l.borrow().is_empty()) {
            build()?
        } else {
            hop(build)??
        };
        let inner = Arc::new(IsolateInner {
            core,
            v8: Mutex::new(Some(Arc::new(OwnedIsolate(Some(shared))))),
            utility_context: Mutex::new(None),
            reflect_set: Mutex::new(None),
        });
        let _ = inner.core.owner.set(Arc::downgrade(&inner));
        Ok(V8Isolate { inner })
    }

    pub(crate) fn core(&self) -> &Arc<Core> {
        &self.inner.core
    }

    fn is_disposed_now(&self) -> bool {
        self.inner.core.disposed.load(Ordering::Acquire)
    }

    /// Runs `f` with the isolate locked on this thread, in queue order, under `timeout`.
    ///
    /// Classifies terminations: over the memory limit (the isolate is disposed), past the
    /// timeout, or disposed meanwhile.
    pub(crate) fn enter<R: Send>(
        &self,
        timeout: Option<Duration>,
        f: impl FnOnce(&mut v8::Isolate) -> Result<R> + Send,
    ) -> Result<R> {
        if self.is_disposed_now() {
            return Err(Error::Disposed);
        }
        let id = self.inner.core.id;
        let top = LOCKED.with(|l| l.borrow().last().copied());
        if let Some((top_id, ptr)) = top {
            if top_id == id {
                return self.run_locked(None, ptr, timeout, f);
            }
            let below = LOCKED.with(|l| l.borrow().iter().find(|(i, _)| *i == id).map(|(_, p)| *p));
            if let Some(own) = below {
                // Locked further down this thread (A -> B -> A): this thread holds its lock
                // and queue turn; switch to it and back.
                let _aside = StepAside::new(ptr);
                let _entered = Reenter::new(own);
                return self.run_locked(None, own, timeout, f);
            }
        }
        if ANCESTORS.with(|a| a.borrow().contains(&id)) {
            return Err(reentry_error());
        }
        let outer = match top {
            // Another isolate is locked on this thread. With stack to spare, it steps aside
            // (exited, still locked) while this one is locked on top; else the call runs on
            // a helper thread with a fresh stack while this one waits.
            Some((_, ptr)) if !crate::thread_stack::stack_low_on(NESTED_STACK) => Some(ptr),
            Some(_) => return hop(|| self.enter(timeout, f))?,
            None => None,
        };
        // While the turn's holder is in a host callback, wait for it no longer than either
        // call's deadline (the callback may be waiting for this very thread).
        let deadline = timeout.and_then(crate::deadline);
        self.inner.core.queue.run_by(deadline, || {
            let shared = self
                .inner
                .v8
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .ok_or(Error::Disposed)?;
            if self.is_disposed_now() {
                return Err(Error::Disposed);
            }
            let stepped_aside = outer.map(StepAside::new);
            let mut locker = shared.lock();
            // SAFETY: the pointer is only used on this thread while `locker` is held
            // (re-entrant calls from callbacks, see `run_locked`).
            let ptr = unsafe { locker.as_raw_isolate_ptr() };
            let r = self.run_locked(Some(&mut locker), ptr, timeout, f);
            drop(locker);
            drop(stepped_aside);
            drop(shared);
            r
        })
    }

    fn run_locked<R>(
        &self,
        locker: Option<&mut v8::Locker<'_>>,
        ptr: v8::UnsafeRawIsolatePtr,
        timeout: Option<Duration>,
        f: impl FnOnce(&mut v8::Isolate) -> Result<R>,
    ) -> Result<R> {
        let core = &self.inner.core;
        // The queued task this call runs for (none for blocking calls): a cancel stops it.
        let cancel = engine_api::CancelToken::current();
        if cancel.as_ref().is_some_and(|t| t.is_cancelled()) {
            return Err(Error::Cancelled);
        }
        let outermost = locker.is_some();
        let clock = outermost.then(|| core.cpu.start());
        // Outermost calls are timed by their clock; nested ones for their caller's meter.
        let wall0 = (!outermost).then(Instant::now);
        let deadline = watchdog::arm(&core.handle, timeout, cancel.is_some());
        // Unregistered before the deadline is disarmed: the hook never reaches a later call.
        let hook = cancel.zip(deadline.as_ref()).map(|(token, deadline)| {
            let canceller = deadline.canceller();
            token.on_cancel(move || canceller.fire())
        });
        let r = {
            let _on_top = OnTop::push(core.id, ptr);
            let _deadline = DeadlineScope::new(timeout);
            // SAFETY: this thread holds the isolate's lock (it is on top of LOCKED);
            // `Isolate` is a plain pointer wrapper without a destructor.
            let mut isolate = unsafe { v8::Isolate::from_raw_isolate_ptr(ptr) };
            if outermost {
                crate::rejections::clear(&mut isolate);
            }
            let r = match locker {
                Some(locker) => f(locker),
                None => f(&mut isolate),
            };
            let due = clock.as_ref().is_some_and(|c| core.tasks_due(c.started()));
            if due && !isolate.is_execution_terminating() {
                crate::platform::run_posted_tasks(&isolate);
            }
            r
        };
        drop(hook);
        let (fired, cancelled) = match deadline.map(watchdog::Deadline::disarm) {
            Some(watchdog::Outcome::Fired(stack)) => (Some(stack), false),
            Some(watchdog::Outcome::Cancelled) => (None, true),
            _ => (None, false),
        };
        let timed_out = fired.is_some() || cancelled;
        let wall = match clock {
            Some(clock) => core.cpu.end(clock),
            None => {
                let wall = wall0.map_or(Duration::ZERO, |t| t.elapsed());
                crate::cpu::nested(wall);
                wall
            }
        };
        if outermost && wall >= LONG_CALL && !core.limits.is_exceeded() {
            // V8 lets one large young object past its heap limit without a GC to notice;
            // a call long enough to have made one is checked when it ends.
            // SAFETY: as below; the lock is still held here.
            let mut isolate = unsafe { v8::Isolate::from_raw_isolate_ptr(ptr) };
            if isolate.get_heap_statistics().used_heap_size() > core.limits.limit {
                core.limits.exceed();
            }
        }
        if core.limits.is_exceeded() {
            self.dispose_now();
            return Err(Error::MemoryLimit);
        }
        if self.is_disposed_now() {
            return Err(Error::Disposed);
        }
        // SAFETY: as above; the lock is still held here.
        let isolate = unsafe { v8::Isolate::from_raw_isolate_ptr(ptr) };
        let terminating = isolate.is_execution_terminating() || timed_out;
        if outermost && terminating {
            // V8 drops the microtask queue when a termination reaches its microtask loop:
            // run it once while still terminating, so nothing the stopped call queued runs
            // in (or stalls) the next one.
            let mut isolate = isolate;
            isolate.terminate_execution();
            isolate.perform_microtask_checkpoint();
            isolate.cancel_terminate_execution();
        } else if timed_out {
            // A nested call's own deadline (or cancel) ends that call only: the guest code
            // that called out goes on, as on Boa-WASI. An outer deadline that fired
            // terminates again at its watchdog's next tick.
            isolate.cancel_terminate_execution();
        }
        match (r, fired) {
            // A deadline that fired (or a cancel) ends the call with its error, whatever the
            // call made of the terminated execution (never a result converted after it).
            _ if cancelled => Err(Error::Cancelled),
            (_, Some(stack)) => Err(Error::Timeout { stack }),
            (Err(e), None) if crate::is_empty(&e) && terminating => Err(backend_error(
                "execution was terminated (the isolate was disposed or another call's limit hit)",
            )),
            (other, _) => other,
        }
    }

    /// Marks the isolate disposed and lets the last user drop the V8 isolate.
    pub(crate) fn dispose_now(&self) -> bool {
        let core = &self.inner.core;
        if core.disposed.swap(true, Ordering::AcqRel) {
            return false;
        }
        core.handle.terminate_execution();
        // Calls from other threads waiting for the turn end now.
        core.queue.close();
        let shared = self
            .inner
            .v8
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        core.pending.fail_all(Error::Disposed);
        let tables = std::mem::take(&mut *core.tables());
        drop(tables);
        let keys = core
            .tag_keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(keys);
        *self
            .inner
            .utility_context
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = None;
        *self
            .inner
            .reflect_set
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = None;
        // The isolate goes with the last clone: now, or when a running call ends.
        drop(shared);
        true
    }

    /// The utility context (for compiling), created on first use.
    pub(crate) fn utility_context<'s>(
        &self,
        scope: &mut v8::PinScope<'s, '_, ()>,
    ) -> v8::Local<'s, v8::Context> {
        let mut slot = self
            .inner
            .utility_context
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(g) = slot.as_ref() {
            return v8::Local::new(scope, g);
        }
        let ctx = v8::Context::new(scope, Default::default());
        *slot = Some(v8::Global::new(scope, ctx));
        let set = crate::properties::fresh_reflect_set(&mut v8::ContextScope::new(scope, ctx));
        *self
            .inner
            .reflect_set
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = set;
        ctx
    }

    /// The utility context's own `Reflect.set` (once that context exists).
    pub(crate) fn reflect_set<'s>(
        &self,
        scope: &mut v8::PinScope<'s, '_>,
    ) -> Option<v8::Local<'s, v8::Function>> {
        let slot = self
            .inner
            .reflect_set
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        slot.as_ref().map(|g| v8::Local::new(scope, g))
    }
}

/// Calls at least this long have their heap size checked when they end (the check walks
/// V8's spaces: about a microsecond).
const LONG_CALL: Duration = Duration::from_micros(100);

/// Stack a nested call on this thread needs free (V8 reserves about 1 MB per entry).
const NESTED_STACK: usize = 1536 * 1024;

impl engine_api::Isolate for V8Isolate {
    type Backend = crate::V8;

    fn new(options: IsolateOptions) -> Result<Self> {
        V8Isolate::create(options)
    }

    fn id(&self) -> IsolateId {
        self.inner.core.id
    }

    fn queue(&self) -> &TaskQueue {
        &self.inner.core.queue
    }

    fn create_context(&self) -> Result<V8Context> {
        V8Context::create(self)
    }

    fn compile_script(&self, code: &str, options: &ScriptOptions) -> Result<V8Script> {
        V8Script::compile(self, code, options)
    }

    fn compile_module(&self, code: &str, options: &ScriptOptions) -> Result<V8Module> {
        V8Module::compile(self, code, options)
    }

    fn dispose(&self) -> Result<()> {
        if self.dispose_now() {
            Ok(())
        } else {
            Err(Error::Disposed)
        }
    }

    fn is_disposed(&self) -> bool {
        self.is_disposed_now()
    }

    fn heap_statistics(&self) -> Result<HeapStatistics> {
        let external = &self.inner.core.limits.external;
        self.enter(None, |isolate| {
            let s = isolate.get_heap_statistics();
            Ok(HeapStatistics {
                total_heap_size: s.total_heap_size(),
                used_heap_size: s.used_heap_size(),
                heap_size_limit: s.heap_size_limit(),
                // V8 counts array buffers too (lazily); ours are exact.
                externally_allocated_size: s
                    .external_memory()
                    .max(external.load(Ordering::Relaxed)),
            })
        })
    }

    fn cpu_time(&self) -> Duration {
        self.inner.core.cpu.cpu_time()
    }

    fn wall_time(&self) -> Duration {
        self.inner.core.cpu.wall_time()
    }

    fn reference_count(&self) -> usize {
        self.inner.core.handles.load(Ordering::Relaxed)
    }
}
