//! `Session`: access to the guest during one call.

use engine_api::abi::{Handle, Request, Response};
use engine_api::{Result, TransferOptions, Value};

use wasmtime::StoreContextMut;

use crate::WasiIsolate;
use crate::guest::{Exports, Fatal};
use crate::isolate::unexpected;
use crate::promises::Outcome;
use crate::state::HostState;
use crate::trap::guest_error;

/// Access to the guest during one call: the isolate's turn is held and the store locked,
/// or (a nested call) the store is the one a host callback's `host_call` lent.
pub(crate) struct Session<'a> {
    pub(crate) isolate: &'a WasiIsolate,
    pub(crate) store: StoreContextMut<'a, HostState>,
    pub(crate) exports: &'a Exports,
    pub(crate) buf: &'a mut Vec<u8>,
    /// A request trapped: the guest's state is unknown, the isolate must be disposed.
    pub(crate) fatal: bool,
}

impl Session<'_> {
    /// Sends a request; a guest-reported failure becomes its error, a trap is fatal.
    pub(crate) fn request(&mut self, req: &Request) -> Result<Response> {
        match self.exports.request(&mut self.store, self.buf, req) {
            Ok(Response::Error(e)) => Err(guest_error(e, &self.store.data().callback_errors)),
            Ok(r) => Ok(r),
            Err(Fatal(e)) => {
                self.fatal = true;
                Err(e)
            }
        }
    }

    /// A request answered by a handle.
    pub(crate) fn handle(&mut self, req: &Request) -> Result<Handle> {
        match self.request(req)? {
            Response::Handle(h) => Ok(h),
            other => Err(unexpected(&other)),
        }
    }

    /// A request answered by a boolean.
    pub(crate) fn boolean(&mut self, req: &Request) -> Result<bool> {
        match self.request(req)? {
            Response::Bool(b) => Ok(b),
            other => Err(unexpected(&other)),
        }
    }

    /// A request answered by a value (or, for `promise` transfers, a watch).
    pub(crate) fn value(&mut self, req: &Request, transfer: &TransferOptions) -> Result<Outcome> {
        match self.request(req)? {
            Response::Value(w) => {
                let table = &self.store.data().table;
                crate::convert::leave(w, table, self.isolate, transfer).map(Outcome::Ready)
            }
            Response::Pending { watch } => {
                self.isolate.inner.promises.register(watch, *transfer);
                Ok(Outcome::Pending(watch))
            }
            other => Err(unexpected(&other)),
        }
    }

    /// A host value going into the guest.
    pub(crate) fn enter(
        &mut self,
        value: Value,
        args: &TransferOptions,
    ) -> Result<engine_api::abi::WireValue> {
        let table = &mut self.store.data_mut().table;
        crate::convert::enter(value, table, self.isolate.inner.id, args)
    }

    /// Releases the guest handles dropped on the host since the last call.
    pub(crate) fn flush_releases(&mut self) -> Result<()> {
        let pending = std::mem::take(
            &mut *self
                .isolate
                .inner
                .pending_release
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for handle in pending {
            match self.request(&Request::Release { handle }) {
                Err(e) if self.fatal => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }
}
