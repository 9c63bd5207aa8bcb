//! References of any backend, type-erased: what a [`Value`] carries.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::{ApplyOptions, IsolateId, PropertyOptions, Result, TypeOf, Value};

/// What every reference can do, object-safe so that a reference from one backend can be
/// handed to an isolate of another (and host callbacks can stand in for references).
///
/// Backends implement [`Reference`](crate::Reference); this trait comes with it through a
/// blanket impl. All methods block; they queue behind earlier work of the owning isolate.
pub trait ReferenceHandle: Send + Sync + 'static {
    /// The isolate that owns the value (`None` for host callbacks).
    fn isolate_id(&self) -> Option<IsolateId>;
    /// `typeof` the value (`null` is `"null"`).
    fn type_of(&self) -> Result<TypeOf>;
    /// Calls the value as a function.
    fn apply(&self, receiver: Value, args: Vec<Value>, opts: &ApplyOptions) -> Result<Value>;
    /// Reads a property (see [`PropertyOptions`]).
    fn get(&self, key: Value, opts: &PropertyOptions) -> Result<Value>;
    /// Writes a property (see [`PropertyOptions`]).
    fn set(&self, key: Value, value: Value, opts: &PropertyOptions) -> Result<bool>;
    /// Deletes a property.
    fn delete(&self, key: Value) -> Result<bool>;
    /// A deep copy of the value, as data.
    fn copy(&self) -> Result<Value>;
    /// Releases the reference; later use fails with `Error::Released`.
    fn release(&self);
    /// Whether `release` was called (or the owning isolate is gone).
    fn is_released(&self) -> bool;
    /// For downcasting to the backend's own reference type.
    fn as_any(&self) -> &dyn Any;
}

/// A reference of any backend (or a host callback), as carried inside a [`Value`].
#[derive(Clone)]
pub struct AnyReference(Arc<dyn ReferenceHandle>);

impl AnyReference {
    /// Wraps a reference.
    pub fn new(r: impl ReferenceHandle) -> Self {
        AnyReference(Arc::new(r))
    }

    /// The backend's own reference type, if it is one.
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        self.0.as_any().downcast_ref::<T>()
    }

    /// Whether two handles are the same handle.
    pub fn ptr_eq(&self, other: &AnyReference) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::ops::Deref for AnyReference {
    type Target = dyn ReferenceHandle;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl fmt::Debug for AnyReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnyReference")
            .field("isolate", &self.0.isolate_id())
            .field("released", &self.0.is_released())
            .finish()
    }
}
