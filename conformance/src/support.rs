//! Small helpers the cases share.

use engine_api::{
    Backend, Context, Error, EvalOptions, Isolate, IsolateOptions, Result as ApiResult,
    TransferOptions, Value,
};

/// Why a case failed.
#[derive(Debug)]
pub struct Failure(pub String);

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure(format!("unexpected error: {e:?}"))
    }
}

impl From<&str> for Failure {
    fn from(s: &str) -> Self {
        Failure(s.to_owned())
    }
}

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Failure(s)
    }
}

/// A case's result.
pub type R<T = ()> = Result<T, Failure>;

/// Fails the case with a message unless the condition holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {{
        let holds: bool = $cond;
        if !holds {
            return Err($crate::support::Failure(format!($($fmt)+)));
        }
    }};
    ($cond:expr) => {{
        let holds: bool = $cond;
        if !holds {
            return Err($crate::support::Failure(format!("failed: {}", stringify!($cond))));
        }
    }};
}

/// Fails the case unless the two sides are equal.
#[macro_export]
macro_rules! ensure_eq {
    ($a:expr, $b:expr) => {{
        let (a, b) = (&$a, &$b);
        if a != b {
            return Err($crate::support::Failure(format!(
                "{} != {}: {:?} vs {:?}",
                stringify!($a),
                stringify!($b),
                a,
                b
            )));
        }
    }};
}

/// A new isolate with default options and one context.
pub fn setup<E: Backend>() -> R<(E::Isolate, E::Context)> {
    setup_with::<E>(IsolateOptions::default())
}

/// A new isolate with these options and one context.
pub fn setup_with<E: Backend>(opts: IsolateOptions) -> R<(E::Isolate, E::Context)> {
    let isolate = E::Isolate::new(opts)?;
    let context = isolate.create_context()?;
    Ok((isolate, context))
}

/// Evaluates `code` with the result deep-copied.
pub fn eval<C: Context>(context: &C, code: &str) -> R<Value> {
    Ok(context.eval(code, &EvalOptions::copy())?)
}

/// Evaluates `code` and compares the copied result, as JSON, with `expected`.
pub fn eval_json<C: Context>(context: &C, code: &str, expected: serde_json::Value) -> R {
    let got = eval(context, code)?;
    let got = serde_json::to_value(&got).map_err(|e| Failure(e.to_string()))?;
    if got != expected {
        return Err(Failure(format!("{code}: got {got}, expected {expected}")));
    }
    Ok(())
}

/// Expects an error matching `pred`; returns it.
pub fn expect_err<T>(
    result: ApiResult<T>,
    what: &str,
    pred: impl FnOnce(&Error) -> bool,
) -> R<Error> {
    match result {
        Ok(_) => Err(Failure(format!("expected {what}, got Ok"))),
        Err(e) if pred(&e) => Ok(e),
        Err(e) => Err(Failure(format!("expected {what}, got {e:?}"))),
    }
}

/// Expects a JS error with this name; returns it.
pub fn expect_js<T>(result: ApiResult<T>, name: &str) -> R<engine_api::JsError> {
    let e = expect_err(
        result,
        name,
        |e| matches!(e, Error::Js(j) if j.name == name),
    )?;
    match e {
        Error::Js(j) => Ok(j),
        _ => unreachable!("matched above"),
    }
}

/// Waits for a task with a generous deadline, so a lost wake-up fails instead of hanging.
pub fn wait<T: Send + 'static>(task: engine_api::Task<T>) -> ApiResult<T> {
    task.wait()
}

/// Evaluates `code` with the result as a reference of backend `E`.
pub fn reference_to<E: Backend>(c: &E::Context, code: &str) -> R<E::Reference> {
    let opts = EvalOptions {
        result: TransferOptions::reference(),
        ..Default::default()
    };
    let v = c.eval(code, &opts)?;
    let any = v
        .as_reference()
        .ok_or_else(|| format!("not a reference: {v:?}"))?;
    let r = <E::Reference as engine_api::Reference>::from_any(any)
        .ok_or("reference of another backend")?;
    Ok(r)
}

/// Generous bound for a call that must end (it never ends when the behaviour under test
/// is broken: guest code ran, cancellation failed).
pub const ENDS_WITHIN: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs `f` on its own thread; fails if it has not returned within [`ENDS_WITHIN`].
pub fn ends<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> R<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(ENDS_WITHIN)
        .map_err(|_| format!("{what} did not end within {ENDS_WITHIN:?}").into())
}
