//! ES modules: specifiers, linking through a resolver, evaluation, namespaces.

use engine_api::{
    Backend, Context, Error, Isolate, Module, Reference, RunOptions, TransferOptions, Value,
};

use crate::support::{R, expect_err, expect_js, setup};
use crate::{Case, ensure, ensure_eq};

/// The module cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new("modules/dependency_specifiers", dependency_specifiers::<E>),
        Case::new("modules/no_dependencies", no_dependencies::<E>),
        Case::new("modules/link_and_evaluate", link_and_evaluate::<E>),
        Case::new("modules/namespace_exports", namespace_exports::<E>),
        Case::new("modules/diamond_graph", diamond_graph::<E>),
        Case::new("modules/resolver_error", resolver_error::<E>),
        Case::new(
            "modules/resolver_wrong_isolate",
            resolver_wrong_isolate::<E>,
        ),
        Case::new("modules/syntax_error", syntax_error::<E>),
        Case::new("modules/evaluate_throws", evaluate_throws::<E>),
        Case::new("modules/evaluate_twice_same_outcome", evaluate_twice::<E>),
        Case::new("modules/evaluate_error_twice", evaluate_error_twice::<E>),
        Case::new("modules/instantiate_twice", instantiate_twice::<E>),
        Case::new("modules/sees_context_globals", sees_context_globals::<E>),
        Case::new("modules/top_level_await", top_level_await::<E>),
    ]
}

fn dependency_specifiers<E: Backend>() -> R {
    let i = E::Isolate::new(Default::default())?;
    let m = i.compile_module(
        "import something from './something';\nimport { a } from 'lib/a';\nexport const x = 1;",
        &Default::default(),
    )?;
    ensure_eq!(
        m.dependency_specifiers()?,
        vec!["./something".to_string(), "lib/a".to_string()]
    );
    Ok(())
}

fn no_dependencies<E: Backend>() -> R {
    let i = E::Isolate::new(Default::default())?;
    let m = i.compile_module("export default 1", &Default::default())?;
    ensure!(m.dependency_specifiers()?.is_empty());
    Ok(())
}

fn no_imports<M>(spec: &str, _: &M) -> engine_api::Result<M> {
    Err(Error::InvalidArgument(format!("unexpected import {spec}")))
}

fn link_and_evaluate<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let dep = i.compile_module("export const base = 40;", &Default::default())?;
    let root = i.compile_module(
        "import { base } from './dep.js'; globalThis.answer = base + 2;",
        &Default::default(),
    )?;
    let dep2 = dep.clone();
    root.instantiate(&c, &mut |spec: &str, _referrer: &E::Module| {
        if spec == "./dep.js" {
            Ok(dep2.clone())
        } else {
            no_imports(spec, _referrer)
        }
    })?;
    root.evaluate(&RunOptions::default())?;
    ensure_eq!(crate::support::eval(&c, "answer")?, Value::from(42));
    Ok(())
}

fn namespace_exports<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let m = i.compile_module(
        "export const n = 7; export function twice(x) { return x * 2 } export default 'dflt';",
        &Default::default(),
    )?;
    m.instantiate(&c, &mut no_imports)?;
    m.evaluate(&RunOptions::default())?;
    let ns = m.namespace()?;
    ensure_eq!(
        ns.get("n".into(), &TransferOptions::default())?,
        Value::from(7)
    );
    ensure_eq!(
        ns.get("default".into(), &TransferOptions::default())?,
        Value::from("dflt")
    );
    let twice = ns.get("twice".into(), &TransferOptions::reference())?;
    let twice = twice.as_reference().ok_or("twice is not a reference")?;
    ensure_eq!(twice.type_of()?, engine_api::TypeOf::Function);
    ensure_eq!(
        twice.apply(Value::Undefined, vec![21.into()], &Default::default())?,
        Value::from(42)
    );
    Ok(())
}

fn diamond_graph<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let shared = i.compile_module(
        "globalThis.loads = (globalThis.loads || 0) + 1; export const s = 1;",
        &Default::default(),
    )?;
    let left = i.compile_module(
        "import { s } from 'shared'; export const l = s + 1;",
        &Default::default(),
    )?;
    let right = i.compile_module(
        "import { s } from 'shared'; export const r = s + 2;",
        &Default::default(),
    )?;
    let root = i.compile_module(
        "import { l } from 'left'; import { r } from 'right'; globalThis.sum = l + r;",
        &Default::default(),
    )?;
    let (s2, l2, r2) = (shared.clone(), left.clone(), right.clone());
    let mut calls = 0;
    root.instantiate(&c, &mut |spec: &str, _: &E::Module| {
        calls += 1;
        match spec {
            "shared" => Ok(s2.clone()),
            "left" => Ok(l2.clone()),
            "right" => Ok(r2.clone()),
            other => Err(Error::InvalidArgument(format!("no module {other}"))),
        }
    })?;
    ensure!(calls >= 3, "resolver called {calls} times");
    root.evaluate(&RunOptions::default())?;
    ensure_eq!(
        crate::support::eval(&c, "[sum, loads]")?,
        Value::from(vec![5, 1])
    );
    Ok(())
}

fn resolver_error<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let m = i.compile_module("import x from 'missing';", &Default::default())?;
    expect_err(
        m.instantiate(&c, &mut |_: &str, _: &E::Module| {
            Err(Error::js("Error", "cannot resolve 'missing'"))
        }),
        "the resolver's error",
        |e| matches!(e, Error::Js(j) if j.message.contains("cannot resolve")),
    )?;
    ensure_eq!(crate::support::eval(&c, "1 + 1")?, Value::from(2));
    Ok(())
}

fn resolver_wrong_isolate<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let other = E::Isolate::new(Default::default())?;
    let foreign = other.compile_module("export const y = 1;", &Default::default())?;
    let m = i.compile_module("import { y } from 'y';", &Default::default())?;
    expect_err(
        m.instantiate(&c, &mut |_: &str, _: &E::Module| Ok(foreign.clone())),
        "WrongIsolate",
        |e| matches!(e, Error::WrongIsolate),
    )?;
    Ok(())
}

fn syntax_error<E: Backend>() -> R {
    let i = E::Isolate::new(Default::default())?;
    expect_js(
        i.compile_module("export const = 1;", &Default::default()),
        "SyntaxError",
    )?;
    Ok(())
}

fn evaluate_throws<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let m = i.compile_module("throw new TypeError('module failed');", &Default::default())?;
    m.instantiate(&c, &mut no_imports)?;
    let e = expect_js(m.evaluate(&RunOptions::default()), "TypeError")?;
    ensure_eq!(e.message, "module failed");
    Ok(())
}

fn evaluate_twice<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let m = i.compile_module(
        "globalThis.runs = (globalThis.runs || 0) + 1; export {};",
        &Default::default(),
    )?;
    m.instantiate(&c, &mut no_imports)?;
    let first = m.evaluate(&RunOptions::default());
    let second = m.evaluate(&RunOptions::default());
    ensure!(first.is_ok() && second.is_ok(), "{first:?} {second:?}");
    ensure_eq!(crate::support::eval(&c, "runs")?, Value::from(1));
    Ok(())
}

fn evaluate_error_twice<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let m = i.compile_module("throw new Error('once');", &Default::default())?;
    m.instantiate(&c, &mut no_imports)?;
    let a = expect_js(m.evaluate(&RunOptions::default()), "Error")?;
    let b = expect_js(m.evaluate(&RunOptions::default()), "Error")?;
    ensure_eq!(a.message, b.message);
    Ok(())
}

fn instantiate_twice<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let m = i.compile_module("export const z = 3;", &Default::default())?;
    m.instantiate(&c, &mut no_imports)?;
    m.instantiate(&c, &mut no_imports)?;
    m.evaluate(&RunOptions::default())?;
    ensure_eq!(
        m.namespace()?.get("z".into(), &Default::default())?,
        Value::from(3)
    );
    Ok(())
}

fn sees_context_globals<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    c.eval("globalThis.injected = 'from context'", &Default::default())?;
    let m = i.compile_module("export const seen = injected;", &Default::default())?;
    m.instantiate(&c, &mut no_imports)?;
    m.evaluate(&RunOptions::default())?;
    ensure_eq!(
        m.namespace()?.get("seen".into(), &Default::default())?,
        Value::from("from context")
    );
    Ok(())
}

fn top_level_await<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let m = i.compile_module(
        "const v = await Promise.resolve(5); export const awaited = v * 2;",
        &Default::default(),
    )?;
    m.instantiate(&c, &mut no_imports)?;
    m.evaluate(&RunOptions::default())?;
    ensure_eq!(
        m.namespace()?.get("awaited".into(), &Default::default())?,
        Value::from(10)
    );
    Ok(())
}
