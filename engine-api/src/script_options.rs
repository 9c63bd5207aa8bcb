//! How a script or module is compiled.

use std::sync::Arc;

use crate::{Error, Result, ScriptOrigin, Value};

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
    /// Modules only: what `import.meta` holds, as isolated-vm's `meta` callback would set
    /// it. The own properties of this object ([`Value::Object`]) are copied onto the
    /// module's `import.meta` the first time the module reads it (data is copied,
    /// references and callbacks arrive as such); `None` leaves `import.meta` an empty
    /// object. Anything but an object, or a meta for a script, is
    /// [`Error::InvalidArgument`].
    ///
    /// ```
    /// use engine_api::{ScriptOptions, Value};
    /// let options = ScriptOptions {
    ///     meta: Some(Value::object([("url", Value::from("file:///app/main.mjs"))])),
    ///     ..Default::default()
    /// };
    /// assert!(options.check_for_module().is_ok());
    /// assert!(options.check_for_script().is_err());
    /// ```
    pub meta: Option<Value>,
}

impl ScriptOptions {
    /// Fails unless these options fit a script (no [`ScriptOptions::meta`]).
    pub fn check_for_script(&self) -> Result<()> {
        match self.meta {
            None => Ok(()),
            Some(_) => Err(Error::InvalidArgument(
                "`meta` (import.meta) is for modules; a script has none".into(),
            )),
        }
    }

    /// Fails unless these options fit a module (a meta, if any, is an object).
    pub fn check_for_module(&self) -> Result<()> {
        match &self.meta {
            None | Some(Value::Object(_)) => Ok(()),
            Some(other) => Err(Error::InvalidArgument(format!(
                "`meta` (import.meta) must be an object, not {:?}",
                other.type_of()
            ))),
        }
    }
}
