//! How the CLI prints results and errors.

use isovm::{Error, Value};

use crate::inspect::{InspectOptions, inspect};

/// The text printed for a result (`None`: print nothing): a string as it is, anything
/// else as Node's `util.inspect` prints it (see [`crate::inspect`]), cycles as
/// `<ref *1> { me: [Circular *1] }`.
pub fn render(value: &Value, print_undefined: bool) -> Result<Option<String>, Error> {
    Ok(match value {
        Value::Undefined if !print_undefined => None,
        Value::String(s) => Some(s.clone()),
        other => Some(inspect(other, &InspectOptions::default())?),
    })
}

/// An error as `file:line:col: Name: message`, then the source line and a caret, then
/// the JS stack frames (`    at f (file:2:3)`) when the error has a stack.
pub fn render_error(e: &Error, filename: &str, code: &str) -> String {
    let Error::Js(js) = e else {
        return format!("{filename}: {}", limit_name(e));
    };
    let Some(loc) = &js.location else {
        return format!("{filename}: {}: {}{}", js.name, js.message, frames(js));
    };
    let mut out = format!("{loc}: {}: {}", js.name, js.message);
    let line = js.source_line.clone().or_else(|| {
        (loc.file == filename)
            .then(|| code.lines().nth(loc.line.saturating_sub(1) as usize))
            .flatten()
            .map(str::to_owned)
    });
    if let Some(line) = line {
        out.push_str(&format!(
            "\n    {line}\n    {}^",
            " ".repeat(loc.column.saturating_sub(1) as usize)
        ));
    }
    out.push_str(&frames(js));
    out
}

/// The `    at ...` lines of an error's stack, each on its own line after a newline.
fn frames(js: &isovm::JsError) -> String {
    let Some(stack) = &js.stack else {
        return String::new();
    };
    stack
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("at "))
        .map(|l| format!("\n    {l}"))
        .collect()
}

fn limit_name(e: &Error) -> String {
    match e {
        Error::Timeout { .. } => "TimeoutError: script execution timed out".into(),
        Error::MemoryLimit => "MemoryLimitError: isolate reached its memory limit".into(),
        Error::OutOfFuel => "OutOfFuelError: isolate ran out of fuel".into(),
        other => {
            // The causes beneath (a wasmtime or I/O error, a host callback's own error).
            let mut out = format!("Error: {other}");
            let mut source = std::error::Error::source(other);
            while let Some(s) = source {
                let text = s.to_string();
                // A callback's failure already says what its error says.
                if !out.ends_with(&text) {
                    out.push_str(&format!(": {text}"));
                }
                source = s.source();
            }
            out
        }
    }
}

/// Exit codes: 1 a JS error, 2 usage (an option out of range), 3 timeout, 4 memory limit,
/// 5 out of fuel, 6 other.
pub fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Js(_) => 1,
        Error::InvalidOption { .. } => 2,
        Error::Timeout { .. } => 3,
        Error::MemoryLimit => 4,
        Error::OutOfFuel => 5,
        _ => 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_objects_repeat_and_cycles_print_as_node_does() {
        let v = Value::object([
            ("a", Value::object([("n", 1.into())])),
            ("b", Value::Backref(1)),
            ("me", Value::Backref(0)),
        ]);
        assert_eq!(
            render(&v, false).unwrap().unwrap(),
            "<ref *1> { a: { n: 1 }, b: { n: 1 }, me: [Circular *1] }"
        );
        // 2^40 leaves once expanded: the depth limit prints 3 levels of it, not memory.
        let mut bomb = Value::Array(vec![1.into()]);
        for d in (0..40u32).rev() {
            bomb = Value::Array(vec![bomb, Value::Backref(d + 1)]);
        }
        assert_eq!(
            render(&bomb, false).unwrap().unwrap(),
            "[ [ [ [Array], [Array] ], [ [Array], [Array] ] ], [ [ [Array], [Array] ], [ [Array], [Array] ] ] ]"
                .replace("] ], [ [ [", "] ],\n  [ [ [")
                .replace("[ [ [ [", "[\n  [ [ [")
                .replace("] ] ] ]", "] ] ]\n]")
        );
    }

    #[test]
    fn js_error_shows_location_and_source() {
        let e = Error::Js(isovm::JsError {
            name: "TypeError".into(),
            message: "x is not a function".into(),
            location: Some(isovm::Location {
                file: "a.js".into(),
                line: 2,
                column: 3,
            }),
            ..Default::default()
        });
        let shown = render_error(&e, "a.js", "let x;\n  x();\n");
        assert!(
            shown.starts_with("a.js:2:3: TypeError: x is not a function"),
            "{shown}"
        );
        assert!(shown.contains("\n      x();\n      ^"), "{shown}");
    }

    #[test]
    fn other_errors_show_their_causes_once() {
        let io = std::io::Error::other("read-only file system");
        let e = Error::backend_with("boa-wasi", "cannot write the module cache", io);
        assert_eq!(
            render_error(&e, "a.js", ""),
            "a.js: Error: boa-wasi backend error: cannot write the module cache: read-only file system"
        );
        let e = Error::from_callback(Error::js("TypeError", "no"));
        assert_eq!(
            render_error(&e, "a.js", ""),
            "a.js: Error: host callback failed: TypeError: no"
        );
        assert_eq!(exit_code(&e), 6);
    }

    #[test]
    fn an_option_out_of_range_is_a_usage_error() {
        let e = Error::invalid_option("memory_limit_mb", "4 MiB is below the minimum of 8 MiB");
        assert_eq!(exit_code(&e), 2);
    }
}
