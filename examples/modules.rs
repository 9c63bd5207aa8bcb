//! ES modules with a resolver: imports are looked up in a map of sources (a file-system
//! resolver would read files instead), each module compiled once.
//!
//! `cargo run --release --example modules`

use std::collections::HashMap;

use isovm::{Isolate, Module, RunOptions, ScriptOptions, ScriptOrigin, TransferOptions, Value};

fn main() -> anyhow::Result<()> {
    let sources = HashMap::from([
        ("math", "export const square = (x) => x * x;"),
        (
            "shapes",
            "import { square } from 'math'; export const area = (r) => 3 * square(r);",
        ),
    ]);
    let isolate = Isolate::new(Default::default())?;
    let context = isolate.create_context()?;
    let compile = |name: &str, code: &str| {
        isolate.compile_module(
            code,
            &ScriptOptions {
                origin: ScriptOrigin::file(name),
                ..Default::default()
            },
        )
    };
    let main = compile(
        "main",
        "import { area } from 'shapes'; export default area(2);",
    )?;

    let mut compiled: HashMap<String, Module> = HashMap::new();
    main.instantiate(&context, &mut |specifier: &str, _importer: &Module| {
        if let Some(m) = compiled.get(specifier) {
            return Ok(m.clone());
        }
        let code = sources.get(specifier).ok_or_else(|| {
            isovm::Error::js("Error", format!("cannot find module '{specifier}'"))
        })?;
        let m = compile(specifier, code)?;
        compiled.insert(specifier.to_owned(), m.clone());
        Ok(m)
    })?;
    main.evaluate(&RunOptions::default())?;
    let area = main
        .namespace()?
        .get("default".into(), &TransferOptions::copy())?;
    assert_eq!(area, Value::from(12));
    println!("area(2) = {area:?}; modules loaded: {:?}", {
        let mut names: Vec<_> = compiled.keys().collect();
        names.sort();
        names
    });
    Ok(())
}
