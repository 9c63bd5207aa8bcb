//! References to values inside an isolate.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use engine_api::{ApplyOptions, Error, IsolateId, PropertyOptions, Result, Task, TypeOf, Value};

use crate::V8Isolate;
use crate::convert::{self, Fallback};
use crate::handle_count::HandleCount;
use crate::pending::{self, Outcome};
use crate::properties;

/// `$r`, with the exception `$tc` caught in place of the [`crate::empty`] marker.
macro_rules! or_caught {
    ($tc:expr, $r:expr) => {
        match $r {
            Err(e) if crate::is_empty(&e) && $tc.has_caught() => Err(caught!($tc)),
            other => other,
        }
    };
}

struct ReferenceInner {
    value: Mutex<Option<v8::Global<v8::Value>>>,
    released: AtomicBool,
    isolate: V8Isolate,
    count: HandleCount,
}

/// A reference to a value inside a [`V8Isolate`].
#[derive(Clone)]
pub struct V8Reference {
    inner: Arc<ReferenceInner>,
    /// `get` follows the prototype chain ([`engine_api::Reference::inheriting`]).
    inherit: bool,
}

impl std::fmt::Debug for V8Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V8Reference")
            .field("released", &self.inner.released.load(Ordering::Relaxed))
            .field("inherit", &self.inherit)
            .finish_non_exhaustive()
    }
}

impl V8Reference {
    pub(crate) fn new(isolate: &V8Isolate, value: v8::Global<v8::Value>) -> Self {
        V8Reference {
            inner: Arc::new(ReferenceInner {
                value: Mutex::new(Some(value)),
                released: AtomicBool::new(false),
                isolate: isolate.clone(),
                count: HandleCount::new(isolate.core()),
            }),
            inherit: false,
        }
    }

    pub(crate) fn isolate_id(&self) -> IsolateId {
        self.inner.isolate.core().id
    }

    /// The value, in `scope` (which must belong to the owning isolate).
    pub(crate) fn local<'s>(
        &self,
        scope: &mut v8::PinScope<'s, '_>,
    ) -> Result<v8::Local<'s, v8::Value>> {
        let g = self.inner.value.lock().unwrap_or_else(|e| e.into_inner());
        let g = g.as_ref().ok_or(Error::Released("reference"))?;
        Ok(v8::Local::new(scope, g))
    }

    /// Runs `f` with the value, in the context it was created in (or the utility one).
    fn with_value<R: Send>(
        &self,
        timeout: Option<std::time::Duration>,
        f: impl for<'s, 'i> FnOnce(&mut v8::PinScope<'s, 'i>, v8::Local<'s, v8::Value>) -> Result<R>
        + Send,
    ) -> Result<R> {
        if self.inner.released.load(Ordering::Acquire) {
            return Err(Error::Released("reference"));
        }
        let isolate = &self.inner.isolate;
        isolate.enter(timeout, |iso| {
            v8::scope!(let scope, iso);
            let utility = isolate.utility_context(scope);
            let scope = &mut v8::ContextScope::new(scope, utility);
            let value = {
                let g = self.inner.value.lock().unwrap_or_else(|e| e.into_inner());
                let g = g.as_ref().ok_or(Error::Released("reference"))?;
                v8::Local::new(scope, g)
            };
            let context = v8::Local::<v8::Object>::try_from(value)
                .ok()
                .and_then(|o| o.get_creation_context(scope))
                .unwrap_or(utility);
            let scope = &mut v8::ContextScope::new(scope, context);
            f(scope, value)
        })
    }

    fn object<'s>(v: v8::Local<'s, v8::Value>) -> Result<v8::Local<'s, v8::Object>> {
        v8::Local::<v8::Object>::try_from(v)
            .map_err(|_| Error::WrongKind("the referenced value is not an object".into()))
    }

    fn start_get(&self, key: Value, options: &PropertyOptions) -> Result<Outcome> {
        let r = self.get_with(&key, options);
        engine_api::drop_values([key]);
        r
    }

    fn get_with(&self, key: &Value, options: &PropertyOptions) -> Result<Outcome> {
        let inherit = self.inherit;
        self.with_value(None, |scope, value| {
            v8::tc_scope!(let tc, scope);
            let obj = Self::object(value)?;
            let key = convert::from_value(tc, key)?;
            let key = or_caught!(tc, properties::name(tc, key))?;
            let result = if options.accessors {
                obj.get(tc, key.into()).ok_or_else(crate::empty)
            } else {
                properties::get(tc, obj, key, inherit)
            };
            let result = or_caught!(tc, result)?;
            finish!(tc, result, &options.transfer, Fallback::Reference)
        })
    }

    fn start_apply(
        &self,
        receiver: Value,
        args: Vec<Value>,
        options: &ApplyOptions,
    ) -> Result<Outcome> {
        let r = self.apply_with(&receiver, &args, options);
        engine_api::drop_values(args.into_iter().chain([receiver]));
        r
    }

    fn apply_with(
        &self,
        receiver: &Value,
        args: &[Value],
        options: &ApplyOptions,
    ) -> Result<Outcome> {
        self.with_value(options.timeout, |scope, value| {
            v8::tc_scope!(let tc, scope);
            let func = v8::Local::<v8::Function>::try_from(value)
                .map_err(|_| Error::WrongKind("the referenced value is not a function".into()))?;
            let recv = convert::from_value(tc, receiver)?;
            let mut locals = Vec::with_capacity(args.len());
            for a in args {
                locals.push(convert::from_value(tc, a)?);
            }
            let Some(result) = func.call(tc, recv, &locals) else {
                return Err(caught!(tc));
            };
            finish!(tc, result, &options.result, Fallback::Reference)
        })
    }
}

impl engine_api::Reference for V8Reference {
    type Backend = crate::V8;

    fn isolate(&self) -> V8Isolate {
        self.inner.isolate.clone()
    }

    fn type_of(&self) -> Result<TypeOf> {
        self.with_value(None, |_scope, v| {
            Ok(if v.is_undefined() {
                TypeOf::Undefined
            } else if v.is_null() {
                TypeOf::Null
            } else if v.is_boolean() {
                TypeOf::Boolean
            } else if v.is_number() {
                TypeOf::Number
            } else if v.is_big_int() {
                TypeOf::BigInt
            } else if v.is_string() {
                TypeOf::String
            } else if v.is_symbol() {
                TypeOf::Symbol
            } else if v.is_function() {
                TypeOf::Function
            } else {
                TypeOf::Object
            })
        })
    }

    fn get(&self, key: Value, options: impl Into<PropertyOptions>) -> Result<Value> {
        let outcome = self.start_get(key, &options.into())?;
        pending::wait(self.inner.isolate.core(), outcome, None)
    }

    fn set(&self, key: Value, value: Value, options: impl Into<PropertyOptions>) -> Result<bool> {
        let accessors = options.into().accessors;
        let (k, v) = (&key, &value);
        let r = self.with_value(None, |scope, target| {
            v8::tc_scope!(let tc, scope);
            let obj = Self::object(target)?;
            let key = convert::from_value(tc, k)?;
            let key = or_caught!(tc, properties::name(tc, key))?;
            let value = convert::from_value(tc, v)?;
            let ok = if accessors {
                properties::set_with_accessors(tc, obj, key, value)
            } else {
                properties::set(tc, obj, key, value)
            };
            or_caught!(tc, ok)
        });
        engine_api::drop_values([key, value]);
        r
    }

    fn delete(&self, key: Value) -> Result<bool> {
        let k = &key;
        let r = self.with_value(None, |scope, target| {
            v8::tc_scope!(let tc, scope);
            let obj = Self::object(target)?;
            let key = convert::from_value(tc, k)?;
            let key = or_caught!(tc, properties::name(tc, key))?;
            or_caught!(tc, properties::delete(tc, obj, key))
        });
        engine_api::drop_values([key]);
        r
    }

    fn inheriting(&self) -> Self {
        V8Reference {
            inner: self.inner.clone(),
            inherit: true,
        }
    }

    fn apply(&self, receiver: Value, args: Vec<Value>, options: &ApplyOptions) -> Result<Value> {
        let deadline = options.timeout.and_then(crate::deadline);
        let outcome = self.start_apply(receiver, args, options)?;
        pending::wait(self.inner.isolate.core(), outcome, deadline)
    }

    fn copy(&self) -> Result<Value> {
        self.with_value(None, |scope, v| {
            v8::tc_scope!(let tc, scope);
            match convert::copy(tc, v) {
                Err(e) if crate::is_empty(&e) && tc.has_caught() => Err(caught!(tc)),
                other => other,
            }
        })
    }

    fn release(&self) {
        self.inner.released.store(true, Ordering::Release);
        let g = self
            .inner
            .value
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(g);
        self.inner.count.release();
    }

    fn is_released(&self) -> bool {
        self.inner.released.load(Ordering::Acquire) || self.inner.isolate.core().is_disposed()
    }

    fn get_async(&self, key: Value, options: impl Into<PropertyOptions>) -> Task<Value> {
        let options = options.into();
        let (task, completer) = Task::pending();
        let this = self.clone();
        let queue = &self.inner.isolate.core().queue;
        queue.spawn_with(completer, move |completer| {
            let outcome = this.start_get(key, &options);
            pending::complete(this.inner.isolate.core(), outcome, completer);
        });
        task
    }

    fn apply_async(&self, receiver: Value, args: Vec<Value>, options: ApplyOptions) -> Task<Value> {
        let (task, completer) = Task::pending();
        let this = self.clone();
        let queue = &self.inner.isolate.core().queue;
        queue.spawn_with(completer, move |completer| {
            let outcome = this.start_apply(receiver, args, &options);
            pending::complete(this.inner.isolate.core(), outcome, completer);
        });
        task
    }
}
