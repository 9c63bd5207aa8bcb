//! What each wasmtime `Store` carries ([`HostState`]): limits, the WASI clock and
//! randomness, the table of host objects the guest holds ids of, and the per-call deadline.

mod clock;
mod host_state;
mod host_table;
mod memory_limiter;
mod random;
mod split_mix64;

pub(crate) use clock::Clock;
pub(crate) use host_state::HostState;
pub(crate) use host_table::{HostObject, HostTable};
pub(crate) use memory_limiter::MemoryLimiter;
pub(crate) use random::Random;
pub(crate) use split_mix64::SplitMix64;
