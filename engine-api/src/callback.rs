//! Host functions that guest code calls.

use std::fmt;
use std::sync::Arc;

use crate::{AnyReference, ApplyOptions, Error, Result, TypeOf, Value};

/// How the guest calls a [`Callback`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallbackMode {
    /// The guest waits for the result (the closure runs on the guest's thread).
    Sync,
    /// The guest gets a promise; the closure runs on the worker pool.
    Async,
    /// The guest gets `undefined` at once; the closure runs later on the worker pool and its
    /// result is dropped.
    Ignored,
}

type HostFn = dyn Fn(Vec<Value>) -> Result<Value> + Send + Sync;

/// A Rust closure exposed to guest code.
///
/// Pass it as [`Value::Callback`] to get a plain JS function in the guest, or as a
/// reference ([`Callback::into_reference`]) to get an `ivm.Reference` whose `applySync`,
/// `apply` and `applyIgnored` call the closure.
///
/// An `Err` returned by the closure is thrown in the guest: an [`Error::Js`] keeps its name
/// and message, any other error becomes an `Error` with its message.
///
/// ```
/// use engine_api::{Callback, Value};
/// let add = Callback::new(|args| {
///     let a = args.first().and_then(Value::as_f64).unwrap_or(0.0);
///     let b = args.get(1).and_then(Value::as_f64).unwrap_or(0.0);
///     Ok(Value::from(a + b))
/// });
/// assert_eq!(add.call(vec![1.into(), 2.into()]).unwrap(), Value::from(3));
/// ```
#[derive(Clone)]
pub struct Callback {
    f: Arc<HostFn>,
    mode: CallbackMode,
}

impl Callback {
    /// A callback the guest calls synchronously.
    pub fn new(f: impl Fn(Vec<Value>) -> Result<Value> + Send + Sync + 'static) -> Self {
        Callback {
            f: Arc::new(f),
            mode: CallbackMode::Sync,
        }
    }

    /// A callback that returns a promise in the guest.
    pub fn new_async(f: impl Fn(Vec<Value>) -> Result<Value> + Send + Sync + 'static) -> Self {
        Callback {
            f: Arc::new(f),
            mode: CallbackMode::Async,
        }
    }

    /// A callback whose result the guest never sees.
    pub fn new_ignored(f: impl Fn(Vec<Value>) -> Result<Value> + Send + Sync + 'static) -> Self {
        Callback {
            f: Arc::new(f),
            mode: CallbackMode::Ignored,
        }
    }

    /// How the guest calls it.
    pub fn mode(&self) -> CallbackMode {
        self.mode
    }

    /// Calls the closure on this thread. A panic in the closure becomes an error.
    pub fn call(&self, args: Vec<Value>) -> Result<Value> {
        let f = self.f.clone();
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || f(args)))
            .unwrap_or_else(|_| Err(Error::Callback("host callback panicked".into())))
    }

    /// Whether two callbacks share the same closure.
    pub fn ptr_eq(&self, other: &Callback) -> bool {
        Arc::ptr_eq(&self.f, &other.f)
    }

    /// A reference to this callback (the guest sees an `ivm.Reference` to a function).
    pub fn into_reference(self) -> AnyReference {
        AnyReference::new(self)
    }
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("mode", &self.mode)
            .finish()
    }
}

impl crate::ReferenceHandle for Callback {
    fn isolate_id(&self) -> Option<crate::IsolateId> {
        None
    }
    fn type_of(&self) -> Result<TypeOf> {
        Ok(TypeOf::Function)
    }
    fn apply(&self, _receiver: Value, args: Vec<Value>, _opts: &ApplyOptions) -> Result<Value> {
        self.call(args)
    }
    fn get(&self, _key: Value, _opts: &crate::TransferOptions) -> Result<Value> {
        Ok(Value::Undefined)
    }
    fn set(&self, _key: Value, _value: Value, _opts: &crate::TransferOptions) -> Result<bool> {
        Err(Error::InvalidArgument(
            "a host callback has no properties".into(),
        ))
    }
    fn delete(&self, _key: Value) -> Result<bool> {
        Ok(false)
    }
    fn copy(&self) -> Result<Value> {
        Err(Error::NotTransferable("function".into()))
    }
    fn release(&self) {}
    fn is_released(&self) -> bool {
        false
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
