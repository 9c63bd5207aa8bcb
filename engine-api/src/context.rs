//! Contexts.

use crate::{Backend, EvalOptions, Isolate, Result, Task, Value};

/// A context: a global object and its own builtins, inside an isolate.
pub trait Context: Clone + Send + Sync + 'static {
    /// The backend.
    type Backend: Backend<Context = Self>;

    /// The isolate this context belongs to.
    fn isolate(&self) -> <Self::Backend as Backend>::Isolate;

    /// A reference to the global object.
    fn global(&self) -> Result<<Self::Backend as Backend>::Reference>;

    /// Compiles and runs `code` as a classic script; the completion value is the result.
    fn eval(&self, code: &str, options: &EvalOptions) -> Result<Value>;

    /// Runs `code` as the body of a function whose arguments are `$0`, `$1`, ..; `return`
    /// gives the result.
    fn eval_closure(&self, code: &str, args: Vec<Value>, options: &EvalOptions) -> Result<Value>;

    /// Releases this handle; the realm goes when nothing references it. Later use of this
    /// handle fails with `Error::Released`.
    fn release(&self);

    /// `eval` on the worker pool.
    fn eval_async(&self, code: impl Into<String>, options: EvalOptions) -> Task<Value> {
        let (this, code) = (self.clone(), code.into());
        self.isolate()
            .queue()
            .spawn(move || this.eval(&code, &options))
    }

    /// `eval` on the worker pool, result and errors dropped.
    fn eval_ignored(&self, code: impl Into<String>, options: EvalOptions) {
        let (this, code) = (self.clone(), code.into());
        self.isolate().queue().spawn_ignored(move || {
            let _ = this.eval(&code, &options);
        })
    }

    /// `eval_closure` on the worker pool.
    fn eval_closure_async(
        &self,
        code: impl Into<String>,
        args: Vec<Value>,
        options: EvalOptions,
    ) -> Task<Value> {
        let (this, code) = (self.clone(), code.into());
        self.isolate()
            .queue()
            .spawn(move || this.eval_closure(&code, args, &options))
    }

    /// `eval_closure` on the worker pool, result and errors dropped.
    fn eval_closure_ignored(
        &self,
        code: impl Into<String>,
        args: Vec<Value>,
        options: EvalOptions,
    ) {
        let (this, code) = (self.clone(), code.into());
        self.isolate().queue().spawn_ignored(move || {
            let _ = this.eval_closure(&code, args, &options);
        })
    }
}
