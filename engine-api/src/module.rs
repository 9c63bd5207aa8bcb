//! Compiled ES modules.

use std::sync::Arc;

use crate::{Backend, Isolate, Result, RunOptions, Task, Value};

/// Type of the resolver `Module::instantiate` calls for each import: given the specifier
/// and the importing module, it returns the module to link.
pub type Resolver<'a, M> = dyn FnMut(&str, &M) -> Result<M> + 'a;

/// A compiled ES module.
pub trait Module: Clone + Send + Sync + 'static {
    /// The backend.
    type Backend: Backend<Module = Self>;

    /// The isolate that compiled it.
    fn isolate(&self) -> <Self::Backend as Backend>::Isolate;

    /// The specifiers of its static imports, in source order.
    fn dependency_specifiers(&self) -> Result<Vec<String>>;

    /// Links the module and its dependencies in `context`, calling `resolver` for each
    /// import. An error from the resolver fails the call. A second call does nothing.
    fn instantiate(
        &self,
        context: &<Self::Backend as Backend>::Context,
        resolver: &mut Resolver<'_, Self>,
    ) -> Result<()>;

    /// Evaluates the module. A second call returns the first outcome.
    fn evaluate(&self, options: &RunOptions) -> Result<Value>;

    /// The code cache produced at compile time (`ScriptOptions::produce_cached_data`,
    /// needs `Capability::CodeCache`; a backend without it refuses the option at compile
    /// time, so this is `None` there).
    fn cached_data(&self) -> Option<Arc<[u8]>> {
        None
    }

    /// Whether the code cache given at compile time was rejected (`None` if none was
    /// given). A rejected cache is harmless: the module compiled from its source.
    fn cached_data_rejected(&self) -> Option<bool> {
        None
    }

    /// A reference to the module namespace (its exports).
    fn namespace(&self) -> Result<<Self::Backend as Backend>::Reference>;

    /// Releases this handle.
    fn release(&self);

    /// `instantiate` on the worker pool.
    fn instantiate_async(
        &self,
        context: &<Self::Backend as Backend>::Context,
        mut resolver: impl FnMut(&str, &Self) -> Result<Self> + Send + 'static,
    ) -> Task<()> {
        let (this, context) = (self.clone(), context.clone());
        self.isolate()
            .queue()
            .spawn(move || this.instantiate(&context, &mut resolver))
    }

    /// `evaluate` on the worker pool.
    fn evaluate_async(&self, options: RunOptions) -> Task<Value> {
        let this = self.clone();
        self.isolate()
            .queue()
            .spawn(move || this.evaluate(&options))
    }

    /// `evaluate` on the worker pool, result and errors dropped.
    fn evaluate_ignored(&self, options: RunOptions) {
        let this = self.clone();
        self.isolate().queue().spawn_ignored(move || {
            let _ = this.evaluate(&options);
        })
    }
}
