//! The deadline of the call running on this thread, for the backend's own work inside a
//! call (copies) where V8's termination cannot reach.

use std::time::{Duration, Instant};

thread_local! {
    /// The deadline of the innermost call running on this thread, for the work the
    /// backend does itself inside a call (copies) where V8's termination cannot reach.
    static DEADLINE: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

/// The deadline of the call running on this thread (the earliest of nested calls).
pub(crate) fn call_deadline() -> Option<Instant> {
    DEADLINE.with(|d| d.get())
}

/// Narrows this thread's call deadline for as long as it lives.
pub(crate) struct DeadlineScope(Option<Instant>);

impl DeadlineScope {
    pub fn new(timeout: Option<Duration>) -> Self {
        let outer = call_deadline();
        let mine = timeout.and_then(crate::deadline);
        let inner = match (outer, mine) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        DEADLINE.with(|d| d.set(inner));
        DeadlineScope(outer)
    }
}

impl Drop for DeadlineScope {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(self.0));
    }
}
