//! What a backend can do.

use std::fmt;

/// One optional feature of a backend. Asking for a missing one gives
/// [`Error::Unsupported`](crate::Error::Unsupported).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Capability {
    /// Deterministic CPU budgets (`IsolateOptions::fuel`).
    Fuel,
    /// A memory cap the guest cannot exceed by any means.
    HardMemoryCap,
    /// Start-up snapshots (`create_snapshot`, `IsolateOptions::snapshot`).
    Snapshots,
    /// Code cache (`produce_cached_data`, `cached_data`).
    CodeCache,
    /// The inspector protocol.
    Inspector,
    /// Execution that depends only on inputs (seeded clock and randomness).
    Deterministic,
    /// SharedArrayBuffer memory shared across isolates.
    SharedMemory,
    /// Recursion past the backend's limit throws a `RangeError` that guest code can catch
    /// (V8). Without it (Boa 0.22 raises its recursion limit as an uncatchable engine
    /// error) the overflow unwinds past every `try` and ends the call with
    /// [`Error::StackOverflow`](crate::Error::StackOverflow); the isolate stays usable. A
    /// behaviour, not something to ask for: nothing answers `Unsupported` for it.
    CatchableStackOverflow,
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Capability::Fuel => "fuel",
            Capability::HardMemoryCap => "hard memory cap",
            Capability::Snapshots => "snapshots",
            Capability::CodeCache => "code cache",
            Capability::Inspector => "inspector",
            Capability::Deterministic => "deterministic execution",
            Capability::SharedMemory => "shared memory",
            Capability::CatchableStackOverflow => "catchable stack overflow",
        };
        f.write_str(s)
    }
}

/// The set of capabilities a backend has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// See [`Capability::Fuel`].
    pub fuel: bool,
    /// See [`Capability::HardMemoryCap`].
    pub hard_memory_cap: bool,
    /// See [`Capability::Snapshots`].
    pub snapshots: bool,
    /// See [`Capability::CodeCache`].
    pub code_cache: bool,
    /// See [`Capability::Inspector`].
    pub inspector: bool,
    /// See [`Capability::Deterministic`].
    pub deterministic: bool,
    /// See [`Capability::SharedMemory`].
    pub shared_memory: bool,
    /// See [`Capability::CatchableStackOverflow`].
    pub catchable_stack_overflow: bool,
}

impl Capabilities {
    /// Whether `cap` is in the set.
    pub fn has(&self, cap: Capability) -> bool {
        match cap {
            Capability::Fuel => self.fuel,
            Capability::HardMemoryCap => self.hard_memory_cap,
            Capability::Snapshots => self.snapshots,
            Capability::CodeCache => self.code_cache,
            Capability::Inspector => self.inspector,
            Capability::Deterministic => self.deterministic,
            Capability::SharedMemory => self.shared_memory,
            Capability::CatchableStackOverflow => self.catchable_stack_overflow,
        }
    }

    /// `Ok(())` when `cap` is in the set, else `Err(Error::Unsupported(cap))`.
    pub fn require(&self, cap: Capability) -> crate::Result<()> {
        if self.has(cap) {
            Ok(())
        } else {
            Err(crate::Error::Unsupported(cap))
        }
    }
}
