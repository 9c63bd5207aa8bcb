//! `BoaReference`: a reference to a value inside a guest.

use std::sync::Arc;

use backend_boa::abi::Request;
use engine_api::{ApplyOptions, Result, TransferOptions, TypeOf, Value};

use crate::convert::transfer;
use crate::handle_cell::HandleCell;
use crate::{BoaIsolate, BoaWasi};

/// A reference to a value in a [`BoaIsolate`] (`ivm.Reference`).
#[derive(Clone)]
pub struct BoaReference {
    pub(crate) cell: Arc<HandleCell>,
    pub(crate) type_of: TypeOf,
}

impl std::fmt::Debug for BoaReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoaReference")
            .field("type_of", &self.type_of)
            .field("released", &self.cell.is_released())
            .finish()
    }
}

impl BoaReference {
    pub(crate) fn new(isolate: &BoaIsolate, handle: u32, type_of: TypeOf) -> Self {
        BoaReference {
            cell: HandleCell::new(isolate, handle, "reference"),
            type_of,
        }
    }
}

impl engine_api::Reference for BoaReference {
    type Backend = BoaWasi;

    fn isolate(&self) -> BoaIsolate {
        self.cell.isolate.clone()
    }

    fn type_of(&self) -> Result<TypeOf> {
        self.cell.handle()?;
        Ok(self.type_of)
    }

    fn get(&self, key: Value, options: &TransferOptions) -> Result<Value> {
        let handle = self.cell.handle()?;
        self.cell.isolate.call_value(None, options, |s| {
            Ok(Request::Get {
                handle,
                key: s.enter(key, &TransferOptions::default())?,
                result: transfer(options, true),
            })
        })
    }

    fn set(&self, key: Value, value: Value, options: &TransferOptions) -> Result<bool> {
        let handle = self.cell.handle()?;
        self.cell.isolate.with_guest(None, |s| {
            let req = Request::Set {
                handle,
                key: s.enter(key, &TransferOptions::default())?,
                value: s.enter(value, options)?,
            };
            s.boolean(&req)
        })
    }

    fn delete(&self, key: Value) -> Result<bool> {
        let handle = self.cell.handle()?;
        self.cell.isolate.with_guest(None, |s| {
            let req = Request::Delete {
                handle,
                key: s.enter(key, &TransferOptions::default())?,
            };
            s.boolean(&req)
        })
    }

    fn apply(&self, receiver: Value, args: Vec<Value>, options: &ApplyOptions) -> Result<Value> {
        let handle = self.cell.handle()?;
        self.cell
            .isolate
            .call_value(options.timeout, &options.result, |s| {
                let receiver = s.enter(receiver, &TransferOptions::default())?;
                let args = args
                    .into_iter()
                    .map(|a| s.enter(a, &options.arguments))
                    .collect::<Result<_>>()?;
                Ok(Request::Apply {
                    handle,
                    receiver,
                    args,
                    result: transfer(&options.result, true),
                })
            })
    }

    fn copy(&self) -> Result<Value> {
        let handle = self.cell.handle()?;
        self.cell
            .isolate
            .call_value(None, &TransferOptions::copy(), |_| {
                Ok(Request::Copy { handle })
            })
    }

    fn release(&self) {
        self.cell.release();
    }

    fn is_released(&self) -> bool {
        self.cell.is_released()
    }
}
