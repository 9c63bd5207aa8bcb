//! `Loader`: Boa's module loader, answering imports from the host's resolution table.

use std::cell::RefCell;
use std::rc::Rc;

use boa_engine::{
    Context, JsNativeError, JsObject, JsResult, JsString, Module,
    module::{ModuleLoader, ModuleRequest, Referrer},
};

use engine_api::abi::WireValue;

/// Answers imports from the resolution table of the current `InstantiateModule`.
#[derive(Default)]
pub struct Loader {
    pub(super) table: RefCell<Vec<(Module, JsString, Module)>>,
}

impl ModuleLoader for Loader {
    async fn load_imported_module(
        self: Rc<Self>,
        referrer: Referrer,
        request: ModuleRequest,
        _context: &RefCell<&mut Context>,
    ) -> JsResult<Module> {
        let found = match &referrer {
            Referrer::Module(importer) => self
                .table
                .borrow()
                .iter()
                .find(|(from, spec, _)| from == importer && spec == request.specifier())
                .map(|(_, _, to)| to.clone()),
            _ => None,
        };
        found.ok_or_else(|| {
            JsNativeError::typ()
                .with_message(format!(
                    "Cannot find module '{}'",
                    request.specifier().to_std_string_lossy()
                ))
                .into()
        })
    }

    /// `import.meta` of a module compiled with a meta: its properties, copied in. Boa's hook
    /// cannot throw; a property that fails to copy in (the memory limit) is left out.
    fn init_import_meta(
        self: Rc<Self>,
        import_meta: &JsObject,
        module: &Module,
        context: &mut Context,
    ) {
        let Some(WireValue::Object(props)) = super::handles::module_meta(module) else {
            return;
        };
        for (key, wire) in props {
            if let Ok(value) = super::convert::from_wire(wire, context) {
                let _ =
                    import_meta.create_data_property(JsString::from(key.as_str()), value, context);
            }
        }
    }
}
