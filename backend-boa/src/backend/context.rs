//! [`BoaContext`].

use engine_api::{EvalOptions, Result, Value};
use host_wasi::WasiContext;

use super::{BoaIsolate, BoaReference, BoaWasi};

/// A context (Boa realm) of a [`BoaIsolate`].
#[derive(Clone, Debug)]
pub struct BoaContext(pub(crate) WasiContext);

impl engine_api::Context for BoaContext {
    type Backend = BoaWasi;

    fn isolate(&self) -> BoaIsolate {
        BoaIsolate(self.0.isolate())
    }
    fn global(&self) -> Result<BoaReference> {
        self.0.global().map(BoaReference)
    }
    fn eval(&self, code: &str, options: &EvalOptions) -> Result<Value> {
        self.0.eval(code, options)
    }
    fn eval_closure(&self, code: &str, args: Vec<Value>, options: &EvalOptions) -> Result<Value> {
        self.0.eval_closure(code, args, options)
    }
    fn release(&self) {
        self.0.release()
    }
}
