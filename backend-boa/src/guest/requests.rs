//! One function per [`Request`].

use boa_engine::{Context, JsValue, Script, realm::Realm};

use engine_api::abi::{GuestError, Handle, Origin, Request, Response, Transfer, WireValue};

use super::handles::{self, Entry};
use super::runtime::{self, Shared};
use super::script_entry::ScriptEntry;
use super::source::{check_nesting, pad, source};
use super::{alloc, convert, errors, host, modules, properties};

/// Handles one request.
pub fn handle(ctx: &mut Context, shared: &Shared, request: Request) -> Response {
    let _request = super::rejections::request();
    // Safe points: what earlier requests dropped is given back before this one allocates,
    // and what this one dropped (its arguments, say) before the next.
    alloc::collect_if_pressed();
    let response = match dispatch(ctx, shared, request) {
        Ok(r) => r,
        Err(e) => Response::Error(e),
    };
    alloc::collect_if_pressed();
    response
}

fn dispatch(ctx: &mut Context, shared: &Shared, request: Request) -> Result<Response, GuestError> {
    match request {
        Request::CreateContext => {
            let spare = shared.spare_realm.borrow_mut().take();
            let realm = match spare {
                Some(r) => r,
                None => super::realm::create(ctx, &shared.uri_functions)
                    .map_err(|e| errors::from_js(e, None, ctx))?,
            };
            Ok(Response::Handle(handles::insert(Entry::Context(realm))))
        }
        Request::Release { handle } => {
            if let Entry::Context(realm) = handles::remove(handle)? {
                // What a released realm held is garbage (often far more than the collector
                // counts): give it back before anything else. Released from a host
                // callback, while guest code runs (maybe the realm's own), it keeps them.
                if ctx.stack_trace().next().is_none() {
                    super::realm::scrub(ctx, &realm);
                }
                drop(realm);
                alloc::collect();
            }
            Ok(Response::Ok)
        }
        Request::Global { context } => {
            let realm = handles::context(context)?;
            let global = runtime::in_realm(ctx, &realm, |ctx| ctx.global_object());
            Ok(Response::Handle(handles::insert(Entry::Value(
                global.into(),
                realm,
            ))))
        }
        Request::Eval {
            context,
            code,
            origin,
            result,
        } => {
            let realm = handles::context(context)?;
            check_nesting(&code, &origin)?;
            runtime::in_realm(ctx, &realm, |ctx| {
                let padded = pad(&code, &origin);
                let out = ctx.eval(source(&padded, &origin));
                finish(out, &origin, Some(&padded), result, ctx)
            })
        }
        Request::EvalClosure {
            context,
            code,
            args,
            origin,
            result,
        } => {
            let realm = handles::context(context)?;
            runtime::in_realm(ctx, &realm, |ctx| {
                eval_closure(&code, args, &origin, result, ctx)
            })
        }
        Request::CompileScript { code, origin } => {
            check_nesting(&code, &origin)?;
            let padded = pad(&code, &origin);
            let script = Script::parse(source(&padded, &origin), None, ctx)
                .map_err(|e| errors::from_js(e, Some(&origin.filename), ctx))?;
            let realm = ctx.realm().clone();
            let entry = ScriptEntry {
                code,
                origin,
                parsed: vec![(realm, script)],
            };
            Ok(Response::Handle(handles::insert(Entry::Script(entry))))
        }
        Request::RunScript {
            script,
            context,
            result,
        } => {
            let realm = handles::context(context)?;
            run_script(script, &realm, result, ctx)
        }
        Request::CompileModule { code, origin, meta } => modules::compile(code, origin, meta, ctx),
        Request::InstantiateModule {
            module,
            context,
            resolutions,
        } => {
            let realm = handles::context(context)?;
            let loader = shared.loader.clone();
            runtime::in_realm(ctx, &realm, |ctx| {
                modules::instantiate(module, &realm, resolutions, &loader, ctx)
            })
        }
        Request::EvaluateModule { module, result } => modules::evaluate(module, result, ctx),
        Request::ModuleNamespace { module } => modules::namespace(module, ctx),
        Request::TypeOf { handle } => {
            let (value, _) = handles::value(handle)?;
            Ok(Response::TypeOf(convert::type_of(&value)))
        }
        Request::Get {
            handle,
            key,
            result,
            accessors,
            inherit,
        } => {
            let (value, realm) = handles::value(handle)?;
            let value = object(&value)?;
            let inherit = inherit || handles::inherits(handle);
            runtime::in_realm(ctx, &realm, |ctx| {
                let key = convert::from_wire(key, ctx)?;
                let out = properties::get(&value, &key, accessors, inherit, ctx);
                finish(out, &Origin::default(), None, result, ctx)
            })
        }
        Request::Set {
            handle,
            key,
            value,
            accessors,
        } => {
            let (target, realm) = handles::value(handle)?;
            let target = object(&target)?;
            runtime::in_realm(ctx, &realm, |ctx| {
                let key = convert::from_wire(key, ctx)?;
                let value = convert::from_wire(value, ctx)?;
                let out = properties::set(&target, &key, value, accessors, ctx);
                runtime::run_jobs(ctx);
                out.map(Response::Bool)
                    .map_err(|e| errors::from_js(e, None, ctx))
            })
        }
        Request::Delete { handle, key } => {
            let (target, realm) = handles::value(handle)?;
            let target = object(&target)?;
            runtime::in_realm(ctx, &realm, |ctx| {
                let key = convert::from_wire(key, ctx)?;
                let out = properties::delete(&target, &key, ctx);
                runtime::run_jobs(ctx);
                out.map(Response::Bool)
                    .map_err(|e| errors::from_js(e, None, ctx))
            })
        }
        Request::Apply {
            handle,
            receiver,
            args,
            result,
        } => {
            let (target, realm) = handles::value(handle)?;
            let Some(function) = target.as_callable() else {
                return Err(wrong_kind("the referenced value is not a function"));
            };
            runtime::in_realm(ctx, &realm, |ctx| {
                let receiver = convert::from_wire(receiver, ctx)?;
                let args = args
                    .into_iter()
                    .map(|a| convert::from_wire(a, ctx))
                    .collect::<Result<Vec<_>, _>>()?;
                let out = function.call(&receiver, &args, ctx);
                finish(out, &Origin::default(), None, result, ctx)
            })
        }
        Request::Copy { handle } => {
            let (value, realm) = handles::value(handle)?;
            runtime::in_realm(ctx, &realm, |ctx| {
                convert::copy_out(&value, ctx)
                    .map(Response::Value)
                    .map_err(|e| e.into_guest(ctx))
            })
        }
        Request::SettlePromise {
            promise,
            ok,
            value,
            callback,
        } => {
            host::settle(promise, ok, value, callback, ctx)?;
            Ok(Response::Ok)
        }
        Request::HeapStatistics => Ok(Response::Heap {
            used: alloc::used(),
        }),
    }
}

/// Runs the job queue, then transfers the outcome of a call that ran JS.
/// A referenced value used as what it is not (V8 gives the same `WrongKind`).
fn wrong_kind(message: &str) -> GuestError {
    errors::guest(engine_api::abi::ErrorKind::WrongKind, "TypeError", message)
}

/// The object a reference holds; properties of primitives are not reached through one.
fn object(value: &JsValue) -> Result<boa_engine::JsObject, GuestError> {
    value
        .as_object()
        .ok_or_else(|| wrong_kind("the referenced value is not an object"))
}

fn finish(
    out: boa_engine::JsResult<JsValue>,
    origin: &Origin,
    source: Option<&str>,
    result: Transfer,
    ctx: &mut Context,
) -> Result<Response, GuestError> {
    runtime::run_jobs(ctx);
    let value = out.map_err(|e| {
        let mut e = errors::from_js(e, Some(&origin.filename), ctx);
        if let Some(source) = source {
            errors::locate(&mut e, source, origin);
        }
        e
    })?;
    if let Some(e) = super::rejections::take(ctx) {
        return Err(e);
    }
    convert::transfer_out(value, result, ctx)
}

fn eval_closure(
    code: &str,
    args: Vec<WireValue>,
    origin: &Origin,
    result: Transfer,
    ctx: &mut Context,
) -> Result<Response, GuestError> {
    check_nesting(code, origin)?;
    let params: Vec<String> = (0..args.len()).map(|i| format!("${i}")).collect();
    let head = format!("(function({}) {{", params.join(", "));
    // With a line offset, the wrapper's head goes on the line before the body so that the
    // body keeps its own line and column numbers; otherwise it shifts the first line only.
    let padded = if origin.line_offset >= 1 {
        let above = Origin {
            line_offset: origin.line_offset - 1,
            column_offset: 0,
            ..origin.clone()
        };
        let body = pad(
            code,
            &Origin {
                line_offset: 0,
                ..origin.clone()
            },
        );
        pad(&format!("{head}\n{body}\n}})"), &above).into_owned()
    } else {
        pad(&format!("{head}{code}\n}})"), origin).into_owned()
    };
    let function = ctx
        .eval(source(&padded, origin))
        .map_err(|e| errors::from_js(e, Some(&origin.filename), ctx))?;
    let args = args
        .into_iter()
        .map(|a| convert::from_wire(a, ctx))
        .collect::<Result<Vec<_>, _>>()?;
    let out = match function.as_callable() {
        Some(f) => f.call(&JsValue::undefined(), &args, ctx),
        None => {
            return Err(errors::invalid(
                "closure body did not compile to a function",
            ));
        }
    };
    finish(out, origin, Some(&padded), result, ctx)
}

fn run_script(
    handle: Handle,
    realm: &Realm,
    result: Transfer,
    ctx: &mut Context,
) -> Result<Response, GuestError> {
    let cached: Result<Script, (String, Origin)> = handles::with(handle, |e| match e {
        Entry::Script(s) => {
            let found = s.parsed.iter().find(|(r, _)| r == realm);
            Ok(match found {
                Some((_, script)) => Ok(script.clone()),
                None => Err((s.code.clone(), s.origin.clone())),
            })
        }
        other => Err(handles::wrong_kind(other, "script")),
    })?;
    runtime::in_realm(ctx, realm, |ctx| {
        let (script, origin) = match cached {
            Ok(script) => (script, None),
            Err((code, origin)) => {
                let padded = pad(&code, &origin);
                let script = Script::parse(source(&padded, &origin), None, ctx)
                    .map_err(|e| errors::from_js(e, Some(&origin.filename), ctx))?;
                let s = script.clone();
                let r = realm.clone();
                handles::with(handle, move |e| {
                    if let Entry::Script(entry) = e {
                        entry.parsed.push((r, s));
                    }
                    Ok(())
                })?;
                (script, Some(origin))
            }
        };
        let out = script.evaluate(ctx);
        let failed = out.is_err();
        let response = finish(out, &origin.unwrap_or_default(), None, result, ctx);
        match response {
            Err(mut e) if failed && e.line.is_none() => {
                let source = handles::with(handle, |entry| match entry {
                    Entry::Script(s) => {
                        Ok((pad(&s.code, &s.origin).into_owned(), s.origin.clone()))
                    }
                    other => Err(handles::wrong_kind(other, "script")),
                });
                if let Ok((padded, origin)) = source {
                    errors::locate(&mut e, &padded, &origin);
                }
                Err(e)
            }
            other => other,
        }
    })
}
