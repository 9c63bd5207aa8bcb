//! `WasiContext`: a realm inside a guest.

use std::sync::Arc;

use engine_api::abi::Request;
use engine_api::{EvalOptions, Result, TypeOf, Value};

use crate::convert::{origin, transfer};
use crate::handle_cell::HandleCell;
use crate::{WasiIsolate, WasiReference};

/// A context (realm) of a [`WasiIsolate`].
#[derive(Clone)]
pub struct WasiContext {
    pub(crate) cell: Arc<HandleCell>,
}

impl std::fmt::Debug for WasiContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiContext")
            .field("released", &self.cell.is_released())
            .finish()
    }
}

impl WasiContext {
    pub(crate) fn new(isolate: &WasiIsolate, handle: u32) -> Self {
        WasiContext {
            cell: HandleCell::new(isolate, handle, "context"),
        }
    }
}

impl WasiContext {
    /// As [`engine_api::Context::isolate`].
    pub fn isolate(&self) -> WasiIsolate {
        self.cell.isolate.clone()
    }

    /// As [`engine_api::Context::global`].
    pub fn global(&self) -> Result<WasiReference> {
        let isolate = &self.cell.isolate;
        let context = self.cell.handle()?;
        let handle = isolate.with_guest(None, |s| s.handle(&Request::Global { context }))?;
        Ok(WasiReference::new(isolate, handle, TypeOf::Object))
    }

    /// As [`engine_api::Context::eval`].
    pub fn eval(&self, code: &str, options: &EvalOptions) -> Result<Value> {
        let context = self.cell.handle()?;
        let req = Request::Eval {
            context,
            code: code.to_owned(),
            origin: origin(&options.origin),
            result: transfer(&options.result, false),
        };
        self.cell
            .isolate
            .call_value(options.timeout, &options.result, |_| Ok(req))
    }

    /// As [`engine_api::Context::eval_closure`].
    pub fn eval_closure(
        &self,
        code: &str,
        args: Vec<Value>,
        options: &EvalOptions,
    ) -> Result<Value> {
        let context = self.cell.handle()?;
        self.cell
            .isolate
            .call_value(options.timeout, &options.result, |s| {
                let args = args
                    .into_iter()
                    .map(|a| s.enter(a, &options.arguments))
                    .collect::<Result<_>>()?;
                Ok(Request::EvalClosure {
                    context,
                    code: code.to_owned(),
                    args,
                    origin: origin(&options.origin),
                    result: transfer(&options.result, false),
                })
            })
    }

    /// As [`engine_api::Context::release`].
    pub fn release(&self) {
        self.cell.release();
    }
}
