//! What one copy between an isolate and the host may still take: memory, time, and the
//! isolate's state.

use std::sync::Arc;
use std::time::Instant;

use engine_api::{Error, Result};

use crate::isolate_core::Core;

/// What one copy between an isolate and the host may still take. A copy runs Rust loops
/// that V8's termination cannot stop, so it checks the call's deadline, the isolate's
/// disposal and its memory limit itself, and measures what it allocates before it does.
pub(crate) struct Budget {
    core: Arc<Core>,
    /// Host bytes this copy may still allocate (the isolate's memory limit).
    left: usize,
    deadline: Option<Instant>,
    steps: u32,
}

impl Budget {
    /// Steps between two checks of the clock and the isolate's state.
    const CHECK_EVERY: u32 = 256;

    pub(crate) fn new(scope: &v8::Isolate) -> Self {
        let core = Core::of(scope);
        Budget {
            left: core.limits.limit,
            deadline: crate::call_deadline::call_deadline(),
            core,
            steps: 0,
        }
    }

    /// Takes `bytes` of the budget before they are allocated. Going over the isolate's
    /// memory limit ends the call with `MemoryLimit` (the isolate is disposed).
    pub(crate) fn charge(&mut self, bytes: usize) -> Result<()> {
        match self.left.checked_sub(bytes) {
            Some(left) => self.left = left,
            None => {
                self.left = 0;
                self.core.limits.exceed();
                return Err(Error::MemoryLimit);
            }
        }
        self.step()
    }

    /// One unit of work: every few, the deadline and the isolate's state are checked.
    pub(crate) fn step(&mut self) -> Result<()> {
        self.steps = self.steps.wrapping_add(1);
        if !self.steps.is_multiple_of(Self::CHECK_EVERY) {
            return Ok(());
        }
        if self.core.limits.is_exceeded() {
            return Err(Error::MemoryLimit);
        }
        if self.core.is_disposed() {
            return Err(Error::Disposed);
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Error::timeout());
        }
        Ok(())
    }
}
