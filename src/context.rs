//! [`Context`]: a realm of an [`Isolate`](crate::Isolate), whatever its backend.

use engine_api::{self as traits, EvalOptions, Result, Task, Value};
use serde::de::DeserializeOwned;

use crate::dispatch::{dispatch, handle_enum};
use crate::{Isolate, Reference};

#[cfg(feature = "boa-wasi")]
type BoaContext = backend_boa::BoaContext;
#[cfg(not(feature = "boa-wasi"))]
#[allow(dead_code)] // only named by the enum variant its feature adds
type BoaContext = ();
#[cfg(feature = "v8")]
type V8Context = backend_v8::V8Context;
#[cfg(not(feature = "v8"))]
#[allow(dead_code)] // only named by the enum variant its feature adds
type V8Context = ();

handle_enum!(Context, Inner, BoaContext, V8Context);

/// A context: a global object and its own builtins, inside an isolate.
///
/// ```no_run
/// use isovm::{EvalOptions, Isolate, IsolateOptions, Value};
/// let context = Isolate::new(IsolateOptions::default())?.create_context()?;
/// context.eval("globalThis.n = 20", &EvalOptions::default())?;
/// let v = context.eval_closure("return n + $0", vec![Value::from(22)], &EvalOptions::default())?;
/// assert_eq!(v, Value::from(42));
/// # Ok::<(), isovm::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Context(pub(crate) Inner);

impl Context {
    /// The isolate this context belongs to.
    pub fn isolate(&self) -> Isolate {
        dispatch!(Inner, &self.0, c => Isolate::from(traits::Context::isolate(c)))
    }

    /// A reference to the global object.
    pub fn global(&self) -> Result<Reference> {
        dispatch!(Inner, &self.0, c => traits::Context::global(c).map(Reference::from))
    }

    /// Compiles and runs `code` as a classic script; the completion value is the result.
    pub fn eval(&self, code: &str, options: &EvalOptions) -> Result<Value> {
        dispatch!(Inner, &self.0, c => traits::Context::eval(c, code, options))
    }

    /// Runs `code` as the body of a function whose arguments are `$0`, `$1`, ..; `return`
    /// gives the result.
    pub fn eval_closure(
        &self,
        code: &str,
        args: Vec<Value>,
        options: &EvalOptions,
    ) -> Result<Value> {
        dispatch!(Inner, &self.0, c => traits::Context::eval_closure(c, code, args, options))
    }

    /// `eval`, with the result (copied as data, promises awaited when asked) deserialized
    /// into `T` straight from the value (no JSON in between). A value `T` cannot hold is
    /// an error, never a silent default.
    ///
    /// ```no_run
    /// #[derive(serde::Deserialize)]
    /// struct Point { x: f64, y: f64 }
    /// let context = isovm::Isolate::new(Default::default())?.create_context()?;
    /// let p: Point = context.eval_as("({ x: 1, y: 2 })", &Default::default())?;
    /// assert_eq!((p.x, p.y), (1.0, 2.0));
    /// # Ok::<(), isovm::Error>(())
    /// ```
    pub fn eval_as<T: DeserializeOwned>(&self, code: &str, options: &EvalOptions) -> Result<T> {
        traits::Context::eval_as(self, code, options)
    }

    /// `eval_closure`, with the result deserialized into `T` (as [`Context::eval_as`]).
    pub fn eval_closure_as<T: DeserializeOwned>(
        &self,
        code: &str,
        args: Vec<Value>,
        options: &EvalOptions,
    ) -> Result<T> {
        traits::Context::eval_closure_as(self, code, args, options)
    }

    /// [`Context::eval_as`] on the worker pool: a future of `T`, or `.wait()` it.
    pub fn eval_as_async<T: DeserializeOwned + Send + 'static>(
        &self,
        code: impl Into<String>,
        options: EvalOptions,
    ) -> Task<T> {
        traits::Context::eval_as_async(self, code, options)
    }

    /// [`Context::eval_closure_as`] on the worker pool: a future of `T`, or `.wait()` it.
    pub fn eval_closure_as_async<T: DeserializeOwned + Send + 'static>(
        &self,
        code: impl Into<String>,
        args: Vec<Value>,
        options: EvalOptions,
    ) -> Task<T> {
        traits::Context::eval_closure_as_async(self, code, args, options)
    }

    /// `eval` on the worker pool: a future, or `.wait()` it.
    pub fn eval_async(&self, code: impl Into<String>, options: EvalOptions) -> Task<Value> {
        traits::Context::eval_async(self, code, options)
    }

    /// `eval` on the worker pool, result and errors dropped.
    pub fn eval_ignored(&self, code: impl Into<String>, options: EvalOptions) {
        traits::Context::eval_ignored(self, code, options)
    }

    /// `eval_closure` on the worker pool.
    pub fn eval_closure_async(
        &self,
        code: impl Into<String>,
        args: Vec<Value>,
        options: EvalOptions,
    ) -> Task<Value> {
        traits::Context::eval_closure_async(self, code, args, options)
    }

    /// Releases this handle; the realm goes when nothing references it. Later use of this
    /// handle fails with `Error::Released`.
    pub fn release(&self) {
        dispatch!(Inner, &self.0, c => traits::Context::release(c))
    }
}

impl traits::Context for Context {
    type Backend = crate::Dyn;

    fn isolate(&self) -> Isolate {
        Context::isolate(self)
    }
    fn global(&self) -> Result<Reference> {
        Context::global(self)
    }
    fn eval(&self, code: &str, options: &EvalOptions) -> Result<Value> {
        Context::eval(self, code, options)
    }
    fn eval_closure(&self, code: &str, args: Vec<Value>, options: &EvalOptions) -> Result<Value> {
        Context::eval_closure(self, code, args, options)
    }
    fn release(&self) {
        Context::release(self)
    }
}
