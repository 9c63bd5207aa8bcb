//! Octane 2.0 on every compiled backend and on Boa built natively (`cargo bench --bench
//! octane`): prints each score, the Boa-WASI / native Boa ratio per benchmark and their
//! geomeans, without fuel and with fuel. Measures; asserts nothing.
//!
//! - Arguments: benchmark names (`richards`, `splay`, ..) to run only those.
//! - `ISOVM_OCTANE_DIR`: the Octane files (default `../shared/octane` beside the repo).
//! - `ISOVM_OCTANE_ENGINES`: a comma list out of `boa-wasi`, `boa-wasi+fuel`, `v8`,
//!   `native-boa` (default: every compiled backend, with and without fuel where it meters
//!   fuel, and native Boa); `ISOVM_OCTANE_NATIVE=0` skips native Boa.
//! - `ISOVM_OCTANE_ITERATIONS=N`: fixed work instead of timed runs (`octane/fixed.js`):
//!   each benchmark body runs N times with no clock in the loop, for counting instructions
//!   (`perf stat -e instructions:u`; the difference of two N cancels start-up). The scores
//!   are then the number of bodies run.
//!
//! Every run gets a fresh isolate with the default options (128 MiB memory limit); a
//! limit hit is that benchmark's result. Native Boa is `benches/native-boa`, a crate outside
//! the workspace built here on first use (into `target/native-boa`) with the guest's Boa
//! version, features and profile, and run as one process per benchmark.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use isovm::{BackendKind, Error, EvalOptions, Isolate, IsolateOptions, ScriptOrigin};

/// The suite's files, in Octane's order.
const BENCHMARKS: [&str; 9] = [
    "richards",
    "deltablue",
    "crypto",
    "raytrace",
    "navier-stokes",
    "splay",
    "regexp",
    "earley-boyer",
    "box2d",
];

/// The driver every engine runs after `base.js` and one benchmark (one file for all).
const DRIVER: &str = include_str!("octane/driver.js");
const DRIVER_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/octane/driver.js");
/// The fixed-work driver (`ISOVM_OCTANE_ITERATIONS`), after a line defining its count.
const FIXED_DRIVER: &str = include_str!("octane/fixed.js");

/// The fuel budget of the fuel runs: far more than a benchmark burns (~1e10-1e11).
const FUEL: u64 = 1 << 60;

const NATIVE: &str = "native-boa";

/// Something that runs Octane.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Engine {
    Isovm { kind: BackendKind, fuel: bool },
    NativeBoa,
}

impl Engine {
    fn name(self) -> String {
        match self {
            Engine::Isovm { kind, fuel: false } => kind.name().to_owned(),
            Engine::Isovm { kind, fuel: true } => format!("{}+fuel", kind.name()),
            Engine::NativeBoa => NATIVE.to_owned(),
        }
    }
}

/// A score, or why a suite has none.
type Score = Result<f64, String>;
/// One line of the table: a score's name and each engine's score.
type Row = (String, Vec<Option<Score>>);

/// What one benchmark run reports: its scores by name (an error text instead of a score
/// for a failed suite), or why the run itself failed.
#[derive(Debug, Default)]
struct Run {
    scores: Vec<(String, Score)>,
    failure: Option<String>,
    fuel_used: Option<u64>,
    wall: Duration,
}

/// Parses the driver's JSON.
fn parse_report(json: &str) -> anyhow::Result<Vec<(String, Score)>> {
    let v: serde_json::Value = serde_json::from_str(json.trim())
        .with_context(|| format!("the driver's result is not JSON: {json:.200}"))?;
    let results = v["results"]
        .as_array()
        .ok_or_else(|| anyhow!("no `results` in {json:.200}"))?;
    let mut out = Vec::new();
    for r in results {
        let name = r["name"].as_str().unwrap_or("?").to_owned();
        let score = match (r["score"].as_str(), r["error"].as_str()) {
            (Some(s), _) => s
                .parse::<f64>()
                .map_err(|_| format!("score {s:?} is not a number")),
            (None, Some(e)) => Err(e.to_owned()),
            (None, None) => Err("neither score nor error".to_owned()),
        };
        out.push((name, score));
    }
    if out.is_empty() {
        bail!("the driver reported nothing: {json:.200}");
    }
    Ok(out)
}

/// A short name for an isovm error, for the table (the whole text goes below it).
fn error_label(e: &Error) -> String {
    match e {
        Error::MemoryLimit => "MemoryLimit".into(),
        Error::OutOfFuel => "OutOfFuel".into(),
        Error::Timeout { .. } => "Timeout".into(),
        Error::StackOverflow => "StackOverflow".into(),
        Error::Js(js) => format!("{}: {}", js.name, js.message),
        other => other.to_string(),
    }
}

/// The driver every engine runs: its source and a file holding it (for native Boa).
struct Driver {
    code: String,
    path: PathBuf,
}

impl Driver {
    /// The timed driver, or with `ISOVM_OCTANE_ITERATIONS` the fixed-work one (written
    /// under `target/` for native Boa).
    fn pick(root: &Path) -> anyhow::Result<Self> {
        let Ok(n) = std::env::var("ISOVM_OCTANE_ITERATIONS") else {
            return Ok(Driver {
                code: DRIVER.to_owned(),
                path: PathBuf::from(DRIVER_PATH),
            });
        };
        let n: u32 = n
            .trim()
            .parse()
            .with_context(|| format!("ISOVM_OCTANE_ITERATIONS={n}: expected a count"))?;
        let code = format!("var OCTANE_ITERATIONS = {n};\n{FIXED_DRIVER}");
        let dir = root.join("target").join("octane-fixed");
        std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
        let path = dir.join(format!("fixed-{n}.js"));
        std::fs::write(&path, &code).with_context(|| path.display().to_string())?;
        Ok(Driver { code, path })
    }
}

fn run_isovm(
    kind: BackendKind,
    fuel: bool,
    base: &str,
    file: &Path,
    driver: &Driver,
) -> anyhow::Result<Run> {
    let code = std::fs::read_to_string(file).with_context(|| file.display().to_string())?;
    let options = IsolateOptions {
        fuel: fuel.then_some(FUEL),
        ..Default::default()
    };
    let isolate = Isolate::with_backend(kind, options)?;
    let start = Instant::now();
    let context = isolate.create_context()?;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
    let steps = [
        (base, "base.js".to_owned()),
        (code.as_str(), name.unwrap_or_default()),
        (driver.code.as_str(), "driver.js".to_owned()),
    ];
    let mut last = None;
    for (code, name) in steps {
        let options = EvalOptions {
            origin: ScriptOrigin::file(name),
            ..Default::default()
        };
        match context.eval(code, &options) {
            Ok(v) => last = Some(v),
            Err(e) => {
                let run = Run {
                    failure: Some(format!("{}\n    {e}", error_label(&e))),
                    wall: start.elapsed(),
                    ..Default::default()
                };
                let _ = isolate.dispose();
                return Ok(run);
            }
        }
    }
    let wall = start.elapsed();
    let fuel_used = isolate.fuel_remaining().map(|left| FUEL - left);
    let _ = isolate.dispose();
    let json = last.as_ref().and_then(|v| v.as_str()).unwrap_or_default();
    Ok(Run {
        scores: parse_report(json)?,
        failure: None,
        fuel_used: fuel.then_some(fuel_used).flatten(),
        wall,
    })
}

/// Builds `benches/native-boa` (on first use; cargo makes later calls no-ops) and returns
/// the binary.
fn build_native(root: &Path) -> anyhow::Result<PathBuf> {
    let target_dir = root.join("target").join(NATIVE);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("building native Boa (benches/native-boa, the guest's profile: fat LTO) ..");
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root.join("benches").join(NATIVE))
        .args(["build", "--release"])
        .env("CARGO_TARGET_DIR", &target_dir);
    // The bench's own build settings must not leak into a different crate's build.
    for key in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
    ] {
        cmd.env_remove(key);
    }
    let status = cmd.status().context("running cargo to build native Boa")?;
    if !status.success() {
        bail!("building benches/native-boa failed ({status})");
    }
    Ok(target_dir.join("release").join(NATIVE))
}

fn run_native(binary: &Path, dir: &Path, file: &Path, driver: &Driver) -> anyhow::Result<Run> {
    let start = Instant::now();
    let out = Command::new(binary)
        .arg(dir.join("base.js"))
        .arg(file)
        .arg(&driver.path)
        .output()
        .with_context(|| format!("running {}", binary.display()))?;
    let wall = start.elapsed();
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Ok(Run {
            failure: Some(format!("{} ({})", stderr.trim(), out.status)),
            wall,
            ..Default::default()
        });
    }
    Ok(Run {
        scores: parse_report(&String::from_utf8_lossy(&out.stdout))?,
        wall,
        ..Default::default()
    })
}

fn engines() -> anyhow::Result<Vec<Engine>> {
    let mut all = Vec::new();
    for kind in BackendKind::compiled() {
        all.push(Engine::Isovm { kind, fuel: false });
        if kind.capabilities()?.fuel {
            all.push(Engine::Isovm { kind, fuel: true });
        }
    }
    all.push(Engine::NativeBoa);
    let picked = match std::env::var("ISOVM_OCTANE_ENGINES") {
        Ok(list) if !list.trim().is_empty() => {
            let mut picked = Vec::new();
            for want in list.split(',').map(str::trim) {
                let Some(e) = all.iter().find(|e| e.name() == want) else {
                    let known: Vec<_> = all.iter().map(|e| e.name()).collect();
                    bail!(
                        "ISOVM_OCTANE_ENGINES: `{want}` is not one of this build's engines ({})",
                        known.join(", ")
                    );
                };
                picked.push(*e);
            }
            picked
        }
        _ => all,
    };
    let skip_native = std::env::var("ISOVM_OCTANE_NATIVE").is_ok_and(|v| v == "0");
    Ok(picked
        .into_iter()
        .filter(|e| !(skip_native && *e == Engine::NativeBoa))
        .collect())
}

fn geomean(values: &[f64]) -> Option<f64> {
    (!values.is_empty())
        .then(|| (values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp())
}

fn cell(v: Option<&Score>) -> String {
    match v {
        Some(Ok(s)) => format!("{s:.0}"),
        Some(Err(e)) => e
            .lines()
            .next()
            .unwrap_or("error")
            .chars()
            .take(14)
            .collect(),
        None => "-".into(),
    }
}

/// Prints the scores table, the ratios to native Boa and the geomeans.
fn print_table(engines: &[Engine], results: &BTreeMap<(String, usize), Run>, order: &[String]) {
    let names: Vec<String> = engines.iter().map(|e| e.name()).collect();
    // score name -> engine index -> score
    let mut rows: Vec<Row> = Vec::new();
    for bench in order {
        let runs: Vec<(usize, &Run)> = (0..engines.len())
            .filter_map(|i| results.get(&(bench.clone(), i)).map(|r| (i, r)))
            .collect();
        // The rows this benchmark's scores make (Splay makes two), from the runs that
        // finished; a failed run fills each of them (or one row named after the file).
        let mut own: Vec<usize> = Vec::new();
        for (i, run) in runs.iter().filter(|(_, r)| r.failure.is_none()) {
            for (name, score) in &run.scores {
                let row = row_index(&mut rows, name, engines.len());
                if !own.contains(&row) {
                    own.push(row);
                }
                rows[row].1[*i] = Some(score.clone());
            }
        }
        if own.is_empty() {
            own.push(row_index(&mut rows, bench, engines.len()));
        }
        for (i, run) in runs.iter() {
            if let Some(f) = &run.failure {
                for row in &own {
                    rows[*row].1[*i] = Some(Err(f.clone()));
                }
            }
        }
    }
    let native = engines.iter().position(|e| *e == Engine::NativeBoa);
    let ratio_of: Vec<(usize, String)> = engines
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            Engine::Isovm {
                kind: BackendKind::BoaWasi,
                fuel,
            } if native.is_some() => Some((
                i,
                if *fuel {
                    "fuel/native".to_owned()
                } else {
                    "wasi/native".to_owned()
                },
            )),
            _ => None,
        })
        .collect();

    print!("\n{:<16}", "score");
    for n in &names {
        print!("{n:>15}");
    }
    for (_, r) in &ratio_of {
        print!("{r:>13}");
    }
    println!();
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); ratio_of.len()];
    for (name, scores) in &rows {
        print!("{name:<16}");
        for s in scores {
            print!("{:>15}", cell(s.as_ref()));
        }
        for (k, (i, _)) in ratio_of.iter().enumerate() {
            match (&scores[*i], native.and_then(|n| scores[n].as_ref())) {
                (Some(Ok(a)), Some(Ok(b))) => {
                    ratios[k].push(a / b);
                    print!("{:>13.2}", a / b);
                }
                _ => print!("{:>13}", "-"),
            }
        }
        println!();
    }
    print!("{:<16}", "geomean");
    for i in 0..engines.len() {
        let ok: Vec<f64> = rows
            .iter()
            .filter_map(|(_, s)| s[i].as_ref().and_then(|r| r.as_ref().ok().copied()))
            .collect();
        let text = match geomean(&ok) {
            Some(g) if ok.len() == rows.len() => format!("{g:.0}"),
            Some(g) => format!("{g:.0} ({}/{})", ok.len(), rows.len()),
            None => "-".into(),
        };
        print!("{text:>15}");
    }
    for r in &ratios {
        match geomean(r) {
            Some(g) => print!("{:>13}", format!("{g:.2} ({})", r.len())),
            None => print!("{:>13}", "-"),
        }
    }
    println!();
    println!(
        "(geomean: of the scores each engine has; ratios: of the scores both have, count in brackets)"
    );

    let mut notes = Vec::new();
    for bench in order {
        for (i, name) in names.iter().enumerate() {
            let Some(run) = results.get(&(bench.clone(), i)) else {
                continue;
            };
            if let Some(f) = &run.failure {
                notes.push(format!("{bench} on {name}: {f}"));
            }
            for (suite, score) in &run.scores {
                if let Err(e) = score {
                    notes.push(format!("{suite} on {name}: {e}"));
                }
            }
            if let Some(used) = run.fuel_used {
                notes.push(format!(
                    "{bench} on {name}: {:.2e} fuel used in {:.1} s",
                    used as f64,
                    run.wall.as_secs_f64()
                ));
            }
        }
    }
    if !notes.is_empty() {
        println!();
        for n in notes {
            println!("{n}");
        }
    }
}

/// The index of row `name`, added (empty) if new.
fn row_index(rows: &mut Vec<Row>, name: &str, engines: usize) -> usize {
    match rows.iter().position(|(n, _)| n == name) {
        Some(p) => p,
        None => {
            rows.push((name.to_owned(), vec![None; engines]));
            rows.len() - 1
        }
    }
}

fn main() -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::var_os("ISOVM_OCTANE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("..").join("shared").join("octane"));
    let base = std::fs::read_to_string(dir.join("base.js")).with_context(|| {
        format!(
            "reading {}/base.js (set ISOVM_OCTANE_DIR to the Octane files)",
            dir.display()
        )
    })?;
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    for o in &only {
        if !BENCHMARKS.contains(&o.as_str()) {
            bail!(
                "unknown benchmark `{o}`: expected some of {}",
                BENCHMARKS.join(", ")
            );
        }
    }
    let order: Vec<String> = BENCHMARKS
        .iter()
        .filter(|b| only.is_empty() || only.iter().any(|o| o == *b))
        .map(|b| (*b).to_owned())
        .collect();
    let engines = engines()?;
    let driver = Driver::pick(root)?;
    let native = if engines.contains(&Engine::NativeBoa) {
        Some(build_native(root)?)
    } else {
        None
    };

    let mut results = BTreeMap::new();
    for bench in &order {
        let file = dir.join(format!("{bench}.js"));
        for (i, engine) in engines.iter().enumerate() {
            let run = match *engine {
                Engine::Isovm { kind, fuel } => run_isovm(kind, fuel, &base, &file, &driver)?,
                Engine::NativeBoa => {
                    let binary = native.as_deref().expect("built above");
                    run_native(binary, &dir, &file, &driver)?
                }
            };
            let summary = match &run.failure {
                Some(f) => f.lines().next().unwrap_or_default().to_owned(),
                None => run
                    .scores
                    .iter()
                    .map(|(n, s)| format!("{n} {}", cell(Some(s))))
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            eprintln!(
                "{bench:<14} {:<14} {summary} ({:.1} s)",
                engine.name(),
                run.wall.as_secs_f64()
            );
            results.insert((bench.clone(), i), run);
        }
    }
    println!("Octane 2.0, one fresh isolate (default options, 128 MiB) or process per benchmark");
    if let Ok(n) = std::env::var("ISOVM_OCTANE_ITERATIONS") {
        println!("fixed work (ISOVM_OCTANE_ITERATIONS={n}): the scores are bodies run, not speed");
    }
    // Scores fall when the machine is busy: say how busy it was.
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average at the end (1, 5, 15 min): {}", load.trim());
    }
    print_table(&engines, &results, &order);
    Ok(())
}
