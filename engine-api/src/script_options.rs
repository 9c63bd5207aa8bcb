//! How a script or module is compiled.

use std::sync::Arc;

use crate::ScriptOrigin;

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
