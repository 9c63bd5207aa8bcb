//! The family of types that make up one backend.

use crate::{
    Capabilities, Capability, Context, Error, Isolate, Module, Reference, Result, Script, Snapshot,
    SnapshotScript,
};

/// One backend: its handle types and what it can do.
///
/// Code written against `E: Backend` runs on every backend:
///
/// ```ignore
/// fn add<E: Backend>() -> engine_api::Result<Value> {
///     let isolate = E::Isolate::new(IsolateOptions::default())?;
///     let context = isolate.create_context()?;
///     context.eval("1 + 2", &EvalOptions::default())
/// }
/// ```
pub trait Backend: Sized + Send + Sync + 'static {
    /// An isolate: one heap, one thread of execution at a time.
    type Isolate: Isolate<Backend = Self>;
    /// A realm (global object and builtins) inside an isolate.
    type Context: Context<Backend = Self>;
    /// A compiled script, runnable in any context of its isolate.
    type Script: Script<Backend = Self>;
    /// A compiled ES module.
    type Module: Module<Backend = Self>;
    /// A reference to a value inside an isolate.
    type Reference: Reference<Backend = Self>;

    /// The backend's name: `boa-wasi` or `v8`.
    const NAME: &'static str;

    /// What this backend supports.
    fn capabilities() -> Capabilities;

    /// Runs `scripts` (then `warmup`, whose effects are discarded) in a fresh isolate and
    /// returns a snapshot of its heap, for `IsolateOptions::snapshot`.
    fn create_snapshot(scripts: &[SnapshotScript], warmup: Option<&str>) -> Result<Snapshot> {
        let _ = (scripts, warmup);
        Err(Error::Unsupported(Capability::Snapshots))
    }
}
