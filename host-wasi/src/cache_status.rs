//! `CacheStatus`: whether and where compiled guests are cached.

use std::path::PathBuf;

/// Where a [`Runtime`](crate::Runtime) keeps its compiled guest between processes.
///
/// ```no_run
/// # let runtime: host_wasi::Runtime = unimplemented!();
/// if let host_wasi::CacheStatus::Unavailable(why) = runtime.cache_status() {
///     eprintln!("every run compiles the guest again: {why}");
/// }
/// # Ok::<(), engine_api::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheStatus {
    /// Compiled guests are read from and written to this directory.
    Enabled(PathBuf),
    /// Caching is off: [`RuntimeConfig::disk_cache`](crate::RuntimeConfig::disk_cache) is
    /// false, or `ISOVM_CACHE_DIR` is set to the empty string.
    Disabled,
    /// No directory could be written, so every process compiles the guest again; says
    /// which directories were tried and why each was refused.
    Unavailable(String),
}
