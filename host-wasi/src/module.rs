//! `WasiModule`: a compiled ES module, linked through the user's resolver.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use engine_api::abi::{Request, Response};
use engine_api::{Error, Resolver, Result, RunOptions, TypeOf, Value};

use crate::convert::transfer;
use crate::handle_cell::HandleCell;
use crate::isolate::unexpected;
use crate::{WasiContext, WasiIsolate, WasiReference};

/// An ES module compiled in a [`WasiIsolate`].
#[derive(Clone)]
pub struct WasiModule {
    inner: Arc<ModuleInner>,
}

struct ModuleInner {
    cell: Arc<HandleCell>,
    specifiers: Vec<String>,
    linked: AtomicBool,
}

impl std::fmt::Debug for WasiModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiModule")
            .field("specifiers", &self.inner.specifiers)
            .field("linked", &self.inner.linked.load(Ordering::Relaxed))
            .finish()
    }
}

impl WasiModule {
    pub(crate) fn new(isolate: &WasiIsolate, handle: u32, specifiers: Vec<String>) -> Self {
        WasiModule {
            inner: Arc::new(ModuleInner {
                cell: HandleCell::new(isolate, handle, "module"),
                specifiers,
                linked: AtomicBool::new(false),
            }),
        }
    }

    fn same(&self, other: &WasiModule) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl WasiModule {
    /// As [`engine_api::Module::isolate`].
    pub fn isolate(&self) -> WasiIsolate {
        self.inner.cell.isolate.clone()
    }

    /// As [`engine_api::Module::dependency_specifiers`].
    pub fn dependency_specifiers(&self) -> Result<Vec<String>> {
        self.inner.cell.handle()?;
        Ok(self.inner.specifiers.clone())
    }

    /// As [`engine_api::Module::instantiate`].
    pub fn instantiate(
        &self,
        context: &WasiContext,
        resolver: &mut Resolver<'_, Self>,
    ) -> Result<()> {
        let isolate = &self.inner.cell.isolate;
        let context = context.cell.handle_in(isolate)?;
        let module = self.inner.cell.handle()?;
        if self.inner.linked.load(Ordering::Acquire) {
            return Ok(());
        }
        // Walk the graph outside the isolate's turn: the resolver may compile modules.
        let mut resolutions = Vec::new();
        let mut seen = vec![self.clone()];
        let mut todo = vec![self.clone()];
        while let Some(m) = todo.pop() {
            let from = m.inner.cell.handle()?;
            for specifier in &m.inner.specifiers {
                let dep = resolver(specifier, &m)?;
                let to = dep.inner.cell.handle_in(isolate)?;
                resolutions.push((from, specifier.clone(), to));
                if !dep.inner.linked.load(Ordering::Acquire) && !seen.iter().any(|s| s.same(&dep)) {
                    seen.push(dep.clone());
                    todo.push(dep);
                }
            }
        }
        let req = Request::InstantiateModule {
            module,
            context,
            resolutions,
        };
        isolate.with_guest(None, |s| match s.request(&req)? {
            Response::Ok => Ok(()),
            other => Err(unexpected(&other)),
        })?;
        for m in seen {
            m.inner.linked.store(true, Ordering::Release);
        }
        Ok(())
    }

    /// As [`engine_api::Module::evaluate`].
    pub fn evaluate(&self, options: &RunOptions) -> Result<Value> {
        let module = self.inner.cell.handle()?;
        if !self.inner.linked.load(Ordering::Acquire) {
            return Err(Error::NotInstantiated);
        }
        let req = Request::EvaluateModule {
            module,
            result: transfer(&options.result, false),
        };
        let isolate = &self.inner.cell.isolate;
        let result = isolate.call_value(options.timeout, &options.result, |_| Ok(req));
        if options.release {
            self.inner.cell.release();
        }
        result
    }

    /// As [`engine_api::Module::namespace`].
    pub fn namespace(&self) -> Result<WasiReference> {
        let module = self.inner.cell.handle()?;
        if !self.inner.linked.load(Ordering::Acquire) {
            return Err(Error::NotInstantiated);
        }
        let isolate = &self.inner.cell.isolate;
        let handle =
            isolate.with_guest(None, |s| s.handle(&Request::ModuleNamespace { module }))?;
        Ok(WasiReference::new(isolate, handle, TypeOf::Object))
    }

    /// As [`engine_api::Module::release`].
    pub fn release(&self) {
        self.inner.cell.release();
    }
}
