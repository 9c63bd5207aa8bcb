//! How a script or module is compiled.

use std::sync::Arc;

use crate::ScriptOrigin;

/// Options of `Isolate::compile_script` and `compile_module`.
#[derive(Clone, Debug, Default)]
pub struct ScriptOptions {
    /// Where the code came from.
    pub origin: ScriptOrigin,
    /// Code cache from an earlier `Script::cached_data` or `Module::cached_data` of the
    /// same source (needs `Capability::CodeCache`; without it, compiling fails with
    /// `Error::Unsupported`). A cache of other code, of another engine version, or
    /// corrupt, is rejected (`cached_data_rejected() == Some(true)`) and the code compiles
    /// from source.
    pub cached_data: Option<Arc<[u8]>>,
    /// Produce a code cache for this script or module (needs `Capability::CodeCache`).
    pub produce_cached_data: bool,
}
