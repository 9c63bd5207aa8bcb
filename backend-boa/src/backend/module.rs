//! [`BoaModule`].

use engine_api::{Resolver, Result, RunOptions, Value};
use host_wasi::WasiModule;

use super::{BoaContext, BoaIsolate, BoaReference, BoaWasi};

/// A compiled ES module of a [`BoaIsolate`].
#[derive(Clone, Debug)]
pub struct BoaModule(pub(crate) WasiModule);

impl engine_api::Module for BoaModule {
    type Backend = BoaWasi;

    fn isolate(&self) -> BoaIsolate {
        BoaIsolate(self.0.isolate())
    }
    fn dependency_specifiers(&self) -> Result<Vec<String>> {
        self.0.dependency_specifiers()
    }
    fn instantiate(&self, context: &BoaContext, resolver: &mut Resolver<'_, Self>) -> Result<()> {
        let mut inner = |specifier: &str, importer: &WasiModule| {
            resolver(specifier, &BoaModule(importer.clone())).map(|m| m.0)
        };
        self.0.instantiate(&context.0, &mut inner)
    }
    fn evaluate(&self, options: &RunOptions) -> Result<Value> {
        self.0.evaluate(options)
    }
    fn namespace(&self) -> Result<BoaReference> {
        self.0.namespace().map(BoaReference)
    }
    fn release(&self) {
        self.0.release()
    }
}
