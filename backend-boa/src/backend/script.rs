//! [`BoaScript`].

use std::sync::Arc;

use engine_api::{Result, RunOptions, Value};
use host_wasi::WasiScript;

use super::{BoaContext, BoaIsolate, BoaWasi};

/// A compiled script of a [`BoaIsolate`].
#[derive(Clone, Debug)]
pub struct BoaScript(pub(crate) WasiScript);

impl engine_api::Script for BoaScript {
    type Backend = BoaWasi;

    fn isolate(&self) -> BoaIsolate {
        BoaIsolate(self.0.isolate())
    }
    fn run(&self, context: &BoaContext, options: &RunOptions) -> Result<Value> {
        self.0.run(&context.0, options)
    }
    fn cached_data(&self) -> Option<Arc<[u8]>> {
        self.0.cached_data()
    }
    fn cached_data_rejected(&self) -> Option<bool> {
        self.0.cached_data_rejected()
    }
    fn release(&self) {
        self.0.release()
    }
}
