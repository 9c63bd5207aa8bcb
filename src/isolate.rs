//! [`Isolate`]: an isolate of whichever backend was chosen, as one concrete type.

use std::time::Duration;

use engine_api::{
    self as traits, Backend as _, Capabilities, HeapStatistics, IsolateId, IsolateOptions, Result,
    ScriptOptions, Snapshot, SnapshotScript, Task, TaskQueue,
};

use crate::dispatch::{dispatch, handle_enum};
use crate::{BackendKind, Context, Module, Script};

#[cfg(feature = "boa-wasi")]
type BoaIsolate = backend_boa::BoaIsolate;
#[cfg(not(feature = "boa-wasi"))]
#[allow(dead_code)] // only named by the enum variant its feature adds
type BoaIsolate = ();
#[cfg(feature = "v8")]
type V8Isolate = backend_v8::V8Isolate;
#[cfg(not(feature = "v8"))]
#[allow(dead_code)] // only named by the enum variant its feature adds
type V8Isolate = ();

handle_enum!(Isolate, Inner, BoaIsolate, V8Isolate);

/// An isolate: its own heap and globals, running one thing at a time, on the backend
/// chosen when it was made ([`Isolate::new`] takes the default one, [`Isolate::with_backend`]
/// any compiled one). Isolates of different backends are the same type, so one collection
/// can hold both.
///
/// Handles are cheap to clone and can be shared across threads. An isolate lives until
/// [`dispose`](Isolate::dispose) or until the last handle to it (and to anything in it) is
/// dropped.
///
/// ```no_run
/// let isolate = isovm::Isolate::new(isovm::IsolateOptions::default())?;
/// let context = isolate.create_context()?;
/// assert_eq!(context.eval("1 + 1", &Default::default())?, isovm::Value::from(2));
/// # Ok::<(), isovm::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Isolate(pub(crate) Inner);

impl Isolate {
    /// A new isolate on the default backend ([`BackendKind::default`]).
    pub fn new(options: IsolateOptions) -> Result<Self> {
        Self::with_backend(BackendKind::default(), options)
    }

    /// A new isolate on backend `kind`; a backend this build lacks is an error that says
    /// which Cargo feature brings it.
    ///
    /// ```no_run
    /// use isovm::{BackendKind, Isolate, IsolateOptions};
    /// let isolates: Vec<Isolate> = BackendKind::compiled()
    ///     .map(|kind| Isolate::with_backend(kind, IsolateOptions::default()))
    ///     .collect::<isovm::Result<_>>()?;
    /// for isolate in &isolates {
    ///     println!("{}: {:?}", isolate.backend(), isolate.capabilities());
    /// }
    /// # Ok::<(), isovm::Error>(())
    /// ```
    pub fn with_backend(kind: BackendKind, options: IsolateOptions) -> Result<Self> {
        use traits::Isolate as _;
        match kind {
            #[cfg(feature = "boa-wasi")]
            BackendKind::BoaWasi => Ok(BoaIsolate::new(options)?.into()),
            #[cfg(feature = "v8")]
            BackendKind::V8 => Ok(V8Isolate::new(options)?.into()),
            #[allow(unreachable_patterns)]
            other => Err(other.not_compiled()),
        }
    }

    /// Runs `scripts` (then `warmup`, whose effects are discarded) in a fresh isolate of
    /// backend `kind` and returns a snapshot of its heap, for [`IsolateOptions::snapshot`].
    pub fn create_snapshot(
        kind: BackendKind,
        scripts: &[SnapshotScript],
        warmup: Option<&str>,
    ) -> Result<Snapshot> {
        match kind {
            #[cfg(feature = "boa-wasi")]
            BackendKind::BoaWasi => backend_boa::BoaWasi::create_snapshot(scripts, warmup),
            #[cfg(feature = "v8")]
            BackendKind::V8 => backend_v8::V8::create_snapshot(scripts, warmup),
            #[allow(unreachable_patterns)]
            other => Err(other.not_compiled()),
        }
    }

    /// The backend this isolate runs on.
    pub fn backend(&self) -> BackendKind {
        self.0.kind()
    }

    /// What this isolate's backend supports.
    pub fn capabilities(&self) -> Capabilities {
        match &self.0 {
            #[cfg(feature = "boa-wasi")]
            Inner::BoaWasi(_) => backend_boa::BoaWasi::capabilities(),
            #[cfg(feature = "v8")]
            Inner::V8(_) => backend_v8::V8::capabilities(),
        }
    }

    /// The Boa-WASI isolate inside, for what only that backend offers.
    #[cfg(feature = "boa-wasi")]
    pub fn as_boa_wasi(&self) -> Option<&backend_boa::BoaIsolate> {
        #[allow(unreachable_patterns)]
        match &self.0 {
            Inner::BoaWasi(i) => Some(i),
            _ => None,
        }
    }

    /// The V8 isolate inside, for what only that backend offers.
    #[cfg(feature = "v8")]
    pub fn as_v8(&self) -> Option<&backend_v8::V8Isolate> {
        #[allow(unreachable_patterns)]
        match &self.0 {
            Inner::V8(i) => Some(i),
            _ => None,
        }
    }

    /// This isolate's id, unique in the process whatever the backend.
    pub fn id(&self) -> IsolateId {
        dispatch!(Inner, &self.0, i => traits::Isolate::id(i))
    }

    /// A new context (realm) with its own globals.
    pub fn create_context(&self) -> Result<Context> {
        dispatch!(Inner, &self.0, i => traits::Isolate::create_context(i).map(Context::from))
    }

    /// Compiles a script for later `run`s in any context of this isolate.
    pub fn compile_script(&self, code: &str, options: &ScriptOptions) -> Result<Script> {
        dispatch!(Inner, &self.0, i => traits::Isolate::compile_script(i, code, options).map(Script::from))
    }

    /// Compiles an ES module.
    pub fn compile_module(&self, code: &str, options: &ScriptOptions) -> Result<Module> {
        dispatch!(Inner, &self.0, i => traits::Isolate::compile_module(i, code, options).map(Module::from))
    }

    /// Destroys the isolate now; every handle into it fails with `Error::Disposed` after.
    /// Disposing twice fails with `Error::Disposed`.
    pub fn dispose(&self) -> Result<()> {
        dispatch!(Inner, &self.0, i => traits::Isolate::dispose(i))
    }

    /// Whether the isolate is disposed (explicitly or by a limit).
    pub fn is_disposed(&self) -> bool {
        dispatch!(Inner, &self.0, i => traits::Isolate::is_disposed(i))
    }

    /// Heap statistics.
    pub fn heap_statistics(&self) -> Result<HeapStatistics> {
        dispatch!(Inner, &self.0, i => traits::Isolate::heap_statistics(i))
    }

    /// CPU time spent running this isolate's own guest code.
    pub fn cpu_time(&self) -> Duration {
        dispatch!(Inner, &self.0, i => traits::Isolate::cpu_time(i))
    }

    /// Wall time spent running code in this isolate (including waits on other isolates and
    /// on host callbacks).
    pub fn wall_time(&self) -> Duration {
        dispatch!(Inner, &self.0, i => traits::Isolate::wall_time(i))
    }

    /// Live reference handles into this isolate (references, contexts, scripts, modules).
    pub fn reference_count(&self) -> usize {
        dispatch!(Inner, &self.0, i => traits::Isolate::reference_count(i))
    }

    /// Fuel left, on backends with fuel and isolates created with a budget.
    pub fn fuel_remaining(&self) -> Option<u64> {
        dispatch!(Inner, &self.0, i => traits::Isolate::fuel_remaining(i))
    }

    /// `create_context` on the worker pool.
    pub fn create_context_async(&self) -> Task<Context> {
        traits::Isolate::create_context_async(self)
    }

    /// `compile_script` on the worker pool.
    pub fn compile_script_async(
        &self,
        code: impl Into<String>,
        options: ScriptOptions,
    ) -> Task<Script> {
        traits::Isolate::compile_script_async(self, code, options)
    }

    /// `compile_module` on the worker pool.
    pub fn compile_module_async(
        &self,
        code: impl Into<String>,
        options: ScriptOptions,
    ) -> Task<Module> {
        traits::Isolate::compile_module_async(self, code, options)
    }
}

impl traits::Isolate for Isolate {
    type Backend = crate::Dyn;

    fn new(options: IsolateOptions) -> Result<Self> {
        Isolate::new(options)
    }
    fn id(&self) -> IsolateId {
        Isolate::id(self)
    }
    fn queue(&self) -> &TaskQueue {
        dispatch!(Inner, &self.0, i => traits::Isolate::queue(i))
    }
    fn create_context(&self) -> Result<Context> {
        Isolate::create_context(self)
    }
    fn compile_script(&self, code: &str, options: &ScriptOptions) -> Result<Script> {
        Isolate::compile_script(self, code, options)
    }
    fn compile_module(&self, code: &str, options: &ScriptOptions) -> Result<Module> {
        Isolate::compile_module(self, code, options)
    }
    fn dispose(&self) -> Result<()> {
        Isolate::dispose(self)
    }
    fn is_disposed(&self) -> bool {
        Isolate::is_disposed(self)
    }
    fn heap_statistics(&self) -> Result<HeapStatistics> {
        Isolate::heap_statistics(self)
    }
    fn cpu_time(&self) -> Duration {
        Isolate::cpu_time(self)
    }
    fn wall_time(&self) -> Duration {
        Isolate::wall_time(self)
    }
    fn reference_count(&self) -> usize {
        Isolate::reference_count(self)
    }
    fn fuel_remaining(&self) -> Option<u64> {
        Isolate::fuel_remaining(self)
    }
}
