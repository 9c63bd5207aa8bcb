//! ES modules: compile, link from the host's resolution table, evaluate once.

use boa_engine::{
    Context, JsString, Module, Source, builtins::promise::PromiseState, parser::Parser,
    realm::Realm,
};

use engine_api::abi::{GuestError, Handle, Origin, Response, Transfer, WireValue};

use super::handles::{self, Entry};
use super::module_entry::ModuleEntry;
use super::module_loader::Loader;
use super::{convert, errors, runtime, source};

fn parse(
    code: &str,
    origin: &Origin,
    realm: Option<Realm>,
    ctx: &mut Context,
) -> Result<Module, GuestError> {
    source::check_nesting(code, origin)?;
    let padded = source::pad(code, origin);
    let src = source::source(&padded, origin);
    Module::parse(src, realm, ctx).map_err(|e| errors::from_js(e, Some(&origin.filename), ctx))
}

/// `CompileModule`.
pub fn compile(
    code: String,
    origin: Origin,
    meta: Option<WireValue>,
    ctx: &mut Context,
) -> Result<Response, GuestError> {
    let module = parse(&code, &origin, None, ctx)?;
    let specifiers = specifiers(&code, ctx);
    let handle = handles::insert(Entry::Module(ModuleEntry {
        code,
        origin,
        module,
        linked: false,
        evaluation: None,
        meta,
    }));
    Ok(Response::Module { handle, specifiers })
}

/// Static import specifiers in source order (the source parsed fine already).
fn specifiers(code: &str, ctx: &mut Context) -> Vec<String> {
    let scope = ctx.realm().scope().clone();
    let mut parser = Parser::new(Source::from_bytes(code.as_bytes()));
    let Ok(ast) = parser.parse_module(&scope, ctx.interner_mut()) else {
        return Vec::new();
    };
    let requests = ast.items().requests();
    requests
        .iter()
        .filter_map(|sym| ctx.interner().resolve(*sym).map(|s| s.to_string()))
        .collect()
}

fn module_of(handle: Handle) -> Result<(Module, bool), GuestError> {
    handles::with(handle, |e| match e {
        Entry::Module(m) => Ok((m.module.clone(), m.linked)),
        other => Err(handles::wrong_kind(other, "module")),
    })
}

/// Module `handle`, which must have been instantiated.
fn linked_module(handle: Handle) -> Result<Module, GuestError> {
    match module_of(handle)? {
        (module, true) => Ok(module),
        _ => Err(errors::guest(
            engine_api::abi::ErrorKind::Js,
            "Error",
            "module is not instantiated",
        )),
    }
}

/// Makes sure module `handle` is parsed in `realm` (re-parsing if still unlinked).
fn module_in(handle: Handle, realm: &Realm, ctx: &mut Context) -> Result<Module, GuestError> {
    let (module, linked) = module_of(handle)?;
    if linked || module.realm() == realm {
        return Ok(module);
    }
    let (code, origin) = handles::with(handle, |e| match e {
        Entry::Module(m) => Ok((m.code.clone(), m.origin.clone())),
        other => Err(handles::wrong_kind(other, "module")),
    })?;
    let module = parse(&code, &origin, Some(realm.clone()), ctx)?;
    handles::with(handle, |e| {
        if let Entry::Module(m) = e {
            m.module = module.clone();
        }
        Ok(())
    })?;
    Ok(module)
}

/// `InstantiateModule`.
pub fn instantiate(
    root: Handle,
    realm: &Realm,
    resolutions: Vec<(Handle, String, Handle)>,
    engine_loader: &Loader,
    ctx: &mut Context,
) -> Result<Response, GuestError> {
    let root_module = module_in(root, realm, ctx)?;
    let mut table = Vec::with_capacity(resolutions.len());
    let mut graph = vec![root];
    for (from, spec, to) in resolutions {
        let from_m = module_in(from, realm, ctx)?;
        let to_m = module_in(to, realm, ctx)?;
        graph.push(from);
        graph.push(to);
        table.push((from_m, JsString::from(spec.as_str()), to_m));
    }
    *engine_loader.table.borrow_mut() = table;
    let loaded = root_module.load(ctx);
    runtime::run_jobs(ctx);
    let outcome = match loaded.state() {
        PromiseState::Fulfilled(_) => root_module
            .link(ctx)
            .map_err(|e| errors::from_js(e, None, ctx)),
        PromiseState::Rejected(e) => Err(errors::from_value(&e, None, ctx)),
        PromiseState::Pending => Err(errors::guest(
            engine_api::abi::ErrorKind::Js,
            "Error",
            "module loading did not complete",
        )),
    };
    engine_loader.table.borrow_mut().clear();
    outcome?;
    for h in graph {
        let _ = handles::with(h, |e| {
            if let Entry::Module(m) = e {
                m.linked = true;
            }
            Ok(())
        });
    }
    Ok(Response::Ok)
}

/// `EvaluateModule`.
pub fn evaluate(
    handle: Handle,
    result: Transfer,
    ctx: &mut Context,
) -> Result<Response, GuestError> {
    let module = linked_module(handle)?;
    let existing = handles::with(handle, |e| match e {
        Entry::Module(m) => Ok(m.evaluation.clone()),
        other => Err(handles::wrong_kind(other, "module")),
    })?;
    let realm = module.realm().clone();
    runtime::in_realm(ctx, &realm, |ctx| {
        let promise = match existing {
            Some(p) => p,
            None => {
                let p = module
                    .evaluate(ctx)
                    .map_err(|e| errors::from_js(e, None, ctx))?;
                handles::with(handle, |e| {
                    if let Entry::Module(m) = e {
                        m.evaluation = Some(p.clone());
                    }
                    Ok(())
                })?;
                p
            }
        };
        runtime::run_jobs(ctx);
        if let PromiseState::Rejected(e) = promise.state() {
            return Err(errors::from_value(&e, None, ctx));
        }
        if let Some(e) = super::rejections::take(ctx) {
            return Err(e);
        }
        match promise.state() {
            PromiseState::Fulfilled(v) => convert::transfer_out(v, result, ctx),
            PromiseState::Rejected(e) => Err(errors::from_value(&e, None, ctx)),
            PromiseState::Pending if result.promise => {
                convert::transfer_out(promise.into(), result, ctx)
            }
            PromiseState::Pending => Ok(Response::Value(engine_api::abi::WireValue::Undefined)),
        }
    })
}

/// `ModuleNamespace`.
pub fn namespace(handle: Handle, ctx: &mut Context) -> Result<Response, GuestError> {
    let module = linked_module(handle)?;
    let realm = module.realm().clone();
    let ns = runtime::in_realm(ctx, &realm, |ctx| module.namespace(ctx));
    Ok(Response::Handle(handles::insert(Entry::Value(
        ns.into(),
        realm,
    ))))
}
