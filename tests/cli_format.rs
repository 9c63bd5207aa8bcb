//! What the CLI prints, on every compiled backend: results and `console` output as Node's
//! `util.inspect` prints them (Map, Set, Date, cycles, numbers, nesting depth, long
//! arrays), bounded output for hostile values, stack frames for an uncaught error, and
//! a clear error (not a hang) for a promise that never settles.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn backends() -> Vec<&'static str> {
    let mut b = Vec::new();
    if cfg!(feature = "boa-wasi") {
        b.push("boa-wasi");
    }
    if cfg!(feature = "v8") {
        b.push("v8");
    }
    b
}

/// `isovm <args> --backend backend`, with `stdin` on its standard input.
fn isovm(backend: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_isovm"))
        .args(args)
        .args(["--backend", backend])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running isovm");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("writing stdin");
    drop(input);
    child.wait_with_output().expect("waiting for isovm")
}

/// The standard output of `isovm run -` with `script`, which must succeed.
fn stdout_of(backend: &str, script: &str) -> String {
    let out = isovm(backend, &["run", "-"], script);
    assert!(out.status.success(), "{backend}: {script}: {out:?}");
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// A 1,000-item array as Node prints it: 12 columns, then the count left out.
fn thousand(indent: &str) -> String {
    let mut rows = Vec::new();
    for start in (0..100).step_by(12) {
        let cells: Vec<String> = (start..(start + 12).min(100))
            .map(|i| format!("{i:>2}"))
            .collect();
        rows.push(format!("{indent}  {}", cells.join(", ")));
    }
    format!(
        "[\n{},\n{indent}  ... 900 more items\n{indent}]",
        rows.join(",\n")
    )
}

const RESULTS: &[(&str, &str)] = &[
    ("'top level'", "top level"),
    (
        "['a', { s: 'b' }, \"it's\"]",
        "[ 'a', { s: 'b' }, \"it's\" ]",
    ),
    ("1e21", "1e+21"),
    ("-1.5e-7", "-1.5e-7"),
    ("0.1 + 0.2", "0.30000000000000004"),
    ("-0", "-0"),
    (
        "[NaN, -Infinity, 2 ** 53]",
        "[ NaN, -Infinity, 9007199254740992 ]",
    ),
    ("10n ** 20n", "100000000000000000000n"),
    ("new Date(0)", "1970-01-01T00:00:00.000Z"),
    ("new Map([['a', 1]])", "Map(1) { 'a' => 1 }"),
    ("new Set([1, 2])", "Set(2) { 1, 2 }"),
    ("[1, 2, 3]", "[ 1, 2, 3 ]"),
    ("({ a: 1, 'b-c': 2 })", "{ a: 1, 'b-c': 2 }"),
    (
        "({ a: { b: { c: { d: 1 } }, e: [[[1]]] } })",
        "{ a: { b: { c: [Object] }, e: [ [Array] ] } }",
    ),
    (
        "const o = { x: 1 }; o.me = o; o",
        "<ref *1> { x: 1, me: [Circular *1] }",
    ),
    ("const s = { n: 1 }; [s, s]", "[ { n: 1 }, { n: 1 } ]"),
    ("new Uint8Array([1, 2, 3])", "Uint8Array(3) [ 1, 2, 3 ]"),
    (
        "[undefined, null, true, [], {}]",
        "[ undefined, null, true, [], {} ]",
    ),
];

#[test]
fn results_print_like_node() {
    for backend in backends() {
        for (code, want) in RESULTS {
            let out = isovm(backend, &["eval", code], "");
            let got = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{backend}: {code}: {out:?}");
            assert_eq!(got, format!("{want}\n"), "{backend}: {code}");
        }
        let got = stdout_of(backend, "Array.from({ length: 1000 }, (_, i) => i)");
        assert_eq!(got, format!("{}\n", thousand("")), "{backend}");
    }
}

#[test]
fn console_formats_each_argument_like_node() {
    for backend in backends() {
        let script = r#"
            console.log('plain', 'strings', 42, -0, 1e21);
            console.log(new Map([['a', 1]]), new Set([1, 2]), new Date(0));
            const o = { name: 'o' }; o.self = o; console.log(o);
            console.log('%s has %d items (%i%%)', 'list', 3, 42.9, 'extra');
            console.log(function foo() {}, () => 1, { f() {} }, Symbol('s'));
            class P { constructor() { this.x = 1; } }
            console.log(new P(), { get g() { throw new Error('not called'); } });
            console.log([[[['deep']]]], ['nested string']);
            const e = new RangeError('no stack'); e.stack = undefined; e.extra = [1];
            console.log([e], Object.create(Error.prototype));
            console.log(Array.from({ length: 1000 }, (_, i) => i));
        "#;
        let want = format!(
            "plain strings 42 -0 1e+21\n\
             Map(1) {{ 'a' => 1 }} Set(2) {{ 1, 2 }} 1970-01-01T00:00:00.000Z\n\
             <ref *1> {{ name: 'o', self: [Circular *1] }}\n\
             list has 3 items (42%) extra\n\
             [Function: foo] [Function (anonymous)] {{ f: [Function: f] }} Symbol(s)\n\
             P {{ x: 1 }} {{ g: [Getter] }}\n\
             [ [ [ [Array] ] ] ] [ 'nested string' ]\n\
             [ [RangeError: no stack] ] [Error]\n\
             {}\n",
            thousand("")
        );
        assert_eq!(stdout_of(backend, script), want, "{backend}");

        // warn and error print on stderr, in the same format.
        let out = isovm(
            backend,
            &["run", "-"],
            "console.error(new Set(['e'])); console.warn({ w: [1] }); console.info('i');\
             console.assert(1 === 1, 'not printed'); console.assert(false, 'x is %d', 2);",
        );
        assert!(out.status.success(), "{backend}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "i\n", "{backend}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "Set(1) { 'e' }\n{ w: [ 1 ] }\nAssertion failed: x is 2\n",
            "{backend}"
        );
    }
}

#[test]
fn hostile_console_arguments_print_bounded() {
    for backend in backends() {
        let script = r#"
            let deep = []; for (let i = 0; i < 100000; i++) deep = [deep];
            console.log(deep);
            const wide = {}; for (let i = 0; i < 5000; i++) wide['k' + i] = i;
            console.info(new Array(1e7));
            const m = new Map([[1, { a: [1] }]]);
            // Replacing the built-ins the console relies on changes nothing.
            Object.keys = () => { throw new Error('replaced'); };
            Map.prototype.get = () => { throw new Error('replaced'); };
            Object.defineProperty(Array.prototype, '0', { set() { throw new Error('trap'); } });
            Array.prototype[Symbol.iterator] = function* () { throw new Error('replaced'); };
            Array.prototype.map = String.prototype.startsWith = () => { throw new Error('replaced'); };
            console.info([1, 2], m, wide.k4999, function f() {});
            console.info(['x'.repeat(10005)]);
        "#;
        let got = stdout_of(backend, script);
        let lines: Vec<&str> = got.lines().collect();
        assert_eq!(lines[0], "[ [ [ [Array] ] ] ]", "{backend}");
        // 100 of ten million holes, then the count left out.
        assert_eq!(lines[1], "[", "{backend}");
        assert_eq!(
            lines[2],
            "  undefined, undefined, undefined, undefined, undefined, undefined,"
        );
        assert_eq!(lines[19], "  ... 9999900 more items", "{backend}");
        assert_eq!(lines[20], "]", "{backend}");
        assert_eq!(
            lines[21], "[ 1, 2 ] Map(1) { 1 => { a: [ 1 ] } } 4999 [Function: f]",
            "{backend}"
        );
        assert_eq!(lines[22], "[", "{backend}");
        assert_eq!(
            lines[23],
            format!("  '{}'... 5 more characters", "x".repeat(10_000)),
            "{backend}"
        );
        assert_eq!(lines.len(), 25, "{backend}: {got}");
    }
}

#[test]
fn an_uncaught_error_prints_its_stack_frames() {
    let dir = std::env::temp_dir().join(format!("isovm-cli-format-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("throws.js");
    std::fs::write(
        &file,
        "function inner() { throw new TypeError('bad thing'); }\n\
         function outer() { inner(); }\n\
         outer();\n",
    )
    .expect("writing the script");
    let f = file.display().to_string();
    for backend in backends() {
        let out = isovm(backend, &["run", &f], "");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{backend}: {err}");
        let lines: Vec<&str> = err.lines().collect();
        assert!(
            lines[0].starts_with(&format!("{f}:1:"))
                && lines[0].ends_with(": TypeError: bad thing"),
            "{backend}: {err}"
        );
        assert_eq!(
            lines[1], "    function inner() { throw new TypeError('bad thing'); }",
            "{backend}: {err}"
        );
        assert_eq!(
            lines[3],
            format!("    at inner ({f}:1:26)"),
            "{backend}: {err}"
        );
        assert!(
            lines[4].starts_with(&format!("    at outer ({f}:2:")),
            "{backend}: {err}"
        );
        assert!(
            lines[5].starts_with("    at ") && lines[5].contains(&format!("{f}:3:")),
            "{backend}: {err}"
        );
        assert_eq!(lines.len(), 6, "{backend}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_promise_that_never_settles_ends_with_an_error() {
    const NEVER: &str = "<eval>: Error: the result is a promise that nothing pending can settle\n";
    for backend in backends() {
        for args in [
            &["eval", "new Promise(() => {})"][..],
            &["eval", "new Promise(() => {})", "--timeout", "500"],
            &["eval", "(async () => { await new Promise(() => {}); })()"],
        ] {
            let out = isovm(backend, args, "");
            assert_eq!(out.status.code(), Some(6), "{backend}: {args:?}: {out:?}");
            assert_eq!(
                String::from_utf8_lossy(&out.stderr),
                NEVER,
                "{backend}: {args:?}"
            );
            assert!(out.stdout.is_empty(), "{backend}: {args:?}: {out:?}");
        }
    }
}
