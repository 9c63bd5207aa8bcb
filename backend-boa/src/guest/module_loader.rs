//! `Loader`: Boa's module loader, answering imports from the host's resolution table.

use std::cell::RefCell;
use std::rc::Rc;

use boa_engine::{
    Context, JsNativeError, JsResult, JsString, Module,
    module::{ModuleLoader, ModuleRequest, Referrer},
};

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
}
