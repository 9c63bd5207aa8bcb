//! `native-boa FILE...`: evaluates the files in order in one Boa context, runs the job
//! queue after each, and prints the last file's completion value (as a string) on stdout.
//!
//! The context is set up as the Boa-WASI guest sets up its own (`backend-boa`'s
//! `guest/runtime.rs`): a `SimpleJobExecutor` and the same runtime limits, so that the
//! Octane bench compares the same engine inside and outside wasm.

use std::process::ExitCode;
use std::rc::Rc;

use boa_engine::context::ContextBuilder;
use boa_engine::job::SimpleJobExecutor;
use boa_engine::vm::RuntimeLimits;
use boa_engine::{Context, JsResult, JsValue, Source};

/// The guest's limits (`RECURSION_LIMIT`, `STACK_SIZE_LIMIT`, `BACKTRACE_LIMIT`).
fn limits() -> RuntimeLimits {
    let mut limits = RuntimeLimits::default();
    limits.set_recursion_limit(1_000);
    limits.set_stack_size_limit(1 << 20);
    limits.set_backtrace_limit(50);
    limits
}

fn run(context: &mut Context, path: &str) -> Result<JsValue, String> {
    let code = std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?;
    let value = context
        .eval(Source::from_bytes(&code))
        .and_then(|v| context.run_jobs().map(|()| v));
    value.map_err(|e| format!("{path}: {e}"))
}

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: native-boa FILE...");
        return ExitCode::from(2);
    }
    let built: JsResult<Context> = ContextBuilder::new()
        .job_executor(Rc::new(SimpleJobExecutor::new()))
        .build();
    let mut context = match built {
        Ok(c) => c,
        Err(e) => {
            eprintln!("building the Boa context: {e}");
            return ExitCode::FAILURE;
        }
    };
    context.set_runtime_limits(limits());
    let mut last = JsValue::undefined();
    for path in &files {
        match run(&mut context, path) {
            Ok(v) => last = v,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    }
    match last.to_string(&mut context) {
        Ok(s) => {
            println!("{}", s.to_std_string_escaped());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("converting the result to a string: {e}");
            ExitCode::FAILURE
        }
    }
}
