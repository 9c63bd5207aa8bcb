//! `BoaScript`: a compiled classic script.

use std::sync::Arc;

use backend_boa::abi::Request;
use engine_api::{Result, RunOptions, Value};

use crate::convert::transfer;
use crate::handle_cell::HandleCell;
use crate::{BoaContext, BoaIsolate, BoaWasi};

/// A script compiled in a [`BoaIsolate`]; runs in any of its contexts.
#[derive(Clone)]
pub struct BoaScript {
    cell: Arc<HandleCell>,
}

impl std::fmt::Debug for BoaScript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoaScript")
            .field("released", &self.cell.is_released())
            .finish()
    }
}

impl BoaScript {
    pub(crate) fn new(isolate: &BoaIsolate, handle: u32) -> Self {
        BoaScript {
            cell: HandleCell::new(isolate, handle, "script"),
        }
    }
}

impl engine_api::Script for BoaScript {
    type Backend = BoaWasi;

    fn isolate(&self) -> BoaIsolate {
        self.cell.isolate.clone()
    }

    fn run(&self, context: &BoaContext, options: &RunOptions) -> Result<Value> {
        let isolate = &self.cell.isolate;
        let context = context.cell.handle_in(isolate)?;
        let script = self.cell.handle()?;
        let req = Request::RunScript {
            script,
            context,
            result: transfer(&options.result, false),
        };
        let result = isolate.call_value(options.timeout, &options.result, |_| Ok(req));
        if options.release {
            self.cell.release();
        }
        result
    }

    /// Always `None`: Boa-WASI has no code cache (`Capability::CodeCache`).
    fn cached_data(&self) -> Option<Arc<[u8]>> {
        None
    }

    fn cached_data_rejected(&self) -> Option<bool> {
        None
    }

    fn release(&self) {
        self.cell.release();
    }
}
