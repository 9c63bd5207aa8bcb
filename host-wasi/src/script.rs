//! `WasiScript`: a compiled classic script.

use std::sync::Arc;

use engine_api::abi::Request;
use engine_api::{Result, RunOptions, Value};

use crate::convert::transfer;
use crate::handle_cell::HandleCell;
use crate::{WasiContext, WasiIsolate};

/// A script compiled in a [`WasiIsolate`]; runs in any of its contexts.
#[derive(Clone)]
pub struct WasiScript {
    cell: Arc<HandleCell>,
}

impl std::fmt::Debug for WasiScript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiScript")
            .field("released", &self.cell.is_released())
            .finish()
    }
}

impl WasiScript {
    pub(crate) fn new(isolate: &WasiIsolate, handle: u32) -> Self {
        WasiScript {
            cell: HandleCell::new(isolate, handle, "script"),
        }
    }
}

impl WasiScript {
    /// As [`engine_api::Script::isolate`].
    pub fn isolate(&self) -> WasiIsolate {
        self.cell.isolate.clone()
    }

    /// As [`engine_api::Script::run`].
    pub fn run(&self, context: &WasiContext, options: &RunOptions) -> Result<Value> {
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
    pub fn cached_data(&self) -> Option<Arc<[u8]>> {
        None
    }

    /// As [`engine_api::Script::cached_data_rejected`].
    pub fn cached_data_rejected(&self) -> Option<bool> {
        None
    }

    /// As [`engine_api::Script::release`].
    pub fn release(&self) {
        self.cell.release();
    }
}
