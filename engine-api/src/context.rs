//! Contexts.

use serde::de::DeserializeOwned;

use crate::{Backend, EvalOptions, Isolate, Result, Task, TransferOptions, Value};

/// `options` with the result deep-copied, as reading it into a Rust type needs (a
/// promise is still awaited when `options` says so).
pub(crate) fn as_data(options: &TransferOptions) -> TransferOptions {
    TransferOptions {
        promise: options.promise,
        ..TransferOptions::copy()
    }
}

/// Reads `value` into `T`, then drops it without recursion.
pub(crate) fn read_as<T: DeserializeOwned>(value: Value) -> Result<T> {
    let out = value.to_serde();
    crate::drop_values([value]);
    out
}

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

    /// [`eval`](Context::eval) with the result read into a Rust type through serde (see
    /// [`Value::to_serde`] for the mapping). The result is deep-copied whatever
    /// `options.result` says (its `promise` flag still applies). A result of another
    /// shape fails with [`Error::Deserialize`](crate::Error::Deserialize).
    ///
    /// ```ignore
    /// #[derive(serde::Deserialize)]
    /// struct User { name: String, age: u32 }
    /// let user: User = context.eval_as("({ name: 'ann', age: 41 })", &EvalOptions::default())?;
    /// let n: u64 = context.eval_as("2 ** 60", &EvalOptions::default())?;
    /// ```
    fn eval_as<T: DeserializeOwned>(&self, code: &str, options: &EvalOptions) -> Result<T> {
        let options = EvalOptions {
            result: as_data(&options.result),
            ..options.clone()
        };
        read_as(self.eval(code, &options)?)
    }

    /// [`eval_closure`](Context::eval_closure) with the result read into a Rust type, as
    /// [`eval_as`](Context::eval_as) does.
    fn eval_closure_as<T: DeserializeOwned>(
        &self,
        code: &str,
        args: Vec<Value>,
        options: &EvalOptions,
    ) -> Result<T> {
        let options = EvalOptions {
            result: as_data(&options.result),
            ..options.clone()
        };
        read_as(self.eval_closure(code, args, &options)?)
    }

    /// [`eval_as`](Context::eval_as) on the worker pool: a future of `T`.
    fn eval_as_async<T: DeserializeOwned + Send + 'static>(
        &self,
        code: impl Into<String>,
        options: EvalOptions,
    ) -> Task<T> {
        let (this, code) = (self.clone(), code.into());
        self.isolate()
            .queue()
            .spawn(move || this.eval_as::<T>(&code, &options))
    }

    /// [`eval_closure_as`](Context::eval_closure_as) on the worker pool: a future of `T`.
    fn eval_closure_as_async<T: DeserializeOwned + Send + 'static>(
        &self,
        code: impl Into<String>,
        args: Vec<Value>,
        options: EvalOptions,
    ) -> Task<T> {
        let (this, code) = (self.clone(), code.into());
        self.isolate()
            .queue()
            .spawn(move || this.eval_closure_as::<T>(&code, args, &options))
    }

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
