//! References to values that live inside an isolate of one backend.

use std::any::Any;

#[cfg(doc)]
use crate::TransferOptions;
use crate::{
    AnyReference, ApplyOptions, IsolateId, PropertyOptions, ReferenceHandle, Result, TypeOf, Value,
};

/// A reference to a value inside an isolate of one backend.
///
/// Like isolated-vm's `Reference`: by default `get` and `apply` return primitives by value
/// and anything else as a new reference; [`TransferOptions`] change that. Like isolated-vm
/// (v4+), `get` and `set` run no guest code unless asked: they see own data properties
/// only, and refuse accessors and Proxies, without `accessors` ([`PropertyOptions`]).
pub trait Reference: Clone + Send + Sync + 'static {
    /// The backend.
    type Backend: crate::Backend<Reference = Self>;

    /// The isolate that owns the value.
    fn isolate(&self) -> <Self::Backend as crate::Backend>::Isolate;

    /// `typeof` the value (`null` is `"null"`).
    fn type_of(&self) -> Result<TypeOf>;

    /// `value[key]`, per [`PropertyOptions`] (a `&`[`TransferOptions`] converts into one):
    /// without `accessors`, the own data property (inherited ones too through an
    /// [`inheriting`](Reference::inheriting) reference) or `undefined`; an accessor or a
    /// Proxy is a `TypeError` ([`PropertyRefusal`](crate::PropertyRefusal)). The key is a
    /// string, number or symbol (a symbol as [`Value::DerefInto`] of a reference to it).
    ///
    /// ```ignore
    /// let port = config.get("port".into(), &TransferOptions::copy())?;
    /// let lazy = config.get("lazy".into(), PropertyOptions::copy().with_accessors())?;
    /// ```
    fn get(&self, key: Value, options: impl Into<PropertyOptions>) -> Result<Value>;

    /// `value[key] = v`; whether it succeeded. Without `accessors`, like
    /// `CreateDataProperty`: an own writable data property is written, a missing one is
    /// defined (even if the prototype chain has a setter or a read-only property of that
    /// name), and the answer is `false` for a read-only property or a non-extensible
    /// object; an own accessor or a Proxy is a `TypeError`. With `accessors`, the ordinary
    /// `value[key] = v` (setters and traps run).
    fn set(&self, key: Value, value: Value, options: impl Into<PropertyOptions>) -> Result<bool>;

    /// `delete value[key]`; whether it succeeded. Runs no guest code: a Proxy is a
    /// `TypeError` ([`PropertyRefusal::ProxyDelete`](crate::PropertyRefusal::ProxyDelete)).
    fn delete(&self, key: Value) -> Result<bool>;

    /// This reference, reading through the prototype chain: isolated-vm's
    /// `new Reference(value, { unsafeInherit: true })`. Its `get` without `accessors` finds
    /// inherited data properties too (an inherited accessor or Proxy is still refused);
    /// `set` and `delete` stay on the object itself. Both share the value: releasing one
    /// releases the other. References made by `get`, `apply` or `eval` do not inherit.
    fn inheriting(&self) -> Self;

    /// `value.apply(receiver, args)`.
    fn apply(&self, receiver: Value, args: Vec<Value>, options: &ApplyOptions) -> Result<Value>;

    /// A deep copy of the value.
    fn copy(&self) -> Result<Value>;

    /// Releases the reference; later use fails with `Error::Released`.
    fn release(&self);

    /// Whether the reference was released (or its isolate disposed).
    fn is_released(&self) -> bool;

    /// [`get`](Reference::get) with the property read into a Rust type through serde (see
    /// [`Value::to_serde`]); the property is deep-copied (an accessor is refused).
    ///
    /// ```ignore
    /// #[derive(serde::Deserialize)]
    /// struct Config { port: u16 }
    /// let config: Config = global.get_as("config".into())?;
    /// ```
    fn get_as<T: serde::de::DeserializeOwned>(&self, key: Value) -> Result<T> {
        crate::context::read_as(self.get(key, PropertyOptions::copy())?)
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

    /// [`get_as`](Reference::get_as) on the worker pool: a future of `T`, failing with
    /// the same [`Error::Deserialize`](crate::Error::Deserialize) on a wrong shape.
    ///
    /// ```ignore
    /// let port: u16 = config.get_as_async("port".into()).await?;
    /// ```
    fn get_as_async<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        key: Value,
    ) -> crate::Task<T> {
        let this = self.clone();
        crate::Isolate::queue(&self.isolate())
            .clone()
            .spawn(move || this.get_as(key))
    }

    /// [`apply_as`](Reference::apply_as) on the worker pool: a future of `T`.
    fn apply_as_async<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        receiver: Value,
        args: Vec<Value>,
        options: ApplyOptions,
    ) -> crate::Task<T> {
        let this = self.clone();
        crate::Isolate::queue(&self.isolate())
            .clone()
            .spawn(move || this.apply_as(receiver, args, &options))
    }

    /// The reference of this backend inside a [`Value::Reference`] or [`Value::DerefInto`]
    /// (what [`to_any`](Reference::to_any) made), if it is one.
    fn from_any(any: &AnyReference) -> Option<Self> {
        any.downcast_ref::<Self>().cloned()
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
    fn get_async(&self, key: Value, options: impl Into<PropertyOptions>) -> crate::Task<Value> {
        let (this, options) = (self.clone(), options.into());
        crate::Isolate::queue(&self.isolate())
            .clone()
            .spawn(move || this.get(key, options))
    }

    /// `set` on the worker pool.
    fn set_async(
        &self,
        key: Value,
        value: Value,
        options: impl Into<PropertyOptions>,
    ) -> crate::Task<bool> {
        let (this, options) = (self.clone(), options.into());
        crate::Isolate::queue(&self.isolate())
            .clone()
            .spawn(move || this.set(key, value, options))
    }

    /// `set` on the worker pool, result dropped.
    fn set_ignored(&self, key: Value, value: Value, options: impl Into<PropertyOptions>) {
        let (this, options) = (self.clone(), options.into());
        crate::Isolate::queue(&self.isolate())
            .clone()
            .spawn_ignored(move || {
                let _ = this.set(key, value, options);
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
    fn get(&self, key: Value, opts: &PropertyOptions) -> Result<Value> {
        self.0.get(key, *opts)
    }
    fn set(&self, key: Value, value: Value, opts: &PropertyOptions) -> Result<bool> {
        self.0.set(key, value, *opts)
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
