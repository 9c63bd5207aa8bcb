//! Compiled scripts (context-independent), with code cache.

use std::sync::{Arc, Mutex};

use engine_api::{Error, Result, RunOptions, ScriptOptions, ScriptOrigin, Task, Value};

use crate::convert::Fallback;
use crate::handle_count::HandleCount;
use crate::pending::{self, Outcome};
use crate::{V8Context, V8Isolate};

/// A V8 script origin for `o`.
pub(crate) fn origin<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    o: &ScriptOrigin,
    is_module: bool,
) -> v8::ScriptOrigin<'s> {
    let name = o.filename.as_deref().unwrap_or("<eval>");
    let name: v8::Local<v8::Value> = match v8::String::new(scope, name) {
        Some(s) => s.into(),
        None => v8::undefined(scope).into(),
    };
    v8::ScriptOrigin::new(
        scope,
        name,
        o.line_offset,
        o.column_offset,
        false,
        -1,
        None,
        false,
        false,
        is_module,
        None,
    )
}

/// Our code cache header: magic, V8's cache version tag, a hash of the source, a hash of
/// V8's payload (release builds of V8 do not verify their own checksum, so a corrupt
/// payload would reach its deserializer).
const CACHE_MAGIC: &[u8; 4] = b"IVC2";
const CACHE_HEADER: usize = 24;

fn fnv1a(bytes: &[u8]) -> u64 {
    // FNV-1a: stable across processes and Rust versions.
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

pub(crate) fn wrap_cache(payload: &[u8], code: &str) -> Arc<[u8]> {
    let mut out = Vec::with_capacity(CACHE_HEADER + payload.len());
    out.extend_from_slice(CACHE_MAGIC);
    out.extend_from_slice(&v8::script_compiler::cached_data_version_tag().to_le_bytes());
    out.extend_from_slice(&fnv1a(code.as_bytes()).to_le_bytes());
    out.extend_from_slice(&fnv1a(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out.into()
}

/// V8's part of a cache made by `wrap_cache` for this `code`, if it is one, intact.
pub(crate) fn unwrap_cache<'a>(data: &'a [u8], code: &str) -> Option<&'a [u8]> {
    if data.len() <= CACHE_HEADER || &data[..4] != CACHE_MAGIC {
        return None;
    }
    let tag = u32::from_le_bytes(data[4..8].try_into().ok()?);
    let source = u64::from_le_bytes(data[8..16].try_into().ok()?);
    let sum = u64::from_le_bytes(data[16..24].try_into().ok()?);
    let payload = &data[CACHE_HEADER..];
    (tag == v8::script_compiler::cached_data_version_tag()
        && source == fnv1a(code.as_bytes())
        && sum == fnv1a(payload))
    .then_some(payload)
}

struct ScriptInner {
    script: Mutex<Option<v8::Global<v8::UnboundScript>>>,
    isolate: V8Isolate,
    cached_data: Option<Arc<[u8]>>,
    rejected: Option<bool>,
    count: HandleCount,
}

/// A compiled script; it runs in any context of its isolate.
#[derive(Clone)]
pub struct V8Script {
    inner: Arc<ScriptInner>,
}

impl std::fmt::Debug for V8Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V8Script").finish_non_exhaustive()
    }
}

type Compiled = (
    v8::Global<v8::UnboundScript>,
    Option<Arc<[u8]>>,
    Option<bool>,
);

impl V8Script {
    pub(crate) fn compile(
        isolate: &V8Isolate,
        code: &str,
        options: &ScriptOptions,
    ) -> Result<Self> {
        options.check_for_script()?;
        let this = isolate.clone();
        let (script, cached_data, rejected) = isolate.enter(None, |iso| -> Result<Compiled> {
            v8::scope!(let scope, iso);
            let context = this.utility_context(scope);
            let scope = &mut v8::ContextScope::new(scope, context);
            v8::tc_scope!(let tc, scope);
            let text = crate::source_limit::source(tc, code)?;
            let origin = origin(tc, &options.origin, false);
            // A cache for other code or another V8 is rejected here: V8 itself would not look
            // at it when its in-isolate compilation cache already has the script.
            let payload = options.cached_data.as_ref().map(|d| unwrap_cache(d, code));
            let (mut source, compile_options) = cached_source(text, &origin, payload.flatten());
            let Some(unbound) = v8::script_compiler::compile_unbound_script(
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
                unbound.create_code_cache().map(|c| wrap_cache(&c, code))
            } else {
                None
            };
            Ok((v8::Global::new(tc, unbound), produced, rejected))
        })?;
        Ok(V8Script {
            inner: Arc::new(ScriptInner {
                script: Mutex::new(Some(script)),
                isolate: isolate.clone(),
                cached_data,
                rejected,
                count: HandleCount::new(isolate.core()),
            }),
        })
    }

    fn start_run(&self, context: &V8Context, options: &RunOptions) -> Result<Outcome> {
        if context.isolate_ref().core().id != self.inner.isolate.core().id {
            return Err(Error::WrongIsolate);
        }
        let outcome = context.run_in(options.timeout, |scope| {
            v8::tc_scope!(let tc, scope);
            let unbound = {
                let g = self.inner.script.lock().unwrap_or_else(|e| e.into_inner());
                let g = g.as_ref().ok_or(Error::Released("script"))?;
                v8::Local::new(tc, g)
            };
            let script = unbound.bind_to_current_context(tc);
            let Some(result) = script.run(tc) else {
                return Err(caught!(tc));
            };
            finish!(tc, result, &options.result, Fallback::Undefined)
        });
        if options.release {
            engine_api::Script::release(self);
        }
        outcome
    }
}

impl engine_api::Script for V8Script {
    type Backend = crate::V8;

    fn isolate(&self) -> V8Isolate {
        self.inner.isolate.clone()
    }

    fn run(&self, context: &V8Context, options: &RunOptions) -> Result<Value> {
        let d = options.timeout.and_then(crate::deadline);
        let outcome = self.start_run(context, options)?;
        pending::wait(self.inner.isolate.core(), outcome, d)
    }

    fn cached_data(&self) -> Option<Arc<[u8]>> {
        self.inner.cached_data.clone()
    }

    fn cached_data_rejected(&self) -> Option<bool> {
        self.inner.rejected
    }

    fn release(&self) {
        let g = self
            .inner
            .script
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(g);
        self.inner.count.release();
    }

    fn run_async(&self, context: &V8Context, options: RunOptions) -> Task<Value> {
        let (task, completer) = Task::pending();
        let (this, context) = (self.clone(), context.clone());
        let queue = &self.inner.isolate.core().queue;
        queue.spawn_with(completer, move |completer| {
            let outcome = this.start_run(&context, &options);
            pending::complete(this.inner.isolate.core(), outcome, completer);
        });
        task
    }
}

/// A source to compile, consuming `cache` (a payload [`unwrap_cache`] accepted) when there
/// is one; shared by scripts and modules.
pub(crate) fn cached_source<'s>(
    text: v8::Local<'s, v8::String>,
    origin: &v8::ScriptOrigin<'s>,
    cache: Option<&[u8]>,
) -> (
    v8::script_compiler::Source,
    v8::script_compiler::CompileOptions,
) {
    match cache {
        Some(data) => (
            v8::script_compiler::Source::new_with_cached_data(
                text,
                Some(origin),
                v8::CachedData::new(data),
            ),
            v8::script_compiler::CompileOptions::ConsumeCodeCache,
        ),
        None => (
            v8::script_compiler::Source::new(text, Some(origin)),
            v8::script_compiler::CompileOptions::NoCompileOptions,
        ),
    }
}
