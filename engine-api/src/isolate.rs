//! Isolates.

use std::time::Duration;

use crate::{
    Backend, HeapStatistics, IsolateId, IsolateOptions, Result, ScriptOptions, Task, TaskQueue,
};

/// An isolate: its own heap and globals, running one thing at a time.
///
/// Handles are cheap to clone and can be shared across threads. An isolate lives until
/// [`dispose`](Isolate::dispose) or until the last handle to it (and to anything in it) is
/// dropped.
pub trait Isolate: Clone + Send + Sync + 'static {
    /// The backend.
    type Backend: Backend<Isolate = Self>;

    /// A new isolate.
    fn new(options: IsolateOptions) -> Result<Self>;

    /// This isolate's id.
    fn id(&self) -> IsolateId;

    /// The queue all work of this isolate runs through.
    fn queue(&self) -> &TaskQueue;

    /// A new context (realm) with its own globals.
    fn create_context(&self) -> Result<<Self::Backend as Backend>::Context>;

    /// Compiles a script for later `run`s in any context of this isolate.
    fn compile_script(
        &self,
        code: &str,
        options: &ScriptOptions,
    ) -> Result<<Self::Backend as Backend>::Script>;

    /// Compiles an ES module.
    fn compile_module(
        &self,
        code: &str,
        options: &ScriptOptions,
    ) -> Result<<Self::Backend as Backend>::Module>;

    /// Destroys the isolate now; every handle into it fails with `Error::Disposed` after.
    /// Disposing twice fails with `Error::Disposed`.
    fn dispose(&self) -> Result<()>;

    /// Whether the isolate is disposed (explicitly or by a limit).
    fn is_disposed(&self) -> bool;

    /// Heap statistics.
    fn heap_statistics(&self) -> Result<HeapStatistics>;

    /// CPU time spent running code in this isolate.
    fn cpu_time(&self) -> Duration;

    /// Wall time spent running code in this isolate (including waits on other isolates and
    /// on host callbacks).
    fn wall_time(&self) -> Duration;

    /// Live reference handles into this isolate (references, contexts, scripts, modules).
    fn reference_count(&self) -> usize;

    /// Fuel left, on backends with fuel and isolates created with a budget.
    fn fuel_remaining(&self) -> Option<u64> {
        None
    }

    /// `create_context` on the worker pool.
    fn create_context_async(&self) -> Task<<Self::Backend as Backend>::Context> {
        let this = self.clone();
        self.queue().spawn(move || this.create_context())
    }

    /// `compile_script` on the worker pool.
    fn compile_script_async(
        &self,
        code: impl Into<String>,
        options: ScriptOptions,
    ) -> Task<<Self::Backend as Backend>::Script> {
        let (this, code) = (self.clone(), code.into());
        self.queue()
            .spawn(move || this.compile_script(&code, &options))
    }

    /// `compile_module` on the worker pool.
    fn compile_module_async(
        &self,
        code: impl Into<String>,
        options: ScriptOptions,
    ) -> Task<<Self::Backend as Backend>::Module> {
        let (this, code) = (self.clone(), code.into());
        self.queue()
            .spawn(move || this.compile_module(&code, &options))
    }

    /// `heap_statistics` on the worker pool.
    fn heap_statistics_async(&self) -> Task<HeapStatistics> {
        let this = self.clone();
        self.queue().spawn(move || this.heap_statistics())
    }
}
