//! Options of isolates and calls.

use std::sync::Arc;
use std::time::Duration;

/// How to create an isolate.
///
/// ```
/// use engine_api::IsolateOptions;
/// let opts = IsolateOptions { memory_limit_mb: 32, fuel: Some(10_000_000), ..Default::default() };
/// assert_eq!(opts.memory_limit_mb, 32);
/// ```
#[derive(Clone, Debug)]
pub struct IsolateOptions {
    /// Memory the isolate may use, in MiB (default 128, at least
    /// [`MIN_MEMORY_LIMIT_MB`](Self::MIN_MEMORY_LIMIT_MB): a smaller value is refused with
    /// [`Error::InvalidOption`](crate::Error::InvalidOption)).
    pub memory_limit_mb: u64,
    /// A CPU budget in fuel units, for the isolate's whole life (needs `Capability::Fuel`).
    pub fuel: Option<u64>,
    /// Start the isolate from this snapshot (needs `Capability::Snapshots`).
    pub snapshot: Option<Snapshot>,
    /// Run deterministically: the clock and `Math.random` are seeded from these values
    /// instead of the host's (needs `Capability::Deterministic`).
    pub deterministic: Option<DeterministicSeed>,
}

impl IsolateOptions {
    /// The smallest `memory_limit_mb` an isolate accepts.
    pub const MIN_MEMORY_LIMIT_MB: u64 = 8;

    /// `memory_limit_mb` in bytes (saturating), or [`Error::InvalidOption`](crate::Error::InvalidOption)
    /// when it is below [`MIN_MEMORY_LIMIT_MB`](Self::MIN_MEMORY_LIMIT_MB).
    ///
    /// ```
    /// use engine_api::{Error, IsolateOptions};
    /// let small = IsolateOptions { memory_limit_mb: 4, ..Default::default() };
    /// assert!(matches!(small.memory_limit_bytes(), Err(Error::InvalidOption { option: "memory_limit_mb", .. })));
    /// assert_eq!(IsolateOptions::default().memory_limit_bytes().ok(), Some(128 << 20));
    /// ```
    pub fn memory_limit_bytes(&self) -> crate::Result<usize> {
        if self.memory_limit_mb < Self::MIN_MEMORY_LIMIT_MB {
            return Err(crate::Error::invalid_option(
                "memory_limit_mb",
                format!(
                    "{} MiB is below the minimum of {} MiB",
                    self.memory_limit_mb,
                    Self::MIN_MEMORY_LIMIT_MB
                ),
            ));
        }
        let mb = usize::try_from(self.memory_limit_mb).unwrap_or(usize::MAX);
        Ok(mb.saturating_mul(1 << 20))
    }
}

impl Default for IsolateOptions {
    fn default() -> Self {
        IsolateOptions {
            memory_limit_mb: 128,
            fuel: None,
            snapshot: None,
            deterministic: None,
        }
    }
}

/// Seeds for deterministic execution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeterministicSeed {
    /// What `Date.now()` says when the isolate starts, in milliseconds since the epoch.
    pub start_time_ms: u64,
    /// Seed of the random number generator.
    pub random_seed: u64,
}

/// A start-up snapshot made by `Backend::create_snapshot`.
#[derive(Clone, Debug)]
pub struct Snapshot(pub Arc<[u8]>);

/// A script that goes into a snapshot.
#[derive(Clone, Debug, Default)]
pub struct SnapshotScript {
    /// The source.
    pub code: String,
    /// Where it came from.
    pub origin: ScriptOrigin,
}

/// Where source code came from, for errors and stacks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScriptOrigin {
    /// File name shown in stacks and errors (`<eval>` when `None`).
    pub filename: Option<String>,
    /// Added to line numbers.
    pub line_offset: i32,
    /// Added to column numbers on the first line.
    pub column_offset: i32,
}

impl ScriptOrigin {
    /// An origin with just a file name.
    pub fn file(name: impl Into<String>) -> Self {
        ScriptOrigin {
            filename: Some(name.into()),
            ..Default::default()
        }
    }
}

/// How a value leaves the isolate (or enters it, for arguments).
///
/// With nothing set, primitives transfer by value and anything else becomes `undefined`
/// for `eval` / `run` / `evaluate` results and a reference for `apply` / `get` results,
/// as in isolated-vm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TransferOptions {
    /// Deep copy the value (structured clone).
    pub copy: bool,
    /// Wrap a deep copy in an [`ExternalCopy`](crate::ExternalCopy).
    pub external_copy: bool,
    /// Return a reference to the value.
    pub reference: bool,
    /// If the value is a promise, wait for it and transfer what it resolves to.
    pub promise: bool,
}

impl TransferOptions {
    /// `{ copy: true }`.
    pub fn copy() -> Self {
        TransferOptions {
            copy: true,
            ..Default::default()
        }
    }
    /// `{ externalCopy: true }`.
    pub fn external_copy() -> Self {
        TransferOptions {
            external_copy: true,
            ..Default::default()
        }
    }
    /// `{ reference: true }`.
    pub fn reference() -> Self {
        TransferOptions {
            reference: true,
            ..Default::default()
        }
    }
    /// The same options, also awaiting a promise.
    pub fn with_promise(mut self) -> Self {
        self.promise = true;
        self
    }
}

/// Options of `Context::eval` and `eval_closure`.
#[derive(Clone, Debug, Default)]
pub struct EvalOptions {
    /// Stop the call after this long (`Error::Timeout`).
    pub timeout: Option<Duration>,
    /// Where the code came from.
    pub origin: ScriptOrigin,
    /// How the arguments of `eval_closure` enter.
    pub arguments: TransferOptions,
    /// How the result leaves.
    pub result: TransferOptions,
}

impl EvalOptions {
    /// Default options with the result deep-copied.
    pub fn copy() -> Self {
        EvalOptions {
            result: TransferOptions::copy(),
            ..Default::default()
        }
    }

    /// These options with a timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// Options of `Script::run` and `Module::evaluate`.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Stop the call after this long (`Error::Timeout`).
    pub timeout: Option<Duration>,
    /// How the result leaves.
    pub result: TransferOptions,
    /// Release the script after this run.
    pub release: bool,
}

/// Options of `Reference::apply`.
#[derive(Clone, Debug, Default)]
pub struct ApplyOptions {
    /// Stop the call after this long (`Error::Timeout`).
    pub timeout: Option<Duration>,
    /// How the arguments enter.
    pub arguments: TransferOptions,
    /// How the result leaves.
    pub result: TransferOptions,
}

impl ApplyOptions {
    /// Default options with the result deep-copied.
    pub fn copy() -> Self {
        ApplyOptions {
            result: TransferOptions::copy(),
            ..Default::default()
        }
    }
}

/// Options of `Isolate::compile_script` and `compile_module`.
#[derive(Clone, Debug, Default)]
pub struct ScriptOptions {
    /// Where the code came from.
    pub origin: ScriptOrigin,
    /// Code cache from an earlier `Script::cached_data` (needs `Capability::CodeCache`).
    pub cached_data: Option<Arc<[u8]>>,
    /// Produce a code cache for this script (needs `Capability::CodeCache`).
    pub produce_cached_data: bool,
}

/// Heap statistics of an isolate, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeapStatistics {
    /// Memory reserved for the heap.
    pub total_heap_size: usize,
    /// Memory in use by live objects (or by the guest's allocator, on Boa-WASI).
    pub used_heap_size: usize,
    /// The limit the isolate runs under.
    pub heap_size_limit: usize,
    /// Memory outside the heap that counts against the limit (array buffers, ..).
    pub externally_allocated_size: usize,
}
