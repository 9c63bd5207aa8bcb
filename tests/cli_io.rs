//! The CLI's input and output: a script from standard input (`isovm run -`), and output
//! into a reader that goes away (`isovm run big.js | head`), which ends the process quietly
//! instead of panicking. On every compiled backend.

use std::io::{BufRead, BufReader, Write};
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

/// `isovm run - --backend backend` with `script` on its standard input.
fn run_stdin(backend: &str, script: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_isovm"))
        .args(["run", "-", "--backend", backend])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running isovm");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("writing the script");
    child.wait_with_output().expect("waiting for isovm")
}

#[test]
fn run_dash_reads_the_script_from_stdin() {
    for backend in backends() {
        let out = run_stdin(backend, "console.log('from', 'stdin'); 6 * 7");
        assert!(out.status.success(), "{backend}: {out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "from stdin\n42\n",
            "{backend}"
        );

        // An error names the script <stdin>.
        let out = run_stdin(backend, "throw new TypeError('no')");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{backend}: {out:?}");
        assert!(
            err.contains("<stdin>") && err.contains("TypeError: no"),
            "{backend}: {err}"
        );
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_cli_quietly() {
    for backend in backends() {
        for script in [
            // console output, then the completion value
            "for (let i = 0; i < 200000; i++) console.log('line ' + i)",
            // one large result
            "'line\\n'.repeat(1e6)",
        ] {
            let mut child = Command::new(env!("CARGO_BIN_EXE_isovm"))
                .args(["eval", script, "--backend", backend])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("running isovm");
            let mut first = String::new();
            BufReader::new(child.stdout.take().expect("stdout"))
                .read_line(&mut first)
                .expect("reading the first line");
            // The reader is dropped here: the CLI's next writes fail with a broken pipe.
            assert!(first.starts_with("line"), "{backend}: first line {first:?}");
            let out = child.wait_with_output().expect("waiting for isovm");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!err.contains("panicked"), "{backend}: {err}");
            assert_eq!(out.status.code(), Some(0), "{backend}: {err}");
        }
    }
}

#[test]
fn backends_lists_each_backend_and_its_capabilities() {
    let out = Command::new(env!("CARGO_BIN_EXE_isovm"))
        .arg("backends")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no line for {name} in {text:?}"))
            .to_owned()
    };
    for backend in backends() {
        let l = line(backend);
        assert!(l.contains("compiled in ("), "{l}");
        // Only V8 turns a runaway recursion into a RangeError the guest can catch.
        assert_eq!(
            l.contains("catchable stack overflow"),
            backend == "v8",
            "{l}"
        );
        assert_eq!(l.contains("fuel"), backend == "boa-wasi", "{l}");
    }
}
