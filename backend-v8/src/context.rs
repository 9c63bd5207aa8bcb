//! Contexts: a realm with its own globals and the guest-side `ivm` API.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use engine_api::{Error, EvalOptions, Result, Task, Value};

use crate::convert::{self, Fallback};
use crate::handle_count::HandleCount;
use crate::pending::{self, Outcome};
use crate::script::origin;
use crate::{V8Isolate, V8Reference, ivm};

struct ContextInner {
    context: Mutex<Option<v8::Global<v8::Context>>>,
    isolate: V8Isolate,
    count: HandleCount,
}

/// A context (realm) inside a [`V8Isolate`].
#[derive(Clone)]
pub struct V8Context {
    inner: Arc<ContextInner>,
}

impl std::fmt::Debug for V8Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V8Context").finish_non_exhaustive()
    }
}

impl V8Context {
    pub(crate) fn create(isolate: &V8Isolate) -> Result<Self> {
        let global = isolate.enter(None, |iso| {
            v8::scope!(let scope, iso);
            let context = v8::Context::new(scope, Default::default());
            let scope = &mut v8::ContextScope::new(scope, context);
            ivm::install(scope)?;
            Ok(v8::Global::new(scope, context))
        })?;
        Ok(Self::from_global(isolate, global))
    }

    pub(crate) fn from_global(isolate: &V8Isolate, global: v8::Global<v8::Context>) -> Self {
        V8Context {
            inner: Arc::new(ContextInner {
                context: Mutex::new(Some(global)),
                isolate: isolate.clone(),
                count: HandleCount::new(isolate.core()),
            }),
        }
    }

    pub(crate) fn isolate_ref(&self) -> &V8Isolate {
        &self.inner.isolate
    }

    /// Runs `f` inside this context, with the isolate locked.
    pub(crate) fn run_in<R: Send>(
        &self,
        timeout: Option<Duration>,
        f: impl FnOnce(&mut v8::PinScope<'_, '_>) -> Result<R> + Send,
    ) -> Result<R> {
        self.inner.isolate.enter(timeout, |iso| {
            v8::scope!(let scope, iso);
            let context = {
                let g = self.inner.context.lock().unwrap_or_else(|e| e.into_inner());
                let g = g.as_ref().ok_or(Error::Released("context"))?;
                v8::Local::new(scope, g)
            };
            let scope = &mut v8::ContextScope::new(scope, context);
            f(scope)
        })
    }

    fn start_eval(&self, code: &str, options: &EvalOptions) -> Result<Outcome> {
        self.run_in(options.timeout, |scope| {
            v8::tc_scope!(let tc, scope);
            let source = crate::source_limit::source(tc, code)?;
            let origin = origin(tc, &options.origin, false);
            let Some(script) = v8::Script::compile(tc, source, Some(&origin)) else {
                return Err(caught!(tc));
            };
            let Some(result) = script.run(tc) else {
                return Err(caught!(tc));
            };
            finish!(tc, result, &options.result, Fallback::Undefined)
        })
    }

    fn start_eval_closure(
        &self,
        code: &str,
        args: Vec<Value>,
        options: &EvalOptions,
    ) -> Result<Outcome> {
        let r = self.eval_closure_with(code, &args, options);
        engine_api::drop_values(args);
        r
    }

    fn eval_closure_with(
        &self,
        code: &str,
        args: &[Value],
        options: &EvalOptions,
    ) -> Result<Outcome> {
        self.run_in(options.timeout, |scope| {
            v8::tc_scope!(let tc, scope);
            let mut locals = Vec::with_capacity(args.len());
            for a in args {
                // `{ arguments: { reference: true } }` passes host functions as references.
                let local = match a {
                    Value::Callback(cb) if options.arguments.reference => {
                        convert::from_value(tc, &Value::Reference(cb.clone().into_reference()))?
                    }
                    other => convert::from_value(tc, other)?,
                };
                locals.push(local);
            }
            let mut params = Vec::with_capacity(locals.len());
            for i in 0..locals.len() {
                let name = v8::String::new(tc, &format!("${i}"))
                    .ok_or_else(|| Error::InvalidArgument("too many arguments".into()))?;
                params.push(name);
            }
            let source = crate::source_limit::source(tc, code)?;
            let origin = origin(tc, &options.origin, false);
            let mut source = v8::script_compiler::Source::new(source, Some(&origin));
            let Some(func) = v8::script_compiler::compile_function(
                tc,
                &mut source,
                &params,
                &[],
                v8::script_compiler::CompileOptions::NoCompileOptions,
                v8::script_compiler::NoCacheReason::NoReason,
            ) else {
                return Err(caught!(tc));
            };
            let recv = v8::undefined(tc).into();
            let Some(result) = func.call(tc, recv, &locals) else {
                return Err(caught!(tc));
            };
            finish!(tc, result, &options.result, Fallback::Undefined)
        })
    }
}

impl engine_api::Context for V8Context {
    type Backend = crate::V8;

    fn isolate(&self) -> V8Isolate {
        self.inner.isolate.clone()
    }

    fn global(&self) -> Result<V8Reference> {
        let isolate = self.inner.isolate.clone();
        self.run_in(None, |scope| {
            let context = scope.get_current_context();
            let global = context.global(scope);
            let value: v8::Local<v8::Value> = global.into();
            let g = v8::Global::new(scope, value);
            Ok(V8Reference::new(&isolate, g))
        })
    }

    fn eval(&self, code: &str, options: &EvalOptions) -> Result<Value> {
        let d = options.timeout.and_then(crate::deadline);
        let outcome = self.start_eval(code, options)?;
        pending::wait(self.inner.isolate.core(), outcome, d)
    }

    fn eval_closure(&self, code: &str, args: Vec<Value>, options: &EvalOptions) -> Result<Value> {
        let d = options.timeout.and_then(crate::deadline);
        let outcome = self.start_eval_closure(code, args, options)?;
        pending::wait(self.inner.isolate.core(), outcome, d)
    }

    fn release(&self) {
        let g = self
            .inner
            .context
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(g);
        self.inner.count.release();
    }

    fn eval_async(&self, code: impl Into<String>, options: EvalOptions) -> Task<Value> {
        let (task, completer) = Task::pending();
        let (this, code) = (self.clone(), code.into());
        let queue = &self.inner.isolate.core().queue;
        queue.spawn_with(completer, move |completer| {
            let outcome = this.start_eval(&code, &options);
            pending::complete(this.inner.isolate.core(), outcome, completer);
        });
        task
    }

    fn eval_closure_async(
        &self,
        code: impl Into<String>,
        args: Vec<Value>,
        options: EvalOptions,
    ) -> Task<Value> {
        let (task, completer) = Task::pending();
        let (this, code) = (self.clone(), code.into());
        let queue = &self.inner.isolate.core().queue;
        queue.spawn_with(completer, move |completer| {
            let outcome = this.start_eval_closure(&code, args, &options);
            pending::complete(this.inner.isolate.core(), outcome, completer);
        });
        task
    }
}
