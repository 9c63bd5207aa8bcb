//! The guest handle behind every context, script, module and reference.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use engine_api::abi::Handle;
use engine_api::{Error, Result};

use crate::WasiIsolate;

/// A guest handle owned by the host. Releasing it (or dropping the last clone of what
/// holds it) queues a `Request::Release`, sent with the isolate's next call.
pub(crate) struct HandleCell {
    pub(crate) isolate: WasiIsolate,
    handle: Handle,
    released: AtomicBool,
    /// What it is, for `Error::Released`.
    what: &'static str,
}

impl HandleCell {
    pub(crate) fn new(isolate: &WasiIsolate, handle: Handle, what: &'static str) -> Arc<Self> {
        isolate.inner.live_handles.fetch_add(1, Ordering::Relaxed);
        Arc::new(HandleCell {
            isolate: isolate.clone(),
            handle,
            released: AtomicBool::new(false),
            what,
        })
    }

    /// The handle, if still usable.
    pub(crate) fn handle(&self) -> Result<Handle> {
        if self.released.load(Ordering::Acquire) {
            return Err(Error::Released(self.what));
        }
        if self.isolate.is_disposed() {
            return Err(Error::Disposed);
        }
        Ok(self.handle)
    }

    /// The handle, checked to belong to `isolate`.
    pub(crate) fn handle_in(&self, isolate: &WasiIsolate) -> Result<Handle> {
        if !Arc::ptr_eq(&self.isolate.inner, &isolate.inner) {
            return Err(Error::WrongIsolate);
        }
        self.handle()
    }

    pub(crate) fn release(&self) {
        if self.released.swap(true, Ordering::AcqRel) {
            return;
        }
        let inner = &self.isolate.inner;
        inner.live_handles.fetch_sub(1, Ordering::Relaxed);
        if !self.isolate.is_disposed() {
            inner
                .pending_release
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(self.handle);
        }
    }

    pub(crate) fn is_released(&self) -> bool {
        self.released.load(Ordering::Acquire) || self.isolate.is_disposed()
    }
}

impl Drop for HandleCell {
    fn drop(&mut self) {
        self.release();
    }
}
