//! [`Script`]: a compiled script of an [`Isolate`](crate::Isolate), whatever its backend.

use std::sync::Arc;

use engine_api::{self as traits, Result, RunOptions, Task, Value};

use crate::dispatch::{dispatch, dispatch2, handle_enum};
use crate::{Context, Isolate};

#[cfg(feature = "boa-wasi")]
type BoaScript = backend_boa::BoaScript;
#[cfg(not(feature = "boa-wasi"))]
#[allow(dead_code)] // only named by the enum variant its feature adds
type BoaScript = ();
#[cfg(feature = "v8")]
type V8Script = backend_v8::V8Script;
#[cfg(not(feature = "v8"))]
#[allow(dead_code)] // only named by the enum variant its feature adds
type V8Script = ();

handle_enum!(Script, Inner, BoaScript, V8Script);

/// A compiled script; it runs in any context of the isolate that compiled it.
///
/// ```no_run
/// use isovm::{Isolate, IsolateOptions, RunOptions, ScriptOptions, Value};
/// let isolate = Isolate::new(IsolateOptions::default())?;
/// let script = isolate.compile_script("globalThis.runs = (globalThis.runs ?? 0) + 1", &ScriptOptions::default())?;
/// let context = isolate.create_context()?;
/// script.run(&context, &RunOptions::default())?;
/// assert_eq!(script.run(&context, &RunOptions::default())?, Value::from(2));
/// # Ok::<(), isovm::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Script(pub(crate) Inner);

impl Script {
    /// The isolate that compiled it.
    pub fn isolate(&self) -> Isolate {
        dispatch!(Inner, &self.0, s => Isolate::from(traits::Script::isolate(s)))
    }

    /// Runs the script in `context`; the completion value is the result. A context of
    /// another isolate (or backend) fails with `Error::WrongIsolate`.
    pub fn run(&self, context: &Context, options: &RunOptions) -> Result<Value> {
        use crate::context::Inner as C;
        dispatch2!(Inner, &self.0, C, &context.0, (s, c) => traits::Script::run(s, c, options))
    }

    /// `run` on the worker pool.
    pub fn run_async(&self, context: &Context, options: RunOptions) -> Task<Value> {
        traits::Script::run_async(self, context, options)
    }

    /// `run` on the worker pool, result and errors dropped.
    pub fn run_ignored(&self, context: &Context, options: RunOptions) {
        traits::Script::run_ignored(self, context, options)
    }

    /// The code cache produced at compile time (`ScriptOptions::produce_cached_data`).
    pub fn cached_data(&self) -> Option<Arc<[u8]>> {
        dispatch!(Inner, &self.0, s => traits::Script::cached_data(s))
    }

    /// Whether the code cache given at compile time was rejected (`None` if none was given).
    pub fn cached_data_rejected(&self) -> Option<bool> {
        dispatch!(Inner, &self.0, s => traits::Script::cached_data_rejected(s))
    }

    /// Releases this handle; later `run`s fail with `Error::Released`.
    pub fn release(&self) {
        dispatch!(Inner, &self.0, s => traits::Script::release(s))
    }
}

impl traits::Script for Script {
    type Backend = crate::Dyn;

    fn isolate(&self) -> Isolate {
        Script::isolate(self)
    }
    fn run(&self, context: &Context, options: &RunOptions) -> Result<Value> {
        Script::run(self, context, options)
    }
    fn cached_data(&self) -> Option<Arc<[u8]>> {
        Script::cached_data(self)
    }
    fn cached_data_rejected(&self) -> Option<bool> {
        Script::cached_data_rejected(self)
    }
    fn release(&self) {
        Script::release(self)
    }
}
