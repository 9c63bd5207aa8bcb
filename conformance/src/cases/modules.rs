//! ES modules: specifiers, linking through a resolver, evaluation, namespaces.

use std::sync::Arc;

use engine_api::{
    Backend, Capability, Context, Error, Isolate, Module, Reference, RunOptions, Script,
    ScriptOptions, TransferOptions, Value,
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
        Case::new(
            "modules/evaluate_before_instantiate",
            evaluate_before_instantiate::<E>,
        ),
        Case::new(
            "modules/evaluate_before_instantiate_error_later",
            evaluate_before_instantiate_error_later::<E>,
        ),
        Case::new(
            "modules/namespace_before_instantiate",
            namespace_before_instantiate::<E>,
        ),
        Case::new(
            "modules/instantiate_twice_after_evaluate",
            instantiate_twice_after_evaluate::<E>,
        ),
        Case::new("modules/code_cache", code_cache::<E>),
        Case::new(
            "modules/import_meta_empty_without_callback",
            import_meta_empty::<E>,
        ),
        Case::new("modules/import_meta_read_in_a_loop", import_meta_loop::<E>),
        Case::new(
            "modules/import_meta_from_options",
            import_meta_from_options::<E>,
        ),
        Case::new("modules/import_meta_refused", import_meta_refused::<E>),
        Case::new(
            "modules/code_cache_corrupt_rejected",
            code_cache_corrupt::<E>,
        ),
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

/// Evaluating an unlinked module is `NotInstantiated` and changes nothing: linking and
/// evaluating afterwards works, once.
fn evaluate_before_instantiate<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let m = i.compile_module(
        "globalThis.runs = (globalThis.runs || 0) + 1; export const v = 11;",
        &Default::default(),
    )?;
    for _ in 0..2 {
        expect_err(m.evaluate(&RunOptions::default()), "NotInstantiated", |e| {
            matches!(e, Error::NotInstantiated)
        })?;
    }
    m.instantiate(&c, &mut no_imports)?;
    m.evaluate(&RunOptions::default())?;
    m.evaluate(&RunOptions::default())?;
    ensure_eq!(crate::support::eval(&c, "runs")?, Value::from(1));
    ensure_eq!(
        m.namespace()?.get("v".into(), &Default::default())?,
        Value::from(11)
    );
    Ok(())
}

/// A module that throws, evaluated too early first: later it throws its own error, twice,
/// having run once.
fn evaluate_before_instantiate_error_later<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let m = i.compile_module(
        "globalThis.tries = (globalThis.tries || 0) + 1; throw new RangeError('late ' + tries);",
        &Default::default(),
    )?;
    expect_err(m.evaluate(&RunOptions::default()), "NotInstantiated", |e| {
        matches!(e, Error::NotInstantiated)
    })?;
    m.instantiate(&c, &mut no_imports)?;
    let a = expect_js(m.evaluate(&RunOptions::default()), "RangeError")?;
    let b = expect_js(m.evaluate(&RunOptions::default()), "RangeError")?;
    ensure_eq!(a.message, "late 1");
    ensure_eq!(b.message, "late 1");
    ensure_eq!(crate::support::eval(&c, "tries")?, Value::from(1));
    Ok(())
}

fn namespace_before_instantiate<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let m = i.compile_module("export const w = 5;", &Default::default())?;
    expect_err(m.namespace().map(drop), "NotInstantiated", |e| {
        matches!(e, Error::NotInstantiated)
    })?;
    m.instantiate(&c, &mut no_imports)?;
    m.evaluate(&RunOptions::default())?;
    ensure_eq!(
        m.namespace()?.get("w".into(), &Default::default())?,
        Value::from(5)
    );
    Ok(())
}

/// `instantiate` after `evaluate` has no effect (the resolver is not even asked).
fn instantiate_twice_after_evaluate<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let dep = i.compile_module("export const d = 2;", &Default::default())?;
    let m = i.compile_module(
        "import { d } from 'dep'; globalThis.evals = (globalThis.evals || 0) + 1; export const e = d * 3;",
        &Default::default(),
    )?;
    let dep2 = dep.clone();
    m.instantiate(&c, &mut |_: &str, _: &E::Module| Ok(dep2.clone()))?;
    m.evaluate(&RunOptions::default())?;
    let mut asked = 0;
    m.instantiate(&c, &mut |_: &str, _: &E::Module| {
        asked += 1;
        Err(Error::InvalidArgument("asked again".into()))
    })?;
    ensure_eq!(asked, 0);
    m.evaluate(&RunOptions::default())?;
    ensure_eq!(
        crate::support::eval(&c, "[evals, 1]")?,
        Value::from(vec![1, 1])
    );
    ensure_eq!(
        m.namespace()?.get("e".into(), &Default::default())?,
        Value::from(6)
    );
    Ok(())
}

const CACHED: &str = "export function f(x) { return x * 2 } export const v = f(21);";

fn produce() -> ScriptOptions {
    ScriptOptions {
        produce_cached_data: true,
        ..Default::default()
    }
}

fn consume(data: Arc<[u8]>) -> ScriptOptions {
    ScriptOptions {
        cached_data: Some(data),
        ..Default::default()
    }
}

/// Compiles `CACHED` in a fresh isolate with `options`; checks it still works; returns
/// whether the cache was rejected.
fn compile_and_check<E: Backend>(options: &ScriptOptions) -> R<Option<bool>> {
    let (i, c) = setup::<E>()?;
    let m = i.compile_module(CACHED, options)?;
    m.instantiate(&c, &mut no_imports)?;
    m.evaluate(&RunOptions::default())?;
    ensure_eq!(
        m.namespace()?
            .get("v".into(), &TransferOptions::default())?,
        Value::from(42)
    );
    Ok(m.cached_data_rejected())
}

/// A module's code cache, made in one isolate and used in another (V8); on a backend
/// without `Capability::CodeCache` both options are `Unsupported`.
fn code_cache<E: Backend>() -> R {
    if !E::capabilities().code_cache {
        let i = E::Isolate::new(Default::default())?;
        for options in [produce(), consume(vec![1u8; 64].into())] {
            expect_err(
                i.compile_module(CACHED, &options),
                "Unsupported(CodeCache)",
                |e| matches!(e, Error::Unsupported(Capability::CodeCache)),
            )?;
        }
        return Ok(());
    }
    let i = E::Isolate::new(Default::default())?;
    let m = i.compile_module(CACHED, &produce())?;
    ensure!(m.cached_data_rejected().is_none());
    let data = m.cached_data().ok_or("no cached data produced")?;
    ensure!(!data.is_empty());
    let plain = i.compile_module(CACHED, &Default::default())?;
    ensure!(plain.cached_data().is_none() && plain.cached_data_rejected().is_none());
    ensure_eq!(compile_and_check::<E>(&consume(data.clone()))?, Some(false));
    // Another source, or a script's cache of the same source: rejected, compiled anyway.
    let other = i.compile_module("export const v = 1;", &produce())?;
    let other = other.cached_data().ok_or("no cached data")?;
    ensure_eq!(compile_and_check::<E>(&consume(other))?, Some(true));
    let script = i.compile_script(CACHED.replace("export ", "").as_str(), &produce())?;
    let script = script.cached_data().ok_or("no script cache")?;
    ensure_eq!(compile_and_check::<E>(&consume(script))?, Some(true));
    Ok(())
}

/// Random bytes, a truncated cache and a cache with flipped bytes are rejected, never a
/// crash; the module compiles from source each time.
fn code_cache_corrupt<E: Backend>() -> R {
    if !E::capabilities().code_cache {
        return Ok(()); // `code_cache` checks the Unsupported answer.
    }
    let i = E::Isolate::new(Default::default())?;
    let good = i
        .compile_module(CACHED, &produce())?
        .cached_data()
        .ok_or("no cached data produced")?;
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut bad: Vec<Vec<u8>> = Vec::new();
    for len in [0usize, 1, 16, 24, 100, 4096, good.len()] {
        bad.push((0..len).map(|_| next() as u8).collect());
    }
    // Our header kept, V8's payload random or damaged.
    for _ in 0..8 {
        let mut d = good.to_vec();
        let at = 24 + (next() as usize) % (d.len() - 24);
        d[at] ^= 1 + (next() as u8 % 255);
        bad.push(d);
    }
    bad.push(good[..good.len() / 2].to_vec());
    bad.push(good[..good.len() - 1].to_vec());
    for data in bad {
        ensure_eq!(compile_and_check::<E>(&consume(data.into()))?, Some(true));
    }
    ensure_eq!(compile_and_check::<E>(&consume(good))?, Some(false));
    Ok(())
}

/// Without a meta callback, `import.meta` is one empty object per module.
fn import_meta_empty<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let m = i.compile_module(
        "export const keys = Object.keys(import.meta).length;
         export const same = import.meta === import.meta;
         export const kind = typeof import.meta;",
        &Default::default(),
    )?;
    m.instantiate(&c, &mut no_imports)?;
    m.evaluate(&RunOptions::default())?;
    let ns = m.namespace()?;
    ensure_eq!(
        ns.get("keys".into(), &TransferOptions::default())?,
        Value::from(0)
    );
    ensure_eq!(
        ns.get("same".into(), &TransferOptions::default())?,
        Value::from(true)
    );
    ensure_eq!(
        ns.get("kind".into(), &TransferOptions::default())?,
        Value::from("object")
    );
    Ok(())
}

/// `ScriptOptions::meta`: its properties on `import.meta`, one meta per module (data
/// copied in, a callback callable), an importer's meta not its dependency's.
fn import_meta_from_options<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let hello = engine_api::Callback::new(|args: Vec<Value>| {
        Ok(Value::from(format!(
            "hello {}",
            args[0].as_str().unwrap_or("?")
        )))
    });
    let with_meta = |url: &str| ScriptOptions {
        meta: Some(Value::object([
            ("url", Value::from(url)),
            ("list", Value::from(vec![1, 2])),
            ("hello", Value::Callback(hello.clone())),
        ])),
        ..Default::default()
    };
    let dep = i.compile_module(
        "export const url = import.meta.url;",
        &with_meta("file:///dep.mjs"),
    )?;
    let main = i.compile_module(
        "import { url as depUrl } from './dep.mjs';
         import.meta.list.push(3);
         export const got = [import.meta.url, depUrl, import.meta.list.length,
                             import.meta.hello('meta'), Object.keys(import.meta).length];",
        &with_meta("file:///main.mjs"),
    )?;
    let d = dep.clone();
    main.instantiate(&c, &mut move |_spec: &str, _from: &E::Module| Ok(d.clone()))?;
    main.evaluate(&RunOptions::default())?;
    ensure_eq!(
        main.namespace()?
            .get("got".into(), &TransferOptions::copy())?,
        Value::Array(vec![
            "file:///main.mjs".into(),
            "file:///dep.mjs".into(),
            3.into(),
            "hello meta".into(),
            3.into(),
        ])
    );
    // A second module with the same meta gets its own copy of the data.
    let other = i.compile_module(
        "export const n = import.meta.list.length;",
        &with_meta("file:///other.mjs"),
    )?;
    other.instantiate(&c, &mut no_imports)?;
    other.evaluate(&RunOptions::default())?;
    ensure_eq!(
        other
            .namespace()?
            .get("n".into(), &TransferOptions::copy())?,
        Value::from(2)
    );
    Ok(())
}

/// A meta that is no object, or a meta for a script: `InvalidArgument`, nothing compiled.
fn import_meta_refused<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let meta = |v: Value| ScriptOptions {
        meta: Some(v),
        ..Default::default()
    };
    expect_err(
        i.compile_module("export const a = 1;", &meta(Value::from(5))),
        "InvalidArgument",
        |e| matches!(e, Error::InvalidArgument(_)),
    )?;
    expect_err(
        i.compile_script("1", &meta(Value::object([("url", Value::from("x"))]))),
        "InvalidArgument",
        |e| matches!(e, Error::InvalidArgument(_)),
    )?;
    ensure_eq!(c.eval("1 + 1", &Default::default())?, Value::from(2));
    Ok(())
}

/// A hostile module that reads (and writes) `import.meta` in a loop: 100,000 times it
/// finishes, forever it ends in the call's timeout; the isolate is then usable or
/// disposed, and says which.
fn import_meta_loop<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let m = i.compile_module(
        "let n = 0; for (let k = 0; k < 100000; k++) { import.meta.k = k; n += import.meta.k === k ? 1 : 0 }
         export { n };",
        &Default::default(),
    )?;
    m.instantiate(&c, &mut no_imports)?;
    m.evaluate(&RunOptions::default())?;
    ensure_eq!(
        m.namespace()?
            .get("n".into(), &TransferOptions::default())?,
        Value::from(100000)
    );
    let spin = i.compile_module(
        "for (;;) { import.meta.x = (import.meta.x || 0) + 1 }",
        &Default::default(),
    )?;
    spin.instantiate(&c, &mut no_imports)?;
    let opts = RunOptions {
        timeout: Some(std::time::Duration::from_millis(200)),
        ..Default::default()
    };
    expect_err(spin.evaluate(&opts), "Timeout", |e| {
        matches!(e, Error::Timeout { .. })
    })?;
    if i.is_disposed() {
        expect_err(c.eval("1", &Default::default()), "Disposed", |e| {
            matches!(e, Error::Disposed)
        })?;
    } else {
        ensure_eq!(crate::support::eval(&c, "2 + 2")?, Value::from(4));
    }
    Ok(())
}
