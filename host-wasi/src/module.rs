//! `BoaModule`: a compiled ES module, linked through the user's resolver.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use backend_boa::abi::{Request, Response};
use engine_api::{Error, Resolver, Result, RunOptions, TypeOf, Value};

use crate::convert::transfer;
use crate::handle_cell::HandleCell;
use crate::isolate::unexpected;
use crate::{BoaContext, BoaIsolate, BoaReference, BoaWasi};

/// An ES module compiled in a [`BoaIsolate`].
#[derive(Clone)]
pub struct BoaModule {
    inner: Arc<ModuleInner>,
}

struct ModuleInner {
    cell: Arc<HandleCell>,
    specifiers: Vec<String>,
    linked: AtomicBool,
}

impl std::fmt::Debug for BoaModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoaModule")
            .field("specifiers", &self.inner.specifiers)
            .field("linked", &self.inner.linked.load(Ordering::Relaxed))
            .finish()
    }
}

impl BoaModule {
    pub(crate) fn new(isolate: &BoaIsolate, handle: u32, specifiers: Vec<String>) -> Self {
        BoaModule {
            inner: Arc::new(ModuleInner {
                cell: HandleCell::new(isolate, handle, "module"),
                specifiers,
                linked: AtomicBool::new(false),
            }),
        }
    }

    fn same(&self, other: &BoaModule) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl engine_api::Module for BoaModule {
    type Backend = BoaWasi;

    fn isolate(&self) -> BoaIsolate {
        self.inner.cell.isolate.clone()
    }

    fn dependency_specifiers(&self) -> Result<Vec<String>> {
        self.inner.cell.handle()?;
        Ok(self.inner.specifiers.clone())
    }

    fn instantiate(&self, context: &BoaContext, resolver: &mut Resolver<'_, Self>) -> Result<()> {
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

    fn evaluate(&self, options: &RunOptions) -> Result<Value> {
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

    fn namespace(&self) -> Result<BoaReference> {
        let module = self.inner.cell.handle()?;
        if !self.inner.linked.load(Ordering::Acquire) {
            return Err(Error::NotInstantiated);
        }
        let isolate = &self.inner.cell.isolate;
        let handle =
            isolate.with_guest(None, |s| s.handle(&Request::ModuleNamespace { module }))?;
        Ok(BoaReference::new(isolate, handle, TypeOf::Object))
    }

    fn release(&self) {
        self.inner.cell.release();
    }
}
