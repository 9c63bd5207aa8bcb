//! The hostile-script suite (issue 7): every case of `tests/hostile/` run on every backend,
//! through the CLI (the built `isovm` binary) and through the API (this binary re-run as a
//! child), each in its own process. Each trial asserts how the run ended (exit code or
//! typed error), that it ended within 2x its timeout plus a fixed allowance, that the
//! process's peak resident size stayed within 2x the memory limit plus a fixed allowance
//! over an idle run's, that no signal ended it, and (API) that a neighbour isolate kept
//! working. Trials are named `cli/v8/sparse_array_result`, `api/boa-wasi/..`.
//!
//! Cases that fail today are declared in `tests/hostile/declared.rs`; a declared case
//! that passes fails the run.

#[path = "hostile/api.rs"]
mod api;
#[path = "hostile/case.rs"]
mod case;
#[path = "hostile/declared.rs"]
mod declared;
#[path = "hostile/host.rs"]
mod host;
#[path = "hostile/memory.rs"]
mod memory;
#[path = "hostile/process.rs"]
mod process;
#[path = "hostile/results.rs"]
mod results;
#[path = "hostile/soft_timeout.rs"]
mod soft_timeout;
#[path = "hostile/stack.rs"]
mod stack;
#[path = "hostile/time.rs"]
mod time;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use case::{Case, Outcome};
use libtest_mimic::{Arguments, Failed, Trial};
use process::{Exit, Run};

/// Names the case (`backend/case`) a child process of this binary runs through the API.
const CHILD_ENV: &str = "ISOVM_HOSTILE_CHILD";
/// If set, each trial appends `name<TAB>ok|what happened` to this file (for triage).
const LOG_ENV: &str = "ISOVM_HOSTILE_LOG";
/// Start-up, compile and a loaded 2-core machine: added to every wall-time bound.
const WALL_ALLOWANCE: Duration = Duration::from_secs(5);
/// Added to every resident-size bound, over the idle baseline.
const RSS_ALLOWANCE_MB: u64 = 64;
/// A child still running this long after its wall-time bound is killed.
const KILL_GRACE: Duration = Duration::from_secs(3);
/// Hard cap on any child's run.
const HARD_DEADLINE: Duration = Duration::from_secs(20);
/// A child this far past its resident bound is killed (the trial has failed anyway).
const RSS_KILL_OVER_MB: u64 = 512;

/// The idle case whose peak resident size is each path's baseline.
const BASELINE: Case = Case {
    name: "__baseline",
    src: case::Src::Code("1"),
    memory_mb: 128,
    timeout_ms: None,
    expect: &[Outcome::Value(Some("1"))],
    ..case::BASE
};

fn main() {
    if let Ok(which) = std::env::var(CHILD_ENV) {
        let (backend, name) = which
            .split_once('/')
            .expect("ISOVM_HOSTILE_CHILD=backend/case");
        let case = case::all()
            .into_iter()
            .chain([BASELINE])
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no hostile case {name}"));
        api::child_main(backend, &case);
    }

    let mut args = Arguments::from_args();
    warm_module_caches();
    // Two at a time on the 2-core machine, so wall times and resident sizes mean something.
    args.test_threads.get_or_insert(2);
    let baselines = Arc::new(Baselines::default());
    let dir = script_dir();
    let mut trials = Vec::new();
    for case in case::all() {
        for path in [Path::Cli, Path::Api] {
            if path == Path::Cli && !case.runs_on_cli() {
                continue;
            }
            for backend in isovm::BackendKind::compiled().map(isovm::BackendKind::name) {
                if !case.backends.contains(&backend) {
                    continue;
                }
                let name = format!("{}/{backend}/{}", path.name(), case.name);
                let (baselines, dir) = (baselines.clone(), dir.clone());
                let declared = declared::reason(&name);
                let varies = declared::varies(&name);
                let name_for_log = name.clone();
                trials.push(Trial::test(name, move || {
                    let got = trial(&case, path, backend, &baselines, &dir);
                    log(&name_for_log, &got);
                    if let Some(why) = varies {
                        eprintln!(
                            "{name_for_log}: {} (outcome varies: {why})",
                            if got.is_ok() {
                                "within bounds"
                            } else {
                                "over bounds"
                            }
                        );
                        return Ok(());
                    }
                    match (got, declared) {
                        (Ok(()), None) => Ok(()),
                        (Err(e), None) => Err(Failed::from(e)),
                        (Err(_), Some(_)) => Ok(()),
                        (Ok(()), Some(why)) => Err(Failed::from(format!(
                            "declared failure now passes: remove it (declared: {why})"
                        ))),
                    }
                }));
            }
        }
    }
    let known: Vec<_> = trials.iter().map(|t| t.name().to_owned()).collect();
    for (name, _) in declared::DECLARED.iter().chain(declared::VARIES) {
        let backend_compiled =
            isovm::BackendKind::compiled().any(|b| name.contains(&format!("/{b}/")));
        if backend_compiled && !known.iter().any(|k| k == name) {
            trials.push(Trial::test(format!("declared/{name}"), {
                let name = name.to_string();
                move || Err(format!("declared failure {name} names no trial").into())
            }));
        }
    }
    let conclusion = libtest_mimic::run(&args, trials);
    let _ = std::fs::remove_dir_all(&dir);
    conclusion.exit();
}

/// The first run after a guest rebuild compiles the Boa module (seconds, ~200 MB), once
/// for the plain engine and once for the fuel engine: do it here, not inside a trial.
fn warm_module_caches() {
    if !isovm::BackendKind::BoaWasi.is_compiled() {
        return;
    }
    for fuel in [None, Some("1000000000")] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_isovm"));
        cmd.args(["eval", "1", "--backend", "boa-wasi"]);
        if let Some(f) = fuel {
            cmd.args(["--fuel", f]);
        }
        if let Ok(run) = process::run(cmd, Duration::from_secs(120), 4096)
            && run.exit != Exit::Code(0)
        {
            eprintln!("hostile: warming the Boa module cache: {}", summary(&run));
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Path {
    Cli,
    Api,
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::Cli => "cli",
            Path::Api => "api",
        }
    }
}

fn script_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("isovm-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir for hostile scripts");
    dir
}

/// The command that runs `case` on `backend` through `path`.
fn command(case: &Case, path: Path, backend: &str, dir: &std::path::Path) -> Command {
    match path {
        Path::Cli => {
            let file = dir.join(format!("{}-{backend}.js", case.name));
            std::fs::write(&file, case.src.text()).expect("write hostile script");
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_isovm"));
            cmd.arg("run").arg(&file).args(["--backend", backend]);
            cmd.args(["--memory-limit", &case.memory_mb.to_string()]);
            if let Some(t) = case.timeout_ms {
                cmd.args(["--timeout", &t.to_string()]);
            }
            if let Some(f) = case.fuel {
                cmd.args(["--fuel", &f.to_string()]);
            }
            cmd
        }
        Path::Api => {
            let mut cmd = Command::new(std::env::current_exe().expect("current_exe"));
            cmd.env(CHILD_ENV, format!("{backend}/{}", case.name));
            cmd
        }
    }
}

/// Idle peak resident size per (path, backend), measured once (the second of two runs, so
/// a first-run module compile does not count).
#[derive(Default)]
struct Baselines(Mutex<HashMap<(Path, String), Arc<Baseline>>>);

/// One path's and backend's idle peak resident size in MiB, once measured.
type Baseline = OnceLock<Result<u64, String>>;

impl Baselines {
    fn get(&self, path: Path, backend: &str, dir: &std::path::Path) -> Result<u64, String> {
        let cell = self
            .0
            .lock()
            .unwrap()
            .entry((path, backend.to_owned()))
            .or_default()
            .clone();
        cell.get_or_init(|| {
            let mut last = Err("no baseline run".to_string());
            for _ in 0..2 {
                let cmd = command(&BASELINE, path, backend, dir);
                let run = process::run(cmd, Duration::from_secs(60), 4096)?;
                if run.exit != Exit::Code(0) {
                    return Err(format!("baseline run failed: {}", summary(&run)));
                }
                last = Ok(run.peak_rss_mb);
            }
            last
        })
        .clone()
    }
}

fn summary(run: &Run) -> String {
    let how = match run.exit {
        Exit::Code(c) => format!("exit {c}"),
        Exit::Signal(s) => format!("exit by {}", process::signal_name(s)),
    };
    let tail = |s: &str| -> String {
        let s = s.trim();
        let cut = s.len().saturating_sub(1500);
        let cut = (cut..=s.len())
            .find(|&i| s.is_char_boundary(i))
            .unwrap_or(s.len());
        s[cut..].to_string()
    };
    format!(
        "{how}{}, {:.2} s, {} MB peak\n--- stdout\n{}\n--- stderr\n{}",
        run.killed
            .as_deref()
            .map(|k| format!(" ({k})"))
            .unwrap_or_default(),
        run.wall.as_secs_f64(),
        run.peak_rss_mb,
        tail(&run.stdout),
        tail(&run.stderr)
    )
}

/// Whether the CLI's exit and output are the outcome `want`.
fn cli_matches(want: Outcome, code: i32, stdout: &str, stderr: &str) -> bool {
    let other = |text: &str| code == 6 && stderr.contains(text);
    match want {
        Outcome::Value(None) => code == 0,
        Outcome::Value(Some(s)) => code == 0 && stdout.trim_end() == s,
        Outcome::Js(None) => code == 1,
        Outcome::Js(Some(name)) => code == 1 && stderr.contains(name),
        Outcome::Timeout => code == 3,
        Outcome::MemoryLimit => code == 4,
        Outcome::OutOfFuel => code == 5,
        Outcome::NotTransferable => other("not transferable"),
        Outcome::StackOverflow => other("maximum call stack size exceeded"),
        Outcome::InvalidArgument => other("invalid argument") || code == 2,
        Outcome::Disposed => other("isolate is disposed"),
        Outcome::Typed => (1..=6).contains(&code) && !stderr.contains("backend error"),
    }
}

fn trial(
    case: &Case,
    path: Path,
    backend: &str,
    baselines: &Baselines,
    dir: &std::path::Path,
) -> Result<(), String> {
    let baseline = baselines.get(path, backend, dir)?;
    let wall_bound = Duration::from_millis(2 * case.bounding_timeout_ms()) + WALL_ALLOWANCE;
    let rss_bound = baseline + 2 * case.memory_mb + RSS_ALLOWANCE_MB;
    let deadline = (wall_bound + KILL_GRACE).min(HARD_DEADLINE);
    let run = process::run(
        command(case, path, backend, dir),
        deadline,
        rss_bound + RSS_KILL_OVER_MB,
    )?;
    let mut problems = Vec::new();
    match run.exit {
        Exit::Signal(_) => problems.push("ended by a signal".to_string()),
        Exit::Code(code) => match path {
            Path::Cli => {
                if !case
                    .expect
                    .iter()
                    .any(|&w| cli_matches(w, code, &run.stdout, &run.stderr))
                {
                    problems.push(format!("exit {code}; expected one of {:?}", case.expect));
                }
            }
            Path::Api => {
                if code != 0 {
                    let line = run.stdout.lines().last().unwrap_or("").to_owned();
                    problems.push(format!("API child failed: {line}"));
                }
            }
        },
    }
    if run.wall > wall_bound {
        problems.push(format!(
            "ran {:.2} s, bound {:.2} s",
            run.wall.as_secs_f64(),
            wall_bound.as_secs_f64()
        ));
    }
    if run.peak_rss_mb > rss_bound {
        problems.push(format!(
            "peak resident {} MB, bound {rss_bound} MB (idle {baseline} MB + 2 x {} MB + {RSS_ALLOWANCE_MB} MB)",
            run.peak_rss_mb, case.memory_mb
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n{}", problems.join("; "), summary(&run)))
    }
}

fn log(name: &str, got: &Result<(), String>) {
    let Some(file) = std::env::var_os(LOG_ENV) else {
        return;
    };
    let what = match got {
        Ok(()) => "ok".to_string(),
        Err(e) => e.lines().take(12).collect::<Vec<_>>().join(" | "),
    };
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
    {
        // One write per line: trials run in parallel and append to the same file.
        let _ = f.write_all(format!("{name}\t{what}\n").as_bytes());
    }
}
