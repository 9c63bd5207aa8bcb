//! [`BoaReference`].

use engine_api::{AnyReference, ApplyOptions, PropertyOptions, Result, TypeOf, Value};
use host_wasi::WasiReference;

use super::{BoaIsolate, BoaWasi};

/// A reference to a value in a [`BoaIsolate`] (`ivm.Reference`).
///
/// Inside a [`Value::Reference`] it travels as the engine-neutral [`WasiReference`]:
/// [`BoaReference::from_any`] turns it back into this type.
#[derive(Clone, Debug)]
pub struct BoaReference(pub(crate) WasiReference);

impl BoaReference {
    /// The Boa-WASI reference inside a [`Value::Reference`] or [`Value::DerefInto`], if it
    /// is one.
    pub fn from_any(any: &AnyReference) -> Option<BoaReference> {
        any.downcast_ref::<WasiReference>()
            .cloned()
            .map(BoaReference)
    }
}

impl engine_api::Reference for BoaReference {
    type Backend = BoaWasi;

    fn isolate(&self) -> BoaIsolate {
        BoaIsolate(self.0.isolate())
    }
    fn type_of(&self) -> Result<TypeOf> {
        self.0.type_of()
    }
    fn get(&self, key: Value, options: impl Into<PropertyOptions>) -> Result<Value> {
        self.0.get(key, &options.into())
    }
    fn set(&self, key: Value, value: Value, options: impl Into<PropertyOptions>) -> Result<bool> {
        self.0.set(key, value, &options.into())
    }
    fn inheriting(&self) -> Self {
        BoaReference(self.0.inheriting())
    }
    fn delete(&self, key: Value) -> Result<bool> {
        self.0.delete(key)
    }
    fn apply(&self, receiver: Value, args: Vec<Value>, options: &ApplyOptions) -> Result<Value> {
        self.0.apply(receiver, args, options)
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
    /// It travels as the engine-neutral [`WasiReference`].
    fn from_any(any: &AnyReference) -> Option<Self> {
        BoaReference::from_any(any)
    }
    /// The engine-neutral reference, so that its isolate recognises it.
    fn to_any(&self) -> AnyReference {
        self.0.to_any()
    }
}
