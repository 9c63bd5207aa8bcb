//! `RuntimeConfig`: how a [`Runtime`](crate::Runtime) sets up wasmtime.

use std::path::PathBuf;
use std::time::Duration;

/// How a [`Runtime`](crate::Runtime) sets up wasmtime.
///
/// ```
/// let config = host_wasi::RuntimeConfig { max_isolates: 100, ..Default::default() };
/// assert_eq!(config.max_isolates, 100);
/// ```
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// Live isolates the pooling allocator has slots for (per engine). Creating more fails
    /// with `Error::Backend` until some are dropped.
    pub max_isolates: u32,
    /// The largest `memory_limit_mb` an isolate can use (a pool slot's size); larger
    /// limits are capped to this.
    pub max_memory_mb: u64,
    /// Native stack the guest may use, in bytes. Calls run on the caller's thread, which
    /// must have this much stack free (plus some for the host).
    pub max_wasm_stack: usize,
    /// How often the epoch advances; timeouts are checked once per tick.
    pub epoch_tick: Duration,
    /// Where compiled modules are cached (`None`: `$ISOVM_CACHE_DIR`, else the platform
    /// cache directory, else a private one under the temporary directory; see
    /// [`Runtime::cache_status`](crate::Runtime::cache_status)).
    pub cache_dir: Option<PathBuf>,
    /// Whether to use the on-disk cache at all.
    pub disk_cache: bool,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            max_isolates: 1000,
            max_memory_mb: 4096,
            max_wasm_stack: 1 << 20,
            epoch_tick: Duration::from_millis(1),
            cache_dir: None,
            disk_cache: true,
        }
    }
}
