//! Contexts: separate globals, the global reference, release.

use engine_api::{
    Backend, Context, Error, EvalOptions, Isolate, Reference, TransferOptions, Value,
};

use crate::support::{R, eval, expect_err, setup};
use crate::{Case, ensure, ensure_eq};

/// The context cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new("contexts/separate_globals", separate_globals::<E>),
        Case::new("contexts/separate_builtins", separate_builtins::<E>),
        Case::new("contexts/global_get_set", global_get_set::<E>),
        Case::new("contexts/global_is_object", global_is_object::<E>),
        Case::new("contexts/release_then_use", release_then_use::<E>),
        Case::new("contexts/many_contexts", many_contexts::<E>),
        Case::new("contexts/create_async", create_async::<E>),
    ]
}

fn separate_globals<E: Backend>() -> R {
    let i = E::Isolate::new(Default::default())?;
    let a = i.create_context()?;
    let b = i.create_context()?;
    eval(&a, "globalThis.x = 'in a'")?;
    ensure_eq!(eval(&b, "typeof x")?, Value::from("undefined"));
    ensure_eq!(eval(&a, "x")?, Value::from("in a"));
    Ok(())
}

fn separate_builtins<E: Backend>() -> R {
    let i = E::Isolate::new(Default::default())?;
    let a = i.create_context()?;
    let b = i.create_context()?;
    eval(
        &a,
        "Array.prototype.first = function () { return this[0] }; 1",
    )?;
    ensure_eq!(eval(&a, "[9].first()")?, Value::from(9));
    ensure_eq!(eval(&b, "typeof [].first")?, Value::from("undefined"));
    Ok(())
}

fn global_get_set<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let g = c.global()?;
    ensure!(g.set("fromHost".into(), 7.into(), &TransferOptions::default())?);
    ensure_eq!(eval(&c, "fromHost * 6")?, Value::from(42));
    eval(&c, "globalThis.fromGuest = 'hi'")?;
    ensure_eq!(
        g.get("fromGuest".into(), &TransferOptions::default())?,
        Value::from("hi")
    );
    Ok(())
}

fn global_is_object<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    ensure_eq!(c.global()?.type_of()?, engine_api::TypeOf::Object);
    Ok(())
}

fn release_then_use<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    c.release();
    expect_err(c.eval("1", &EvalOptions::default()), "Released", |e| {
        matches!(e, Error::Released(_))
    })?;
    let other = i.create_context()?;
    ensure_eq!(eval(&other, "2")?, Value::from(2));
    Ok(())
}

fn many_contexts<E: Backend>() -> R {
    let i = E::Isolate::new(Default::default())?;
    let contexts: Vec<_> = (0..50)
        .map(|_| i.create_context())
        .collect::<Result<_, _>>()?;
    for (n, c) in contexts.iter().enumerate() {
        c.eval_closure("globalThis.n = $0", vec![n.into()], &EvalOptions::default())?;
    }
    for (n, c) in contexts.iter().enumerate() {
        ensure_eq!(eval(c, "n")?, Value::from(n));
    }
    Ok(())
}

fn create_async<E: Backend>() -> R {
    let i = E::Isolate::new(Default::default())?;
    let c = pollster::block_on(i.create_context_async())?;
    ensure_eq!(eval(&c, "1 + 1")?, Value::from(2));
    Ok(())
}
