//! [`Reference`]: a reference to a value inside an [`Isolate`](crate::Isolate), whatever
//! its backend.

use engine_api::{
    self as traits, AnyReference, ApplyOptions, PropertyOptions, Result, Task, TypeOf, Value,
};

use serde::de::DeserializeOwned;

use crate::Isolate;
use crate::dispatch::{dispatch, handle_enum};

#[cfg(feature = "boa-wasi")]
type BoaReference = backend_boa::BoaReference;
#[cfg(not(feature = "boa-wasi"))]
#[allow(dead_code)] // only named by the enum variant its feature adds
type BoaReference = ();
#[cfg(feature = "v8")]
type V8Reference = backend_v8::V8Reference;
#[cfg(not(feature = "v8"))]
#[allow(dead_code)] // only named by the enum variant its feature adds
type V8Reference = ();

handle_enum!(Reference, Inner, BoaReference, V8Reference);

/// A reference to a value inside an isolate, like isolated-vm's `Reference`: by default
/// `get` and `apply` return primitives by value and anything else as a new reference
/// ([`Value::Reference`], which [`Reference::from_any`] turns back into this type);
/// [`TransferOptions`](crate::TransferOptions) change that. `get` and `set` run no guest
/// code unless [`PropertyOptions::accessors`] says so.
///
/// ```no_run
/// use isovm::{ApplyOptions, EvalOptions, Isolate, IsolateOptions, Reference, Value};
/// let context = Isolate::new(IsolateOptions::default())?.create_context()?;
/// context.eval("globalThis.double = (x) => x * 2", &EvalOptions::default())?;
/// let Value::Reference(any) = context.global()?.get("double".into(), &Default::default())? else {
///     panic!("a function comes back as a reference");
/// };
/// let double = Reference::from_any(&any).expect("a reference of an isovm backend");
/// let v = double.apply(Value::Undefined, vec![Value::from(21)], &ApplyOptions::default())?;
/// assert_eq!(v, Value::from(42));
/// # Ok::<(), isovm::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Reference(pub(crate) Inner);

impl Reference {
    /// The reference inside a [`Value::Reference`] or [`Value::DerefInto`], if it is one of
    /// a compiled backend (not a host callback).
    pub fn from_any(any: &AnyReference) -> Option<Reference> {
        #[cfg(feature = "boa-wasi")]
        if let Some(r) = BoaReference::from_any(any) {
            return Some(r.into());
        }
        #[cfg(feature = "v8")]
        if let Some(r) = any.downcast_ref::<V8Reference>() {
            return Some(r.clone().into());
        }
        None
    }

    /// The isolate that owns the value.
    pub fn isolate(&self) -> Isolate {
        dispatch!(Inner, &self.0, r => Isolate::from(traits::Reference::isolate(r)))
    }

    /// `typeof` the value (`null` is `"null"`).
    pub fn type_of(&self) -> Result<TypeOf> {
        dispatch!(Inner, &self.0, r => traits::Reference::type_of(r))
    }

    /// `value[key]` (see [`engine_api::Reference::get`]).
    pub fn get(&self, key: Value, options: impl Into<PropertyOptions>) -> Result<Value> {
        let options = options.into();
        dispatch!(Inner, &self.0, r => traits::Reference::get(r, key, options))
    }

    /// `value[key]`, copied and deserialized into `T` (no JSON in between).
    pub fn get_as<T: DeserializeOwned>(&self, key: Value) -> Result<T> {
        traits::Reference::get_as(self, key)
    }

    /// `value[key] = v`; whether it succeeded (see [`engine_api::Reference::set`]).
    pub fn set(
        &self,
        key: Value,
        value: Value,
        options: impl Into<PropertyOptions>,
    ) -> Result<bool> {
        let options = options.into();
        dispatch!(Inner, &self.0, r => traits::Reference::set(r, key, value, options))
    }

    /// This reference, reading through the prototype chain (isolated-vm's
    /// `unsafeInherit`, see [`engine_api::Reference::inheriting`]).
    pub fn inheriting(&self) -> Reference {
        dispatch!(Inner, &self.0, r => Reference::from(traits::Reference::inheriting(r)))
    }

    /// `delete value[key]`.
    pub fn delete(&self, key: Value) -> Result<bool> {
        dispatch!(Inner, &self.0, r => traits::Reference::delete(r, key))
    }

    /// `value.apply(receiver, args)`.
    pub fn apply(
        &self,
        receiver: Value,
        args: Vec<Value>,
        options: &ApplyOptions,
    ) -> Result<Value> {
        dispatch!(Inner, &self.0, r => traits::Reference::apply(r, receiver, args, options))
    }

    /// `apply`, with the result copied and deserialized into `T`.
    pub fn apply_as<T: DeserializeOwned>(
        &self,
        receiver: Value,
        args: Vec<Value>,
        options: &ApplyOptions,
    ) -> Result<T> {
        traits::Reference::apply_as(self, receiver, args, options)
    }

    /// [`get_as`](Reference::get_as) on the worker pool: a future of `T`.
    pub fn get_as_async<T: DeserializeOwned + Send + 'static>(&self, key: Value) -> Task<T> {
        traits::Reference::get_as_async(self, key)
    }

    /// [`apply_as`](Reference::apply_as) on the worker pool: a future of `T`.
    pub fn apply_as_async<T: DeserializeOwned + Send + 'static>(
        &self,
        receiver: Value,
        args: Vec<Value>,
        options: ApplyOptions,
    ) -> Task<T> {
        traits::Reference::apply_as_async(self, receiver, args, options)
    }

    /// `apply` on the worker pool.
    pub fn apply_async(
        &self,
        receiver: Value,
        args: Vec<Value>,
        options: ApplyOptions,
    ) -> Task<Value> {
        traits::Reference::apply_async(self, receiver, args, options)
    }

    /// A deep copy of the value.
    pub fn copy(&self) -> Result<Value> {
        dispatch!(Inner, &self.0, r => traits::Reference::copy(r))
    }

    /// Releases the reference; later use fails with `Error::Released`.
    pub fn release(&self) {
        dispatch!(Inner, &self.0, r => traits::Reference::release(r))
    }

    /// Whether the reference was released (or its isolate disposed).
    pub fn is_released(&self) -> bool {
        dispatch!(Inner, &self.0, r => traits::Reference::is_released(r))
    }

    /// This reference as a value to pass into any isolate (it arrives as an
    /// `ivm.Reference`).
    pub fn to_any(&self) -> AnyReference {
        dispatch!(Inner, &self.0, r => traits::Reference::to_any(r))
    }

    /// A value that, passed into the owning isolate, is the referenced value itself.
    pub fn deref_into(&self) -> Value {
        Value::DerefInto(self.to_any())
    }
}

impl From<Reference> for Value {
    fn from(r: Reference) -> Value {
        Value::Reference(r.to_any())
    }
}

impl traits::Reference for Reference {
    type Backend = crate::Dyn;

    fn isolate(&self) -> Isolate {
        Reference::isolate(self)
    }
    fn type_of(&self) -> Result<TypeOf> {
        Reference::type_of(self)
    }
    fn get(&self, key: Value, options: impl Into<PropertyOptions>) -> Result<Value> {
        Reference::get(self, key, options)
    }
    fn set(&self, key: Value, value: Value, options: impl Into<PropertyOptions>) -> Result<bool> {
        Reference::set(self, key, value, options)
    }
    fn inheriting(&self) -> Self {
        Reference::inheriting(self)
    }
    fn delete(&self, key: Value) -> Result<bool> {
        Reference::delete(self, key)
    }
    fn apply(&self, receiver: Value, args: Vec<Value>, options: &ApplyOptions) -> Result<Value> {
        Reference::apply(self, receiver, args, options)
    }
    fn copy(&self) -> Result<Value> {
        Reference::copy(self)
    }
    fn release(&self) {
        Reference::release(self)
    }
    fn is_released(&self) -> bool {
        Reference::is_released(self)
    }
    /// The backend's own reference, so that its isolate recognises it.
    fn to_any(&self) -> AnyReference {
        Reference::to_any(self)
    }
}
