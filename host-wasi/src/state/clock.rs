//! `Clock`: the guest's WASI clocks, real or deterministic.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The guest's clocks. Deterministic: starts at the seed and advances by a fixed step on
/// every read. Otherwise the host's clocks.
pub(crate) enum Clock {
    Real { start: Instant },
    Logical { start_ns: u64, elapsed_ns: u64 },
}

/// How far a deterministic clock advances per read.
const LOGICAL_STEP_NS: u64 = 1_000;

impl Clock {
    pub(super) fn new(start_ms: Option<u64>) -> Self {
        match start_ms {
            Some(ms) => Clock::Logical {
                start_ns: ms.saturating_mul(1_000_000),
                elapsed_ns: 0,
            },
            None => Clock::Real {
                start: Instant::now(),
            },
        }
    }

    /// Nanoseconds since the Unix epoch.
    pub(crate) fn realtime(&mut self) -> u64 {
        match self {
            Clock::Real { .. } => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64),
            Clock::Logical {
                start_ns,
                elapsed_ns,
            } => {
                *elapsed_ns += LOGICAL_STEP_NS;
                start_ns.saturating_add(*elapsed_ns)
            }
        }
    }

    /// Nanoseconds since an arbitrary start.
    pub(crate) fn monotonic(&mut self) -> u64 {
        match self {
            Clock::Real { start } => start.elapsed().as_nanos() as u64,
            Clock::Logical { elapsed_ns, .. } => {
                *elapsed_ns += LOGICAL_STEP_NS;
                *elapsed_ns
            }
        }
    }

    /// The resolution reported by `clock_res_get`.
    pub(crate) fn resolution(&self) -> u64 {
        match self {
            Clock::Real { .. } => 1_000,
            Clock::Logical { .. } => LOGICAL_STEP_NS,
        }
    }
}
