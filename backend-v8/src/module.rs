//! ES modules: compile, link (the resolver runs outside the isolate lock), evaluate.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use engine_api::{Error, Resolver, Result, RunOptions, ScriptOptions, Task, Value};

use crate::convert::Fallback;
use crate::handle_count::HandleCount;
use crate::pending::{self, Outcome};
use crate::script::{origin, unwrap_cache, wrap_cache};
use crate::{V8Context, V8Isolate, V8Reference};

thread_local! {
    /// The links of the graph being instantiated: (referrer hash, specifier) -> module.
    static LINKS: RefCell<HashMap<(i32, String), v8::Global<v8::Module>>> =
        RefCell::new(HashMap::new());
}

struct ModuleInner {
    module: Mutex<Option<v8::Global<v8::Module>>>,
    hash: i32,
    specifiers: Vec<String>,
    context: Mutex<Option<V8Context>>,
    outcome: Mutex<Option<Result<Value>>>,
    cache: CodeCache,
    isolate: V8Isolate,
    count: HandleCount,
    /// Keeps this module's `import.meta` entry (see `import_meta`), if it has a meta.
    _meta: Option<Arc<()>>,
}

/// A compiled ES module.
#[derive(Clone)]
pub struct V8Module {
    inner: Arc<ModuleInner>,
}

impl std::fmt::Debug for V8Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V8Module")
            .field("specifiers", &self.inner.specifiers)
            .finish_non_exhaustive()
    }
}

/// The code cache a compile made, and whether V8 rejected the one it was given.
struct CodeCache {
    produced: Option<Arc<[u8]>>,
    rejected: Option<bool>,
}

type Compiled = (
    v8::Global<v8::Module>,
    i32,
    Vec<String>,
    CodeCache,
    Option<Arc<()>>,
);

impl V8Module {
    pub(crate) fn compile(
        isolate: &V8Isolate,
        code: &str,
        options: &ScriptOptions,
    ) -> Result<Self> {
        options.check_for_module()?;
        let this = isolate.clone();
        let (module, hash, specifiers, cache, meta) =
            isolate.enter(None, |iso| -> Result<Compiled> {
                v8::scope!(let scope, iso);
                let context = this.utility_context(scope);
                let scope = &mut v8::ContextScope::new(scope, context);
                v8::tc_scope!(let tc, scope);
                let text = crate::source_limit::source(tc, code)?;
                let origin = origin(tc, &options.origin, true);
                // As for scripts: a cache of other code or another V8 is rejected before V8 sees it.
                let payload = options.cached_data.as_ref().map(|d| unwrap_cache(d, code));
                let (mut source, compile_options) =
                    crate::script::cached_source(text, &origin, payload.flatten());
                let Some(module) = v8::script_compiler::compile_module2(
                    tc,
                    &mut source,
                    compile_options,
                    v8::script_compiler::NoCacheReason::NoReason,
                ) else {
                    return Err(caught!(tc));
                };
                let rejected = match payload {
                    None => None,
                    Some(None) => Some(true),
                    Some(Some(_)) => Some(source.get_cached_data().is_none_or(|c| c.rejected())),
                };
                let produced = if options.produce_cached_data {
                    module
                        .get_unbound_module_script(tc)
                        .create_code_cache()
                        .map(|c| wrap_cache(&c, code))
                } else {
                    None
                };
                let requests = module.get_module_requests();
                let mut specifiers = Vec::with_capacity(requests.length());
                for i in 0..requests.length() {
                    let Some(data) = requests.get(tc, i) else {
                        continue;
                    };
                    if let Ok(req) = v8::Local::<v8::ModuleRequest>::try_from(data) {
                        specifiers.push(req.get_specifier().to_rust_string_lossy(tc));
                    }
                }
                let hash = module.get_identity_hash().get();
                let cache = CodeCache { produced, rejected };
                let meta = options
                    .meta
                    .clone()
                    .map(|m| crate::import_meta::remember(tc, module, m));
                Ok((v8::Global::new(tc, module), hash, specifiers, cache, meta))
            })?;
        Ok(V8Module {
            inner: Arc::new(ModuleInner {
                module: Mutex::new(Some(module)),
                hash,
                specifiers,
                context: Mutex::new(None),
                outcome: Mutex::new(None),
                cache,
                isolate: isolate.clone(),
                count: HandleCount::new(isolate.core()),
                _meta: meta,
            }),
        })
    }

    fn global(&self) -> Result<std::sync::MutexGuard<'_, Option<v8::Global<v8::Module>>>> {
        let g = self.inner.module.lock().unwrap_or_else(|e| e.into_inner());
        if g.is_none() {
            return Err(Error::Released("module"));
        }
        Ok(g)
    }

    fn check_live(&self) -> Result<()> {
        self.global().map(drop)
    }

    fn context(&self) -> Option<V8Context> {
        self.inner
            .context
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_context(&self, context: &V8Context) {
        let mut c = self.inner.context.lock().unwrap_or_else(|e| e.into_inner());
        if c.is_none() {
            *c = Some(context.clone());
        }
    }

    fn same_isolate(&self, other: &V8Isolate) -> bool {
        self.inner.isolate.core().id == other.core().id
    }

    fn start_evaluate(&self, options: &RunOptions) -> Result<Outcome> {
        let context = self.context().ok_or(Error::NotInstantiated)?;
        context.run_in(options.timeout, |scope| {
            v8::tc_scope!(let tc, scope);
            let module = {
                let g = self.global()?;
                v8::Local::new(tc, g.as_ref().ok_or(Error::Released("module"))?)
            };
            let Some(result) = module.evaluate(tc) else {
                return Err(caught!(tc));
            };
            tc.perform_microtask_checkpoint();
            if tc.has_terminated() || tc.is_execution_terminating() {
                return Err(crate::empty());
            }
            if module.get_status() == v8::ModuleStatus::Errored {
                let exc = module.get_exception();
                return Err(crate::errors::thrown(tc, exc, None));
            }
            if let Some(e) = crate::rejections::take(tc) {
                return Err(e);
            }
            if !options.result.promise {
                return Ok(Outcome::Ready(Value::Undefined));
            }
            // The evaluation promise resolves to undefined once top-level await settles.
            finish!(tc, result, &options.result, Fallback::Undefined)
        })
    }

    fn record(&self, r: Result<Value>) -> Result<Value> {
        // Not an outcome of the module: it may still be instantiated and evaluated.
        if matches!(r, Err(Error::NotInstantiated)) {
            return r;
        }
        let mut o = self.inner.outcome.lock().unwrap_or_else(|e| e.into_inner());
        o.get_or_insert(r).clone()
    }
}

fn resolve<'s>(
    context: v8::Local<'s, v8::Context>,
    specifier: v8::Local<'s, v8::String>,
    _attributes: v8::Local<'s, v8::FixedArray>,
    referrer: v8::Local<'s, v8::Module>,
) -> Option<v8::Local<'s, v8::Module>> {
    v8::callback_scope!(unsafe scope, context);
    let spec = specifier.to_rust_string_lossy(scope);
    let key = (referrer.get_identity_hash().get(), spec);
    let found = LINKS.with(|l| l.borrow().get(&key).map(|g| v8::Local::new(scope, g)));
    if found.is_none() {
        let msg = v8::String::new(scope, &format!("cannot resolve module {:?}", key.1));
        if let Some(msg) = msg {
            let exc = v8::Exception::error(scope, msg);
            scope.throw_exception(exc);
        }
    }
    found
}

impl engine_api::Module for V8Module {
    type Backend = crate::V8;

    fn isolate(&self) -> V8Isolate {
        self.inner.isolate.clone()
    }

    fn dependency_specifiers(&self) -> Result<Vec<String>> {
        self.check_live()?;
        Ok(self.inner.specifiers.clone())
    }

    fn instantiate(&self, context: &V8Context, resolver: &mut Resolver<'_, Self>) -> Result<()> {
        if !self.same_isolate(context.isolate_ref()) {
            return Err(Error::WrongIsolate);
        }
        self.check_live()?;
        if self.context().is_some() {
            return Ok(());
        }
        // Resolve the whole graph first, outside the isolate lock, so the resolver may
        // compile modules or block.
        let mut links: Vec<((i32, String), V8Module)> = Vec::new();
        let mut seen: Vec<V8Module> = vec![self.clone()];
        let mut todo = vec![self.clone()];
        while let Some(m) = todo.pop() {
            for spec in &m.inner.specifiers {
                let dep = resolver(spec, &m)?;
                if !dep.same_isolate(&self.inner.isolate) {
                    return Err(Error::WrongIsolate);
                }
                dep.check_live()?;
                links.push(((m.inner.hash, spec.clone()), dep.clone()));
                if dep.context().is_none()
                    && !seen.iter().any(|s| Arc::ptr_eq(&s.inner, &dep.inner))
                {
                    seen.push(dep.clone());
                    todo.push(dep);
                }
            }
        }
        context.run_in(None, |scope| {
            let mut map = HashMap::new();
            for (key, dep) in &links {
                let g = dep.global()?;
                let local = v8::Local::new(scope, g.as_ref().ok_or(Error::Released("module"))?);
                map.insert(key.clone(), v8::Global::new(scope, local));
            }
            LINKS.with(|l| *l.borrow_mut() = map);
            v8::tc_scope!(let tc, scope);
            let module = {
                let g = self.global()?;
                v8::Local::new(tc, g.as_ref().ok_or(Error::Released("module"))?)
            };
            let ok = module.instantiate_module(tc, resolve);
            LINKS.with(|l| l.borrow_mut().clear());
            match ok {
                Some(true) => Ok(()),
                _ => Err(caught!(tc)),
            }
        })?;
        for m in &seen {
            m.set_context(context);
        }
        Ok(())
    }

    fn evaluate(&self, options: &RunOptions) -> Result<Value> {
        if let Some(first) = self
            .inner
            .outcome
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            return first;
        }
        let deadline = options.timeout.and_then(crate::deadline);
        let r = self
            .start_evaluate(options)
            .and_then(|o| pending::wait(self.inner.isolate.core(), o, deadline));
        self.record(r)
    }

    fn cached_data(&self) -> Option<Arc<[u8]>> {
        self.inner.cache.produced.clone()
    }

    fn cached_data_rejected(&self) -> Option<bool> {
        self.inner.cache.rejected
    }

    fn namespace(&self) -> Result<V8Reference> {
        let context = self.context().ok_or(Error::NotInstantiated)?;
        let isolate = self.inner.isolate.clone();
        context.run_in(None, |scope| {
            let module = {
                let g = self.global()?;
                v8::Local::new(scope, g.as_ref().ok_or(Error::Released("module"))?)
            };
            let ns = module.get_module_namespace();
            Ok(V8Reference::new(&isolate, v8::Global::new(scope, ns)))
        })
    }

    fn release(&self) {
        let g = self
            .inner
            .module
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(g);
        self.inner.count.release();
    }

    fn evaluate_async(&self, options: RunOptions) -> Task<Value> {
        let (task, completer) = Task::pending();
        let this = self.clone();
        let queue = &self.inner.isolate.core().queue;
        queue.spawn_with(completer, move |completer| {
            let first = this
                .inner
                .outcome
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if let Some(first) = first {
                completer.complete(first);
                return;
            }
            let outcome = this.start_evaluate(&options);
            let recorder = this.clone();
            let (inner_task, inner) = Task::pending();
            pending::complete(this.inner.isolate.core(), outcome, inner);
            engine_api::spawn_detached(move || {
                completer.complete(recorder.record(inner_task.wait()))
            });
        });
        task
    }
}
