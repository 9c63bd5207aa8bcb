//! `WasiReference`: a reference to a value inside a guest.

use std::sync::Arc;

use engine_api::abi::Request;
use engine_api::{ApplyOptions, PropertyOptions, Result, TransferOptions, TypeOf, Value};

use crate::WasiIsolate;
use crate::convert::transfer;
use crate::handle_cell::HandleCell;

/// A reference to a value in a [`WasiIsolate`] (`ivm.Reference`).
#[derive(Clone)]
pub struct WasiReference {
    pub(crate) cell: Arc<HandleCell>,
    pub(crate) type_of: TypeOf,
    /// `get` follows the prototype chain ([`engine_api::Reference::inheriting`]).
    inherit: bool,
}

impl std::fmt::Debug for WasiReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiReference")
            .field("type_of", &self.type_of)
            .field("released", &self.cell.is_released())
            .field("inherit", &self.inherit)
            .finish()
    }
}

impl WasiReference {
    pub(crate) fn new(isolate: &WasiIsolate, handle: u32, type_of: TypeOf) -> Self {
        WasiReference {
            cell: HandleCell::new(isolate, handle, "reference"),
            type_of,
            inherit: false,
        }
    }
}

impl WasiReference {
    /// As [`engine_api::Reference::isolate`].
    pub fn isolate(&self) -> WasiIsolate {
        self.cell.isolate.clone()
    }

    /// As [`engine_api::Reference::type_of`].
    pub fn type_of(&self) -> Result<TypeOf> {
        self.cell.handle()?;
        Ok(self.type_of)
    }

    /// As [`engine_api::Reference::get`].
    pub fn get(&self, key: Value, options: &PropertyOptions) -> Result<Value> {
        let handle = self.cell.handle()?;
        let (transfer_options, accessors) = (&options.transfer, options.accessors);
        self.cell.isolate.call_value(None, transfer_options, |s| {
            Ok(Request::Get {
                handle,
                key: s.enter(key, &TransferOptions::default())?,
                result: transfer(transfer_options, true),
                accessors,
                inherit: self.inherit,
            })
        })
    }

    /// As [`engine_api::Reference::set`].
    pub fn set(&self, key: Value, value: Value, options: &PropertyOptions) -> Result<bool> {
        let handle = self.cell.handle()?;
        self.cell.isolate.with_guest(None, |s| {
            let req = Request::Set {
                handle,
                key: s.enter(key, &TransferOptions::default())?,
                value: s.enter(value, &options.transfer)?,
                accessors: options.accessors,
            };
            s.boolean(&req)
        })
    }

    /// As [`engine_api::Reference::inheriting`].
    pub fn inheriting(&self) -> Self {
        WasiReference {
            inherit: true,
            ..self.clone()
        }
    }

    /// As [`engine_api::Reference::delete`].
    pub fn delete(&self, key: Value) -> Result<bool> {
        let handle = self.cell.handle()?;
        self.cell.isolate.with_guest(None, |s| {
            let req = Request::Delete {
                handle,
                key: s.enter(key, &TransferOptions::default())?,
            };
            s.boolean(&req)
        })
    }

    /// As [`engine_api::Reference::apply`].
    pub fn apply(
        &self,
        receiver: Value,
        args: Vec<Value>,
        options: &ApplyOptions,
    ) -> Result<Value> {
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

    /// As [`engine_api::Reference::copy`].
    pub fn copy(&self) -> Result<Value> {
        let handle = self.cell.handle()?;
        self.cell
            .isolate
            .call_value(None, &TransferOptions::copy(), |_| {
                Ok(Request::Copy { handle })
            })
    }

    /// As [`engine_api::Reference::release`].
    pub fn release(&self) {
        self.cell.release();
    }

    /// As [`engine_api::Reference::is_released`].
    pub fn is_released(&self) -> bool {
        self.cell.is_released()
    }
}

impl WasiReference {
    /// This reference, type-erased, for passing into any isolate (it arrives as an
    /// `ivm.Reference`; in its own isolate, as the value's reference).
    pub fn to_any(&self) -> engine_api::AnyReference {
        engine_api::AnyReference::new(self.clone())
    }
}

impl engine_api::ReferenceHandle for WasiReference {
    fn isolate_id(&self) -> Option<engine_api::IsolateId> {
        Some(self.cell.isolate.id())
    }
    fn type_of(&self) -> Result<TypeOf> {
        WasiReference::type_of(self)
    }
    fn apply(&self, receiver: Value, args: Vec<Value>, opts: &ApplyOptions) -> Result<Value> {
        WasiReference::apply(self, receiver, args, opts)
    }
    fn get(&self, key: Value, opts: &PropertyOptions) -> Result<Value> {
        WasiReference::get(self, key, opts)
    }
    fn set(&self, key: Value, value: Value, opts: &PropertyOptions) -> Result<bool> {
        WasiReference::set(self, key, value, opts)
    }
    fn delete(&self, key: Value) -> Result<bool> {
        WasiReference::delete(self, key)
    }
    fn copy(&self) -> Result<Value> {
        WasiReference::copy(self)
    }
    fn release(&self) {
        WasiReference::release(self)
    }
    fn is_released(&self) -> bool {
        WasiReference::is_released(self)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
