//! The state of an isolate shared by its handles and V8's callbacks.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Instant;

use engine_api::{Error, IsolateId, Result, TaskQueue};

use crate::V8Isolate;
use crate::isolate::IsolateInner;
use crate::limits::Limits;
use crate::pending::PendingTable;
use crate::tables::Tables;

/// State shared by the isolate handle and V8's callbacks (it lives in an isolate slot).
pub(crate) struct Core {
    pub id: IsolateId,
    pub queue: TaskQueue,
    /// Orders the guest's outgoing `applyIgnored` / `apply` calls and ignored callbacks.
    pub outbox: TaskQueue,
    pub handle: v8::IsolateHandle,
    pub limits: Arc<Limits>,
    pub disposed: AtomicBool,
    pub cpu: crate::cpu::CpuMeter,
    /// When the tasks V8 posted for this isolate last ran (ms on the backend's clock).
    pub tasks_ran_ms: AtomicU64,
    pub handles: AtomicUsize,
    pub tables: Mutex<Tables>,
    pub pending: PendingTable,
    /// Whether any guest object was tagged as an ivm handle (skips lookups until then).
    pub tagged: AtomicBool,
    /// The private keys of those tags.
    pub tag_keys: Mutex<Option<(v8::Global<v8::Private>, v8::Global<v8::Private>)>>,
    pub owner: OnceLock<Weak<IsolateInner>>,
}

impl Core {
    /// The core of the isolate `scope` belongs to.
    pub fn of(scope: &v8::Isolate) -> Arc<Core> {
        scope
            .get_slot::<Arc<Core>>()
            .cloned()
            .expect("every isovm isolate has its core in a slot")
    }

    /// A handle to the isolate, while it lives.
    pub fn isolate(&self) -> Result<V8Isolate> {
        self.owner
            .get()
            .and_then(Weak::upgrade)
            .map(|inner| V8Isolate { inner })
            .ok_or(Error::Disposed)
    }

    pub fn is_disposed(&self) -> bool {
        self.disposed.load(Ordering::Acquire)
    }

    /// Whether the tasks V8 posted for this isolate are due to run (every few
    /// milliseconds at most: looking costs two platform locks).
    pub fn tasks_due(&self, at: Instant) -> bool {
        let now = crate::cpu::ms_at(at);
        let last = self.tasks_ran_ms.load(Ordering::Relaxed);
        now.saturating_sub(last) >= TASKS_EVERY_MS
            && self
                .tasks_ran_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// Runs `f`, host code called from inside a call of this isolate (a host callback),
    /// with the isolate's turn lent: a call from another thread waits for it no longer
    /// than either call's deadline (see [`TaskQueue::run_by`]).
    pub fn lend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.queue.lend(crate::call_deadline::call_deadline(), f)
    }

    pub fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Milliseconds between two runs of an isolate's posted tasks at call ends.
const TASKS_EVERY_MS: u64 = 5;
