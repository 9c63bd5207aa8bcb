//! `ModuleEntry`: a compiled ES module in the handle table.

use boa_engine::{Module, object::builtins::JsPromise};

use engine_api::abi::{Origin, WireValue};

/// A compiled module.
pub struct ModuleEntry {
    pub(super) code: String,
    pub(super) origin: Origin,
    /// The parsed module, bound to the realm it was parsed in.
    pub(super) module: Module,
    /// Linked (its realm is fixed from then on).
    pub(super) linked: bool,
    /// The evaluation promise (evaluate twice returns the first outcome).
    pub(super) evaluation: Option<JsPromise>,
    /// What `import.meta` holds (the properties of a `WireValue::Object`), if anything.
    pub(super) meta: Option<WireValue>,
}
