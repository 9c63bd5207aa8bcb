//! Compiled scripts.

use std::sync::Arc;

use crate::{Backend, Isolate, Result, RunOptions, Task, Value};

/// A compiled script; it runs in any context of the isolate that compiled it.
pub trait Script: Clone + Send + Sync + 'static {
    /// The backend.
    type Backend: Backend<Script = Self>;

    /// The isolate that compiled it.
    fn isolate(&self) -> <Self::Backend as Backend>::Isolate;

    /// Runs the script in `context`; the completion value is the result. A context of
    /// another isolate fails with `Error::WrongIsolate`.
    fn run(
        &self,
        context: &<Self::Backend as Backend>::Context,
        options: &RunOptions,
    ) -> Result<Value>;

    /// The code cache produced at compile time (`ScriptOptions::produce_cached_data`).
    fn cached_data(&self) -> Option<Arc<[u8]>>;

    /// Whether the code cache given at compile time was rejected (`None` if none was given).
    fn cached_data_rejected(&self) -> Option<bool>;

    /// Releases this handle; later `run`s fail with `Error::Released`.
    fn release(&self);

    /// `run` on the worker pool.
    fn run_async(
        &self,
        context: &<Self::Backend as Backend>::Context,
        options: RunOptions,
    ) -> Task<Value> {
        let (this, context) = (self.clone(), context.clone());
        self.isolate()
            .queue()
            .spawn(move || this.run(&context, &options))
    }

    /// `run` on the worker pool, result and errors dropped.
    fn run_ignored(&self, context: &<Self::Backend as Backend>::Context, options: RunOptions) {
        let (this, context) = (self.clone(), context.clone());
        self.isolate().queue().spawn_ignored(move || {
            let _ = this.run(&context, &options);
        })
    }
}
