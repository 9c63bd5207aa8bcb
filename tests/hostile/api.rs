//! The API path, in a child process of its own: the case runs through
//! `isovm::with_backend`, next to a neighbour isolate that must keep working.

use std::thread;
use std::time::{Duration, Instant};

use isovm::traits::{Backend, Context, Isolate};
use isovm::{
    BackendVisitor, Callback, Error, EvalOptions, ExternalCopy, IsolateOptions, ScriptOrigin,
    Serde, TransferOptions, Value,
};
use serde_json::json;

use super::case::{Case, Drive, Outcome};

/// Slack after a timeout within which an `Ok` result still counts as on time.
const ON_TIME_SLACK: Duration = Duration::from_millis(500);
/// How long the neighbour's `eval_async` may wait while the case runs.
const NEIGHBOUR_PATIENCE: Duration = Duration::from_secs(5);

/// How one call ended, for reports.
pub fn describe(r: &isovm::Result<Value>) -> String {
    match r {
        Ok(v) => format!("Ok({})", render(v)),
        Err(Error::Js(js)) => format!("Js({}: {})", js.name, js.message),
        Err(e) => format!("{e:?}").chars().take(300).collect(),
    }
}

/// A value as the CLI prints it (for the common cases).
fn render(v: &Value) -> String {
    match v {
        Value::Undefined => "undefined".into(),
        Value::String(s) => s.chars().take(200).collect(),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e21 => format!("{}", *n as i128),
        other => {
            let s = serde_json::to_string(other).unwrap_or_else(|e| format!("<{e}>"));
            s.chars().take(200).collect()
        }
    }
}

/// Whether `got` is the outcome `want`.
pub fn matches(want: Outcome, got: &isovm::Result<Value>) -> bool {
    match (want, got) {
        (Outcome::Value(None), Ok(_)) => true,
        (Outcome::Value(Some(s)), Ok(v)) => render(v) == s,
        (Outcome::Js(None), Err(Error::Js(_))) => true,
        (Outcome::Js(Some(n)), Err(Error::Js(js))) => js.name == n,
        (Outcome::Timeout, Err(Error::Timeout { .. })) => true,
        (Outcome::MemoryLimit, Err(Error::MemoryLimit)) => true,
        (Outcome::OutOfFuel, Err(Error::OutOfFuel)) => true,
        (Outcome::NotTransferable, Err(Error::NotTransferable(_))) => true,
        (Outcome::StackOverflow, Err(Error::StackOverflow)) => true,
        (Outcome::InvalidArgument, Err(Error::InvalidArgument(_))) => true,
        (Outcome::Disposed, Err(Error::Disposed)) => true,
        (Outcome::Typed, Err(Error::Backend { .. })) => false,
        (Outcome::Typed, Err(_)) => true,
        _ => false,
    }
}

/// Threads the process may hold after a case: engine and pool threads, not one per call.
const MAX_THREADS: usize = 64;

fn thread_count() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("Threads:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

/// What the API child's guest can call: a `console` like the CLI's (output dropped), an
/// async host call doing 1 ms of host work, an ignored one, a typed one taking any
/// JSON-like value through serde, and a future that never completes.
fn install_host<C: Context>(cx: &C) -> isovm::Result<()> {
    let quiet = Callback::new(|_| Ok(Value::Undefined));
    let slow = Callback::new_async(|args| {
        thread::sleep(Duration::from_millis(1));
        Ok(args.into_iter().next().unwrap_or(Value::Undefined))
    });
    let ignored = Callback::new_ignored(|_| Ok(Value::Undefined));
    // Typed: any JSON-like argument through serde; a future that never completes.
    let typed = Callback::wrap(|v: Serde<serde_json::Value>| v.0.to_string().len());
    let never = Callback::from_async(|_n: f64| std::future::pending::<f64>());
    cx.eval_closure(
        "const log = $0; \
         globalThis.console = { log, info: log, warn: log, error: log, debug: log }; \
         globalThis.hostAsync = $1; globalThis.hostIgnored = $2; \
         globalThis.hostTyped = $3; globalThis.hostNever = $4;",
        vec![
            Value::Callback(quiet),
            Value::Callback(slow),
            Value::Callback(ignored),
            Value::Callback(typed),
            Value::Callback(never),
        ],
        &EvalOptions::default(),
    )?;
    Ok(())
}

struct Child<'a> {
    case: &'a Case,
}

impl BackendVisitor for Child<'_> {
    type Output = Result<serde_json::Value, String>;

    fn visit<E: Backend>(self) -> Self::Output {
        run::<E>(self.case)
    }
}

fn deep_value(depth: usize) -> Value {
    let mut v = Value::Array(vec![]);
    for _ in 0..depth {
        v = Value::Array(vec![v]);
    }
    v
}

fn run<E: Backend>(case: &Case) -> Result<serde_json::Value, String> {
    let fail = |what: &str, e: Error| format!("{what}: {e}");
    let neighbour = E::Isolate::new(IsolateOptions::default()).map_err(|e| fail("neighbour", e))?;
    let ncx = neighbour
        .create_context()
        .map_err(|e| fail("neighbour context", e))?;
    let two = ncx.eval("1 + 1", &EvalOptions::copy());
    if two != Ok(Value::from(2)) {
        return Err(format!("neighbour before the case: {}", describe(&two)));
    }

    let isolate = E::Isolate::new(IsolateOptions {
        memory_limit_mb: case.memory_mb,
        fuel: case.fuel,
        ..Default::default()
    })
    .map_err(|e| fail("isolate", e))?;
    let cx = isolate.create_context().map_err(|e| fail("context", e))?;
    install_host(&cx).map_err(|e| fail("host callbacks", e))?;
    let timeout = match case.drive {
        Drive::DisposeAfterMs(_) => None,
        _ => case.timeout_ms.map(Duration::from_millis),
    };
    let opts = EvalOptions {
        timeout,
        origin: ScriptOrigin::file("hostile.js"),
        result: TransferOptions::copy().with_promise(),
        ..Default::default()
    };
    let code = case.src.text();

    let start = Instant::now();
    let (result, neighbour_async) = thread::scope(|s| {
        // The neighbour's async work must not starve while the case runs.
        let ncx2 = ncx.clone();
        let probe = s.spawn(move || {
            thread::sleep(Duration::from_millis(20));
            let t = Instant::now();
            let r = pollster::block_on(ncx2.eval_async("1 + 1", EvalOptions::copy()));
            (r, t.elapsed())
        });
        if let Drive::DisposeAfterMs(ms) = case.drive {
            let iso = isolate.clone();
            s.spawn(move || {
                thread::sleep(Duration::from_millis(ms));
                let _ = iso.dispose();
            });
        }
        let result = match case.drive {
            Drive::HostDeepValue(depth) => match ExternalCopy::new(deep_value(depth)) {
                Ok(copy) => cx.eval_closure(&code, vec![Value::CopyInto(copy)], &opts),
                Err(e) => Err(e),
            },
            Drive::EvalAs => thread::Builder::new()
                .stack_size(2 << 20)
                .spawn_scoped(s, || {
                    cx.eval_as::<serde_json::Value>(&code, &opts)
                        .map(|j| Value::from(j.to_string().len()))
                })
                .map_err(|e| Error::callback(format!("spawning the eval_as thread: {e}")))
                .and_then(|t| {
                    t.join()
                        .unwrap_or_else(|_| Err(Error::callback("the eval_as thread panicked")))
                }),
            _ => cx.eval(&code, &opts),
        };
        (result, probe.join())
    });
    let elapsed = start.elapsed();
    let (neighbour_async, neighbour_async_wait) =
        neighbour_async.map_err(|_| "the neighbour's eval_async thread panicked".to_string())?;

    let mut report = json!({
        "case": case.name,
        "backend": E::NAME,
        "outcome": describe(&result),
        "elapsed_ms": elapsed.as_millis() as u64,
        "neighbour_async_ms": neighbour_async_wait.as_millis() as u64,
    });
    if !case.expect.iter().any(|&w| matches(w, &result)) {
        return Err(format!(
            "ended as {} after {} ms; expected one of {:?}",
            describe(&result),
            elapsed.as_millis(),
            case.expect
        ));
    }
    if let (Ok(_), Some(t)) = (&result, timeout)
        && elapsed > t + ON_TIME_SLACK
    {
        return Err(format!(
            "returned Ok after {} ms, past its {} ms timeout",
            elapsed.as_millis(),
            t.as_millis()
        ));
    }
    if neighbour_async != Ok(Value::from(2)) || neighbour_async_wait > NEIGHBOUR_PATIENCE {
        return Err(format!(
            "neighbour's eval_async during the case: {} after {} ms",
            describe(&neighbour_async),
            neighbour_async_wait.as_millis()
        ));
    }

    if let Some((then, want)) = case.then {
        let t = Instant::now();
        let next = cx.eval(then, &EvalOptions::copy());
        report["then"] = json!(describe(&next));
        report["then_ms"] = json!(t.elapsed().as_millis() as u64);
        let ok = want.iter().any(|&w| matches(w, &next)) || matches(Outcome::Disposed, &next);
        if !ok {
            return Err(format!(
                "the next call on the isolate (`{then}`) ended as {}; expected one of {want:?} or Disposed",
                describe(&next)
            ));
        }
    }

    let two = ncx.eval("1 + 1", &EvalOptions::copy());
    if two != Ok(Value::from(2)) {
        return Err(format!("neighbour after the case: {}", describe(&two)));
    }
    // The guest must not decide how many threads the host runs.
    let threads = thread_count();
    report["threads"] = json!(threads);
    if threads > MAX_THREADS {
        return Err(format!(
            "{threads} threads in the process after the case (at most {MAX_THREADS})"
        ));
    }
    let _ = isolate.dispose();
    let _ = neighbour.dispose();
    Ok(report)
}

/// The child's `main`: runs `case` on `backend`, prints one JSON line, exits 0 on success.
pub fn child_main(backend: &str, case: &Case) -> ! {
    let outcome = backend
        .parse()
        .and_then(|kind| isovm::with_backend(kind, Child { case }))
        .map_err(|e| format!("with_backend: {e}"))
        .and_then(|r| r);
    match outcome {
        Ok(report) => {
            println!("{report}");
            std::process::exit(0);
        }
        Err(why) => {
            println!(
                "{}",
                json!({ "case": case.name, "backend": backend, "error": why })
            );
            std::process::exit(1);
        }
    }
}
