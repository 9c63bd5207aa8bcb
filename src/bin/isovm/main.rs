//! `isovm`: run a script in a sandbox with limits.
//!
//! ```text
//! isovm run app.js --memory-limit 32 --timeout 100
//! isovm eval '[1, 2, 3].map(x => x * 2)' --backend v8
//! ```

mod console;
mod inspect;
mod number;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use isovm::{
    BackendKind, EvalOptions, Isolate, IsolateOptions, ScriptOrigin, TransferOptions, Value,
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
        /// The script (`-`: read it from standard input).
        file: PathBuf,
        #[command(flatten)]
        sandbox: Sandbox,
    },
    /// Evaluate JavaScript given on the command line and print the result.
    Eval {
        /// The code (it may start with `-`: `isovm eval -0`).
        #[arg(allow_hyphen_values = true)]
        code: String,
        #[command(flatten)]
        sandbox: Sandbox,
    },
    /// List the backends and what each can do.
    Backends,
    /// Compile the Boa guest now and cache it (both with and without fuel), so that the
    /// first `run` or `eval` starts at once: for installers and image builds.
    Prepare,
}

#[derive(Args, Clone)]
struct Sandbox {
    /// Backend: boa-wasi (sandbox: fuel, hard memory cap) or v8 (speed).
    #[arg(long, default_value_t = BackendKind::default())]
    backend: BackendKind,
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

/// One script run.
struct Job {
    code: String,
    filename: String,
    sandbox: Sandbox,
    print_undefined: bool,
}

impl Job {
    fn exec(self) -> ExitCode {
        match self.run() {
            Ok(value) => match output::render(&value, self.print_undefined) {
                Ok(text) => {
                    if let Some(text) = text {
                        print_line(&text, false);
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{}", output::render_error(&e, &self.filename, &self.code));
                    ExitCode::from(output::exit_code(&e))
                }
            },
            Err(e) => {
                eprintln!("{}", output::render_error(&e, &self.filename, &self.code));
                ExitCode::from(output::exit_code(&e))
            }
        }
    }

    fn run(&self) -> isovm::Result<Value> {
        let isolate = Isolate::with_backend(
            self.sandbox.backend,
            IsolateOptions {
                memory_limit_mb: self.sandbox.memory_limit,
                fuel: self.sandbox.fuel,
                ..Default::default()
            },
        )?;
        let context = isolate.create_context()?;
        console::install(&context, print_line)?;
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

/// Writes `line` to stdout (stderr if `to_stderr`). A reader that went away (`isovm run
/// big.js | head`) ends the process quietly, as it ends `cat`; println! would panic.
fn print_line(line: &str, to_stderr: bool) {
    use std::io::Write;
    let written = if to_stderr {
        writeln!(std::io::stderr().lock(), "{line}")
    } else {
        writeln!(std::io::stdout().lock(), "{line}")
    };
    if let Err(e) = written {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        // Any other failure to write (a full disk): say so where we still can, then stop.
        let _ = writeln!(std::io::stderr(), "isovm: cannot write output: {e}");
        std::process::exit(1);
    }
}

/// A script's source: the file, or standard input for `-`.
fn read_source(file: &std::path::Path) -> std::io::Result<String> {
    if file.as_os_str() == "-" {
        let mut code = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut code)?;
        Ok(code)
    } else {
        std::fs::read_to_string(file)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let job = match cli.command {
        Command::Backends => {
            for kind in BackendKind::ALL {
                let state = if kind.is_compiled() {
                    "compiled in"
                } else {
                    "not compiled in"
                };
                match kind.capabilities() {
                    Ok(caps) => println!("{kind}: {state} ({})", describe(caps)),
                    Err(_) => println!("{kind}: {state}"),
                }
            }
            return ExitCode::SUCCESS;
        }
        Command::Prepare => return prepare(),
        Command::Eval { code, sandbox } => Job {
            code,
            filename: "<eval>".into(),
            sandbox,
            print_undefined: true,
        },
        Command::Run { file, sandbox } => match read_source(&file) {
            Ok(code) => Job {
                code,
                filename: if file.as_os_str() == "-" {
                    "<stdin>".into()
                } else {
                    file.display().to_string()
                },
                sandbox,
                print_undefined: false,
            },
            Err(e) => {
                eprintln!("isovm: cannot read {}: {e}", file.display());
                return ExitCode::from(2);
            }
        },
    };
    if !job.sandbox.backend.is_compiled() {
        let kind = job.sandbox.backend;
        eprintln!("isovm: backend `{kind}` is not compiled in: rebuild with `--features {kind}`");
        return ExitCode::from(2);
    }
    announce_guest_preparation(&job.sandbox.backend.to_string(), job.sandbox.fuel.is_some());
    job.exec()
}

/// The Boa guest is compiled on its first use, unless the build precompiled it (seconds;
/// cached on disk for later runs):
/// say so on stderr before that starts, and say when it cannot be cached. Silent when the
/// cache answers. Printed whether or not stderr is a terminal: a pause in a CI log needs
/// explaining as much as one at a prompt, and stdout stays the script's alone.
#[cfg(feature = "boa-wasi")]
fn announce_guest_preparation(backend: &str, fuel: bool) {
    use backend_boa::CacheStatus;
    if backend != "boa-wasi" {
        return;
    }
    // A failure here comes back, typed, from creating the isolate.
    let Ok(runtime) = backend_boa::runtime() else {
        return;
    };
    let _ = runtime.prepare_with(fuel, |cache| {
        let note = match cache {
            CacheStatus::Enabled(dir) => {
                format!(" (first run, 5-30 s; cached in {})", dir.display())
            }
            CacheStatus::Disabled => " (5-30 s; caching is disabled)".to_owned(),
            CacheStatus::Unavailable(why) => format!(
                " (5-30 s); it cannot be cached, so every run does this again: {why}; \
                 set ISOVM_CACHE_DIR to a writable directory"
            ),
            _ => " (5-30 s)".to_owned(),
        };
        eprintln!("isovm: preparing the Boa guest{note}");
    });
}

#[cfg(not(feature = "boa-wasi"))]
fn announce_guest_preparation(_backend: &str, _fuel: bool) {}

/// What a backend can do, in words.
fn describe(caps: isovm::Capabilities) -> String {
    let has = [
        (caps.fuel, "fuel"),
        (caps.hard_memory_cap, "hard memory cap"),
        (caps.deterministic, "deterministic"),
        (caps.snapshots, "snapshots"),
        (caps.code_cache, "code cache"),
        (caps.shared_memory, "shared memory"),
        (caps.inspector, "inspector"),
        (caps.catchable_stack_overflow, "catchable stack overflow"),
    ];
    let names: Vec<&str> = has.iter().filter(|(on, _)| *on).map(|(_, n)| *n).collect();
    if names.is_empty() {
        "no optional capabilities".to_owned()
    } else {
        names.join(", ")
    }
}

/// `isovm prepare`: the Boa guest compiled (or found) in the cache, for both engines.
#[cfg(feature = "boa-wasi")]
fn prepare() -> ExitCode {
    use isovm::boa_wasi::{CacheStatus, GuestSource};
    let runtime = match isovm::boa_wasi::runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("isovm: {e}");
            return ExitCode::from(6);
        }
    };
    for fuel in [false, true] {
        let engine = if fuel { "fuel" } else { "plain" };
        match runtime.prepare_with(fuel, |_| {
            eprintln!("isovm: compiling the Boa guest ({engine} engine)...")
        }) {
            Ok(GuestSource::DiskCache) => println!("{engine}: already cached"),
            Ok(GuestSource::Precompiled) => println!("{engine}: precompiled in this build"),
            Ok(_) => println!("{engine}: compiled"),
            Err(e) => {
                eprintln!("isovm: preparing the {engine} engine: {e}");
                return ExitCode::from(6);
            }
        }
    }
    match runtime.cache_status() {
        CacheStatus::Enabled(dir) => println!("cache: {}", dir.display()),
        CacheStatus::Unavailable(why) => {
            println!("cache: unavailable ({why}); every process compiles again")
        }
        other => println!("cache: {other:?}"),
    }
    ExitCode::SUCCESS
}

/// `isovm prepare` without the Boa guest: nothing to prepare.
#[cfg(not(feature = "boa-wasi"))]
fn prepare() -> ExitCode {
    println!("nothing to prepare: this build has no boa-wasi backend");
    ExitCode::SUCCESS
}
