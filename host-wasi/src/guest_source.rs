//! `GuestSource`: where a runtime's compiled guest came from.

/// Where a runtime's compiled guest came from ([`Runtime::prepare`](crate::Runtime::prepare)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GuestSource {
    /// Loaded from the on-disk cache (milliseconds).
    DiskCache,
    /// Compiled when the program was built and embedded in it
    /// ([`GuestModule::with_precompiled`](crate::GuestModule::with_precompiled)); inflated
    /// and loaded (~0.1 s), then written to the cache if
    /// [`Runtime::cache_status`](crate::Runtime::cache_status) is
    /// [`CacheStatus::Enabled`](crate::CacheStatus::Enabled), so later processes load it
    /// from there.
    Precompiled,
    /// Pre-initialised and compiled by this process (seconds), then written to the cache
    /// if [`Runtime::cache_status`](crate::Runtime::cache_status) is
    /// [`CacheStatus::Enabled`](crate::CacheStatus::Enabled).
    Compiled,
}
