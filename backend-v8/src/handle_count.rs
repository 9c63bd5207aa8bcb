//! The count of live handles into an isolate (`Isolate::reference_count`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::isolate_core::Core;

/// Counts one live (unreleased) handle into an isolate for `reference_count`.
pub(crate) struct HandleCount {
    core: Arc<Core>,
    live: AtomicBool,
}

impl HandleCount {
    pub fn new(core: &Arc<Core>) -> Self {
        core.handles.fetch_add(1, Ordering::Relaxed);
        HandleCount {
            core: core.clone(),
            live: AtomicBool::new(true),
        }
    }

    /// The handle was released: it no longer counts.
    pub fn release(&self) {
        if self.live.swap(false, Ordering::AcqRel) {
            self.core.handles.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Drop for HandleCount {
    fn drop(&mut self) {
        self.release();
    }
}
