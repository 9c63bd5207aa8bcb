//! `BoaContext`: a realm inside a guest.

use std::sync::Arc;

use backend_boa::abi::Request;
use engine_api::{EvalOptions, Result, TypeOf, Value};

use crate::convert::{origin, transfer};
use crate::handle_cell::HandleCell;
use crate::{BoaIsolate, BoaReference, BoaWasi};

/// A context (realm) of a [`BoaIsolate`].
#[derive(Clone)]
pub struct BoaContext {
    pub(crate) cell: Arc<HandleCell>,
}

impl std::fmt::Debug for BoaContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoaContext")
            .field("released", &self.cell.is_released())
            .finish()
    }
}

impl BoaContext {
    pub(crate) fn new(isolate: &BoaIsolate, handle: u32) -> Self {
        BoaContext {
            cell: HandleCell::new(isolate, handle, "context"),
        }
    }
}

impl engine_api::Context for BoaContext {
    type Backend = BoaWasi;

    fn isolate(&self) -> BoaIsolate {
        self.cell.isolate.clone()
    }

    fn global(&self) -> Result<BoaReference> {
        let isolate = &self.cell.isolate;
        let context = self.cell.handle()?;
        let handle = isolate.with_guest(None, |s| s.handle(&Request::Global { context }))?;
        Ok(BoaReference::new(isolate, handle, TypeOf::Object))
    }

    fn eval(&self, code: &str, options: &EvalOptions) -> Result<Value> {
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

    fn eval_closure(&self, code: &str, args: Vec<Value>, options: &EvalOptions) -> Result<Value> {
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

    fn release(&self) {
        self.cell.release();
    }
}
