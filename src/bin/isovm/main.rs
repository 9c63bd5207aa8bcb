//! `isovm`: run a script in a sandbox with limits.
//!
//! ```text
//! isovm run app.js --memory-limit 32 --timeout 100
//! isovm eval '[1, 2, 3].map(x => x * 2)' --backend v8
//! ```

mod output;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use isovm::{
    Backend, BackendVisitor, Callback, Context, EvalOptions, Isolate, IsolateOptions, ScriptOrigin,
    TransferOptions, Value,
};

#[derive(Parser)]
#[command(
    name = "isovm",
    version,
    about = "Run untrusted JavaScript in an isolate, with limits"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a JavaScript file as a classic script and print its completion value.
    Run {
        /// The script.
        file: PathBuf,
        #[command(flatten)]
        sandbox: Sandbox,
    },
    /// Evaluate JavaScript given on the command line and print the result.
    Eval {
        /// The code.
        code: String,
        #[command(flatten)]
        sandbox: Sandbox,
    },
    /// List the backends and what each can do.
    Backends,
}

#[derive(Args, Clone)]
struct Sandbox {
    /// Backend: boa-wasi (sandbox: fuel, hard memory cap) or v8 (speed).
    #[arg(long, default_value = <isovm::DefaultBackend as Backend>::NAME)]
    backend: String,
    /// Memory limit of the isolate, in MiB.
    #[arg(long, value_name = "MB", default_value_t = 128)]
    memory_limit: u64,
    /// Stop the script after this many milliseconds.
    #[arg(long, value_name = "MS")]
    timeout: Option<u64>,
    /// CPU budget in fuel units (boa-wasi only).
    #[arg(long, value_name = "UNITS")]
    fuel: Option<u64>,
}

/// One script run, generic over the backend.
struct Job {
    code: String,
    filename: String,
    sandbox: Sandbox,
    print_undefined: bool,
}

impl BackendVisitor for Job {
    type Output = ExitCode;

    fn visit<E: Backend>(self) -> ExitCode {
        match self.run::<E>() {
            Ok(value) => {
                if let Some(text) = output::render(&value, self.print_undefined) {
                    println!("{text}");
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{}", output::render_error(&e, &self.filename, &self.code));
                ExitCode::from(output::exit_code(&e))
            }
        }
    }
}

impl Job {
    fn run<E: Backend>(&self) -> isovm::Result<Value> {
        let isolate = E::Isolate::new(IsolateOptions {
            memory_limit_mb: self.sandbox.memory_limit,
            fuel: self.sandbox.fuel,
            ..Default::default()
        })?;
        let context = isolate.create_context()?;
        install_console(&context)?;
        let result = context.eval(
            &self.code,
            &EvalOptions {
                timeout: self.sandbox.timeout.map(Duration::from_millis),
                origin: ScriptOrigin::file(&self.filename),
                result: TransferOptions::copy().with_promise(),
                ..Default::default()
            },
        );
        let _ = isolate.dispose();
        result
    }
}

/// `console.log` and friends print through a host callback; the guest formats its
/// arguments to one string, so nothing but a string crosses.
fn install_console<C: Context>(context: &C) -> isovm::Result<()> {
    let print = Callback::new(|args| {
        let level = args.first().and_then(Value::as_str).unwrap_or("log");
        let line = args.get(1).and_then(Value::as_str).unwrap_or("");
        match level {
            "warn" | "error" => eprintln!("{line}"),
            _ => println!("{line}"),
        }
        Ok(Value::Undefined)
    });
    context.eval_closure(
        r#"
        const send = $0;
        const show = (v) => {
          if (typeof v === 'string') return v;
          if (typeof v === 'function') return `[Function ${v.name || '(anonymous)'}]`;
          if (v instanceof Error) return `${v.name}: ${v.message}`;
          try { const s = JSON.stringify(v); if (s !== undefined) return s; } catch (_) {}
          return String(v);
        };
        const make = (level) => (...args) => { send(level, args.map(show).join(' ')); };
        globalThis.console = {
          log: make('log'), info: make('info'), debug: make('debug'),
          warn: make('warn'), error: make('error'),
        };
        "#,
        vec![Value::Callback(print)],
        &EvalOptions::default(),
    )?;
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let job = match cli.command {
        Command::Backends => {
            for name in isovm::BACKENDS {
                let state = if isovm::is_compiled(name) {
                    "compiled in"
                } else {
                    "not compiled in"
                };
                println!("{name}: {state}");
            }
            return ExitCode::SUCCESS;
        }
        Command::Eval { code, sandbox } => Job {
            code,
            filename: "<eval>".into(),
            sandbox,
            print_undefined: true,
        },
        Command::Run { file, sandbox } => match std::fs::read_to_string(&file) {
            Ok(code) => Job {
                code,
                filename: file.display().to_string(),
                sandbox,
                print_undefined: false,
            },
            Err(e) => {
                eprintln!("isovm: cannot read {}: {e}", file.display());
                return ExitCode::from(2);
            }
        },
    };
    let backend = job.sandbox.backend.clone();
    match isovm::with_backend(&backend, job) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("isovm: {e}");
            ExitCode::from(2)
        }
    }
}
