//! Compiled scripts: run in any context of their isolate, only there.

use engine_api::{
    Backend, Capability, Error, Isolate, RunOptions, Script, ScriptOptions, ScriptOrigin,
    TransferOptions, Value,
};

use crate::support::{R, eval, expect_err, expect_js, setup};
use crate::{Case, ensure, ensure_eq};

/// The script cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new(
            "scripts/run_returns_completion",
            run_returns_completion::<E>,
        ),
        Case::new("scripts/run_in_two_contexts", run_in_two_contexts::<E>),
        Case::new("scripts/run_twice", run_twice::<E>),
        Case::new(
            "scripts/syntax_error_at_compile",
            syntax_error_at_compile::<E>,
        ),
        Case::new("scripts/runtime_error_at_run", runtime_error_at_run::<E>),
        Case::new("scripts/wrong_isolate_context", wrong_isolate_context::<E>),
        Case::new("scripts/release_then_run", release_then_run::<E>),
        Case::new("scripts/release_option", release_option::<E>),
        Case::new("scripts/run_async", run_async::<E>),
        Case::new("scripts/code_cache", code_cache::<E>),
        Case::new("scripts/origin_in_errors", origin_in_errors::<E>),
    ]
}

fn copy() -> RunOptions {
    RunOptions {
        result: TransferOptions::copy(),
        ..Default::default()
    }
}

fn run_returns_completion<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let s = i.compile_script(
        "let foo = 1; let bar = 2; bar = foo + bar",
        &Default::default(),
    )?;
    ensure_eq!(s.run(&c, &copy())?, Value::from(3));
    Ok(())
}

fn run_in_two_contexts<E: Backend>() -> R {
    let i = E::Isolate::new(Default::default())?;
    let (a, b) = (i.create_context()?, i.create_context()?);
    eval(&a, "globalThis.who = 'a'")?;
    eval(&b, "globalThis.who = 'b'")?;
    let s = i.compile_script("who + '!'", &Default::default())?;
    ensure_eq!(s.run(&a, &copy())?, Value::from("a!"));
    ensure_eq!(s.run(&b, &copy())?, Value::from("b!"));
    Ok(())
}

fn run_twice<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let s = i.compile_script(
        "globalThis.k = (globalThis.k || 0) + 1",
        &Default::default(),
    )?;
    s.run(&c, &copy())?;
    ensure_eq!(s.run(&c, &copy())?, Value::from(2));
    Ok(())
}

fn syntax_error_at_compile<E: Backend>() -> R {
    let i = E::Isolate::new(Default::default())?;
    expect_js(
        i.compile_script("function (", &Default::default()),
        "SyntaxError",
    )?;
    Ok(())
}

fn runtime_error_at_run<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let s = i.compile_script("throw new RangeError('at run')", &Default::default())?;
    let e = expect_js(s.run(&c, &copy()), "RangeError")?;
    ensure_eq!(e.message, "at run");
    Ok(())
}

fn wrong_isolate_context<E: Backend>() -> R {
    let (i1, _c1) = setup::<E>()?;
    let (_i2, c2) = setup::<E>()?;
    let s = i1.compile_script("1", &Default::default())?;
    expect_err(s.run(&c2, &copy()), "WrongIsolate", |e| {
        matches!(e, Error::WrongIsolate)
    })?;
    Ok(())
}

fn release_then_run<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let s = i.compile_script("1", &Default::default())?;
    s.release();
    expect_err(s.run(&c, &copy()), "Released", |e| {
        matches!(e, Error::Released(_))
    })?;
    Ok(())
}

fn release_option<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let s = i.compile_script("5", &Default::default())?;
    let opts = RunOptions {
        release: true,
        ..copy()
    };
    ensure_eq!(s.run(&c, &opts)?, Value::from(5));
    expect_err(s.run(&c, &copy()), "Released", |e| {
        matches!(e, Error::Released(_))
    })?;
    Ok(())
}

fn run_async<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let s = pollster::block_on(i.compile_script_async("[1, 2].length", Default::default()))?;
    ensure_eq!(pollster::block_on(s.run_async(&c, copy()))?, Value::from(2));
    Ok(())
}

fn code_cache<E: Backend>() -> R {
    let i = E::Isolate::new(Default::default())?;
    let code = "function f(x) { return x * 2 } f(21)";
    let produce = ScriptOptions {
        produce_cached_data: true,
        ..Default::default()
    };
    if !E::capabilities().code_cache {
        expect_err(
            i.compile_script(code, &produce),
            "Unsupported(CodeCache)",
            |e| matches!(e, Error::Unsupported(Capability::CodeCache)),
        )?;
        return Ok(());
    }
    let s = i.compile_script(code, &produce)?;
    let data = s.cached_data().ok_or("no cached data produced")?;
    ensure!(!data.is_empty());
    let consume = ScriptOptions {
        cached_data: Some(data),
        ..Default::default()
    };
    let s2 = i.compile_script(code, &consume)?;
    ensure_eq!(s2.cached_data_rejected(), Some(false));
    let c = i.create_context()?;
    ensure_eq!(s2.run(&c, &copy())?, Value::from(42));
    let bad = ScriptOptions {
        cached_data: Some(vec![1u8, 2, 3, 4].into()),
        ..Default::default()
    };
    let s3 = i.compile_script(code, &bad)?;
    ensure_eq!(s3.cached_data_rejected(), Some(true));
    ensure_eq!(s3.run(&c, &copy())?, Value::from(42));
    Ok(())
}

fn origin_in_errors<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let opts = ScriptOptions {
        origin: ScriptOrigin::file("compiled.js"),
        ..Default::default()
    };
    let s = i.compile_script("\nthrow new Error('boom')", &opts)?;
    let e = expect_js(s.run(&c, &copy()), "Error")?;
    let loc = e.location.ok_or("no location")?;
    ensure!(loc.file.contains("compiled.js"), "file {}", loc.file);
    ensure_eq!(loc.line, 2);
    Ok(())
}
