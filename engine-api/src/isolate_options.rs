//! How an isolate is created.

use crate::Snapshot;

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
