//! JS errors as owned data: names, messages, locations, stacks; the isolate survives them.

use engine_api::{Backend, Context, Error, EvalOptions, ScriptOrigin, Value};

use crate::support::{R, eval, expect_js, setup};
use crate::{Case, ensure, ensure_eq};

/// The error cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new("errors/syntax_error", syntax_error::<E>),
        Case::new("errors/syntax_error_location", syntax_error_location::<E>),
        Case::new("errors/type_error", type_error::<E>),
        Case::new("errors/reference_error", reference_error::<E>),
        Case::new("errors/range_error", range_error::<E>),
        Case::new("errors/custom_error_class", custom_error_class::<E>),
        Case::new("errors/thrown_string", thrown_string::<E>),
        Case::new("errors/thrown_object", thrown_object::<E>),
        Case::new("errors/location_with_filename", location_with_filename::<E>),
        Case::new("errors/line_offset", line_offset::<E>),
        Case::new("errors/stack_names_function", stack_names_function::<E>),
        Case::new("errors/isolate_usable_after_error", usable_after_error::<E>),
        Case::new("errors/error_display_has_location", error_display::<E>),
    ]
}

fn syntax_error<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    expect_js(c.eval("let = ;", &EvalOptions::default()), "SyntaxError")?;
    Ok(())
}

fn syntax_error_location<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let opts = EvalOptions {
        origin: ScriptOrigin::file("bad.js"),
        ..Default::default()
    };
    let e = expect_js(c.eval("1 +\n2 +\n)", &opts), "SyntaxError")?;
    let loc = e.location.ok_or("syntax error without a location")?;
    ensure_eq!(loc.line, 3);
    ensure!(loc.file.contains("bad.js"), "file: {}", loc.file);
    Ok(())
}

fn type_error<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let e = expect_js(c.eval("null.prop", &EvalOptions::default()), "TypeError")?;
    ensure!(!e.message.is_empty(), "empty message");
    Ok(())
}

fn reference_error<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let e = expect_js(
        c.eval("notDefinedAnywhere + 1", &EvalOptions::default()),
        "ReferenceError",
    )?;
    ensure!(
        e.message.contains("notDefinedAnywhere"),
        "message: {}",
        e.message
    );
    Ok(())
}

fn range_error<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    expect_js(
        c.eval("new Array(-1)", &EvalOptions::default()),
        "RangeError",
    )?;
    Ok(())
}

fn custom_error_class<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let code = "class MyError extends Error { constructor(m) { super(m); this.name = 'MyError' } }\n\
                throw new MyError('custom message')";
    let e = expect_js(c.eval(code, &EvalOptions::default()), "MyError")?;
    ensure_eq!(e.message, "custom message");
    Ok(())
}

fn thrown_string<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = c.eval("throw 'just a string'", &EvalOptions::default());
    match r {
        Err(Error::Js(e)) => ensure!(
            e.message.contains("just a string"),
            "message: {}",
            e.message
        ),
        other => return Err(format!("expected a JS error, got {other:?}").into()),
    }
    Ok(())
}

fn thrown_object<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = c.eval("throw { code: 42 }", &EvalOptions::default());
    ensure!(
        matches!(r, Err(Error::Js(_))),
        "expected a JS error, got {r:?}"
    );
    Ok(())
}

fn location_with_filename<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let opts = EvalOptions {
        origin: ScriptOrigin::file("file:///app/main.js"),
        ..Default::default()
    };
    let e = expect_js(
        c.eval("let a = 1;\nlet b = 2;\nthrow new Error('here')", &opts),
        "Error",
    )?;
    let loc = e.location.ok_or("runtime error without a location")?;
    ensure!(loc.file.contains("main.js"), "file: {}", loc.file);
    ensure_eq!(loc.line, 3);
    ensure!(loc.column >= 1, "column {}", loc.column);
    Ok(())
}

fn line_offset<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let opts = EvalOptions {
        origin: ScriptOrigin {
            filename: Some("offset.js".into()),
            line_offset: 10,
            column_offset: 0,
        },
        ..Default::default()
    };
    let e = expect_js(c.eval("\nthrow new TypeError('x')", &opts), "TypeError")?;
    let loc = e.location.ok_or("no location")?;
    ensure_eq!(loc.line, 12);
    Ok(())
}

fn stack_names_function<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let opts = EvalOptions {
        origin: ScriptOrigin::file("stack.js"),
        ..Default::default()
    };
    let code = "function innerMost() { throw new Error('deep') }\nfunction outer() { innerMost() }\nouter()";
    let e = expect_js(c.eval(code, &opts), "Error")?;
    let stack = e.stack.ok_or("no stack")?;
    ensure!(stack.contains("innerMost"), "stack: {stack}");
    Ok(())
}

fn usable_after_error<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    for _ in 0..20 {
        let _ = c.eval("throw new Error('x')", &EvalOptions::default());
        let _ = c.eval("(((", &EvalOptions::default());
    }
    ensure!(!engine_api::Isolate::is_disposed(&i));
    ensure_eq!(eval(&c, "6 * 7")?, Value::from(42));
    Ok(())
}

fn error_display<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let opts = EvalOptions {
        origin: ScriptOrigin::file("show.js"),
        ..Default::default()
    };
    let err = c.eval("\n\nundefinedFn()", &opts).err().ok_or("no error")?;
    let shown = err.to_string();
    ensure!(shown.contains("show.js:3:"), "display: {shown}");
    ensure!(shown.contains("ReferenceError"), "display: {shown}");
    Ok(())
}
