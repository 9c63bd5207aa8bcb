//! [`Module`]: a compiled ES module of an [`Isolate`](crate::Isolate), whatever its backend.

use std::sync::Arc;

use engine_api::{self as traits, Error, Resolver, Result, RunOptions, Task, Value};

use crate::dispatch::{dispatch, handle_enum};
use crate::{Context, Isolate, Reference};

#[cfg(feature = "boa-wasi")]
type BoaModule = backend_boa::BoaModule;
#[cfg(not(feature = "boa-wasi"))]
#[allow(dead_code)] // only named by the enum variant its feature adds
type BoaModule = ();
#[cfg(feature = "v8")]
type V8Module = backend_v8::V8Module;
#[cfg(not(feature = "v8"))]
#[allow(dead_code)] // only named by the enum variant its feature adds
type V8Module = ();

handle_enum!(Module, Inner, BoaModule, V8Module);

/// A compiled ES module.
///
/// ```no_run
/// use isovm::{Isolate, IsolateOptions, Module, RunOptions, ScriptOptions, TransferOptions, Value};
/// let isolate = Isolate::new(IsolateOptions::default())?;
/// let context = isolate.create_context()?;
/// let main = isolate.compile_module("import { x } from 'dep'; export const y = x * 2;", &ScriptOptions::default())?;
/// main.instantiate(&context, &mut |specifier: &str, _importer: &Module| {
///     assert_eq!(specifier, "dep");
///     isolate.compile_module("export const x = 21;", &ScriptOptions::default())
/// })?;
/// main.evaluate(&RunOptions::default())?;
/// let y = main.namespace()?.get("y".into(), &TransferOptions::copy())?;
/// assert_eq!(y, Value::from(42));
/// # Ok::<(), isovm::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Module(pub(crate) Inner);

impl Module {
    /// The isolate that compiled it.
    pub fn isolate(&self) -> Isolate {
        dispatch!(Inner, &self.0, m => Isolate::from(traits::Module::isolate(m)))
    }

    /// The specifiers of its static imports, in source order.
    pub fn dependency_specifiers(&self) -> Result<Vec<String>> {
        dispatch!(Inner, &self.0, m => traits::Module::dependency_specifiers(m))
    }

    /// Links the module and its dependencies in `context`, calling `resolver` for each
    /// import. An error from the resolver fails the call; a module of another isolate (or
    /// backend) is `Error::WrongIsolate`. A second call does nothing.
    pub fn instantiate(
        &self,
        context: &Context,
        resolver: &mut Resolver<'_, Module>,
    ) -> Result<()> {
        use crate::context::Inner as C;
        #[allow(unreachable_patterns)]
        match (&self.0, &context.0) {
            #[cfg(feature = "boa-wasi")]
            (Inner::BoaWasi(m), C::BoaWasi(c)) => {
                let mut inner = |specifier: &str, importer: &BoaModule| match resolver(
                    specifier,
                    &Module::from(importer.clone()),
                )?
                .0
                {
                    Inner::BoaWasi(m) => Ok(m),
                    _ => Err(Error::WrongIsolate),
                };
                traits::Module::instantiate(m, c, &mut inner)
            }
            #[cfg(feature = "v8")]
            (Inner::V8(m), C::V8(c)) => {
                let mut inner = |specifier: &str, importer: &V8Module| match resolver(
                    specifier,
                    &Module::from(importer.clone()),
                )?
                .0
                {
                    Inner::V8(m) => Ok(m),
                    _ => Err(Error::WrongIsolate),
                };
                traits::Module::instantiate(m, c, &mut inner)
            }
            _ => Err(Error::WrongIsolate),
        }
    }

    /// Evaluates the module. A second call returns the first outcome.
    pub fn evaluate(&self, options: &RunOptions) -> Result<Value> {
        dispatch!(Inner, &self.0, m => traits::Module::evaluate(m, options))
    }

    /// The code cache produced at compile time (`ScriptOptions::produce_cached_data`).
    pub fn cached_data(&self) -> Option<Arc<[u8]>> {
        dispatch!(Inner, &self.0, m => traits::Module::cached_data(m))
    }

    /// Whether the code cache given at compile time was rejected (`None` if none was given).
    pub fn cached_data_rejected(&self) -> Option<bool> {
        dispatch!(Inner, &self.0, m => traits::Module::cached_data_rejected(m))
    }

    /// A reference to the module namespace (its exports).
    pub fn namespace(&self) -> Result<Reference> {
        dispatch!(Inner, &self.0, m => traits::Module::namespace(m).map(Reference::from))
    }

    /// Releases this handle.
    pub fn release(&self) {
        dispatch!(Inner, &self.0, m => traits::Module::release(m))
    }

    /// `instantiate` on the worker pool.
    pub fn instantiate_async(
        &self,
        context: &Context,
        resolver: impl FnMut(&str, &Module) -> Result<Module> + Send + 'static,
    ) -> Task<()> {
        traits::Module::instantiate_async(self, context, resolver)
    }

    /// `evaluate` on the worker pool.
    pub fn evaluate_async(&self, options: RunOptions) -> Task<Value> {
        traits::Module::evaluate_async(self, options)
    }
}

impl traits::Module for Module {
    type Backend = crate::Dyn;

    fn isolate(&self) -> Isolate {
        Module::isolate(self)
    }
    fn dependency_specifiers(&self) -> Result<Vec<String>> {
        Module::dependency_specifiers(self)
    }
    fn instantiate(&self, context: &Context, resolver: &mut Resolver<'_, Module>) -> Result<()> {
        Module::instantiate(self, context, resolver)
    }
    fn evaluate(&self, options: &RunOptions) -> Result<Value> {
        Module::evaluate(self, options)
    }
    fn namespace(&self) -> Result<Reference> {
        Module::namespace(self)
    }
    fn cached_data(&self) -> Option<Arc<[u8]>> {
        Module::cached_data(self)
    }
    fn cached_data_rejected(&self) -> Option<bool> {
        Module::cached_data_rejected(self)
    }
    fn release(&self) {
        Module::release(self)
    }
}
