//! References to values that live inside an isolate, type-erased across backends.

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{ApplyOptions, Result, TransferOptions, TypeOf, Value};

/// Identifies one isolate in this process, whatever its backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IsolateId(u64);

impl IsolateId {
    /// A fresh id, never handed out before in this process.
    pub fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        IsolateId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The number inside.
    pub fn get(self) -> u64 {
        self.0
    }
}

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
    /// Reads a property.
    fn get(&self, key: Value, opts: &TransferOptions) -> Result<Value>;
    /// Writes a property.
    fn set(&self, key: Value, value: Value, opts: &TransferOptions) -> Result<bool>;
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

/// A reference to a value inside an isolate of one backend.
///
/// Like isolated-vm's `Reference`: by default `get` and `apply` return primitives by value
/// and anything else as a new reference; [`TransferOptions`] change that.
pub trait Reference: Clone + Send + Sync + 'static {
    /// The backend.
    type Backend: crate::Backend<Reference = Self>;

    /// The isolate that owns the value.
    fn isolate(&self) -> <Self::Backend as crate::Backend>::Isolate;

    /// `typeof` the value (`null` is `"null"`).
    fn type_of(&self) -> Result<TypeOf>;

    /// `value[key]`.
    fn get(&self, key: Value, options: &TransferOptions) -> Result<Value>;

    /// `value[key] = v`; whether it succeeded.
    fn set(&self, key: Value, value: Value, options: &TransferOptions) -> Result<bool>;

    /// `delete value[key]`.
    fn delete(&self, key: Value) -> Result<bool>;

    /// `value.apply(receiver, args)`.
    fn apply(&self, receiver: Value, args: Vec<Value>, options: &ApplyOptions) -> Result<Value>;

    /// A deep copy of the value.
    fn copy(&self) -> Result<Value>;

    /// Releases the reference; later use fails with `Error::Released`.
    fn release(&self);

    /// Whether the reference was released (or its isolate disposed).
    fn is_released(&self) -> bool;

    /// [`get`](Reference::get) with the property read into a Rust type through serde (see
    /// [`Value::to_serde`]); the property is deep-copied.
    ///
    /// ```ignore
    /// #[derive(serde::Deserialize)]
    /// struct Config { port: u16 }
    /// let config: Config = global.get_as("config".into())?;
    /// ```
    fn get_as<T: serde::de::DeserializeOwned>(&self, key: Value) -> Result<T> {
        crate::context::read_as(self.get(key, &TransferOptions::copy())?)
    }

    /// [`apply`](Reference::apply) with the result read into a Rust type through serde
    /// (see [`Value::to_serde`]); the result is deep-copied whatever `options.result` says
    /// (its `promise` flag still applies).
    ///
    /// ```ignore
    /// let sum: f64 = add.apply_as(Value::Undefined, vec![1.into(), 2.into()], &ApplyOptions::default())?;
    /// ```
    fn apply_as<T: serde::de::DeserializeOwned>(
        &self,
        receiver: Value,
        args: Vec<Value>,
        options: &ApplyOptions,
    ) -> Result<T> {
        let options = ApplyOptions {
            result: crate::context::as_data(&options.result),
            ..options.clone()
        };
        crate::context::read_as(self.apply(receiver, args, &options)?)
    }

    /// This reference, type-erased, for passing into any isolate.
    fn to_any(&self) -> AnyReference {
        AnyReference::new(ReferenceBox(self.clone()))
    }

    /// A value that, passed into the owning isolate, is the referenced value itself.
    fn deref_into(&self) -> Value {
        Value::DerefInto(self.to_any())
    }

    /// `get` on the worker pool.
    fn get_async(&self, key: Value, options: TransferOptions) -> crate::Task<Value> {
        let this = self.clone();
        crate::Isolate::queue(&self.isolate())
            .clone()
            .spawn(move || this.get(key, &options))
    }

    /// `set` on the worker pool.
    fn set_async(&self, key: Value, value: Value, options: TransferOptions) -> crate::Task<bool> {
        let this = self.clone();
        crate::Isolate::queue(&self.isolate())
            .clone()
            .spawn(move || this.set(key, value, &options))
    }

    /// `set` on the worker pool, result dropped.
    fn set_ignored(&self, key: Value, value: Value, options: TransferOptions) {
        let this = self.clone();
        crate::Isolate::queue(&self.isolate())
            .clone()
            .spawn_ignored(move || {
                let _ = this.set(key, value, &options);
            })
    }

    /// `delete` on the worker pool.
    fn delete_async(&self, key: Value) -> crate::Task<bool> {
        let this = self.clone();
        crate::Isolate::queue(&self.isolate())
            .clone()
            .spawn(move || this.delete(key))
    }

    /// `delete` on the worker pool, result dropped.
    fn delete_ignored(&self, key: Value) {
        let this = self.clone();
        crate::Isolate::queue(&self.isolate())
            .clone()
            .spawn_ignored(move || {
                let _ = this.delete(key);
            })
    }

    /// `apply` on the worker pool.
    fn apply_async(
        &self,
        receiver: Value,
        args: Vec<Value>,
        options: ApplyOptions,
    ) -> crate::Task<Value> {
        let this = self.clone();
        crate::Isolate::queue(&self.isolate())
            .clone()
            .spawn(move || this.apply(receiver, args, &options))
    }

    /// `apply` on the worker pool, result and errors dropped.
    fn apply_ignored(&self, receiver: Value, args: Vec<Value>, options: ApplyOptions) {
        let this = self.clone();
        crate::Isolate::queue(&self.isolate())
            .clone()
            .spawn_ignored(move || {
                let _ = this.apply(receiver, args, &options);
            })
    }

    /// `copy` on the worker pool.
    fn copy_async(&self) -> crate::Task<Value> {
        let this = self.clone();
        crate::Isolate::queue(&self.isolate())
            .clone()
            .spawn(move || this.copy())
    }
}

/// Adapts a backend's [`Reference`] to the object-safe [`ReferenceHandle`].
struct ReferenceBox<R>(R);

impl<R: Reference> ReferenceHandle for ReferenceBox<R> {
    fn isolate_id(&self) -> Option<IsolateId> {
        Some(crate::Isolate::id(&self.0.isolate()))
    }
    fn type_of(&self) -> Result<TypeOf> {
        self.0.type_of()
    }
    fn apply(&self, receiver: Value, args: Vec<Value>, opts: &ApplyOptions) -> Result<Value> {
        self.0.apply(receiver, args, opts)
    }
    fn get(&self, key: Value, opts: &TransferOptions) -> Result<Value> {
        self.0.get(key, opts)
    }
    fn set(&self, key: Value, value: Value, opts: &TransferOptions) -> Result<bool> {
        self.0.set(key, value, opts)
    }
    fn delete(&self, key: Value) -> Result<bool> {
        self.0.delete(key)
    }
    fn copy(&self) -> Result<Value> {
        self.0.copy()
    }
    fn release(&self) {
        self.0.release()
    }
    fn is_released(&self) -> bool {
        self.0.is_released()
    }
    fn as_any(&self) -> &dyn Any {
        &self.0
    }
}
