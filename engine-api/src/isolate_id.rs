//! The process-wide identity of an isolate.

use std::sync::atomic::{AtomicU64, Ordering};

/// Identifies one isolate in this process, whatever its backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IsolateId(u64);

impl IsolateId {
    /// A fresh id, never handed out before in this process.
    pub fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        IsolateId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The number inside.
    pub fn get(self) -> u64 {
        self.0
    }
}
