//! What a hostile case is: a script, the limits it runs under, the backends it applies to,
//! and the outcomes that count as contained.

/// Both backends.
pub const BOTH: &[&str] = &["boa-wasi", "v8"];
/// Boa-WASI only (fuel cases).
pub const BOA: &[&str] = &["boa-wasi"];

/// The script of a case.
#[derive(Clone, Copy)]
pub enum Src {
    /// JavaScript as written.
    Code(&'static str),
    /// JavaScript too big to write out (a deep chain in the source), made on demand.
    Gen(fn() -> String),
}

impl Src {
    pub fn text(&self) -> String {
        match self {
            Src::Code(s) => (*s).to_owned(),
            Src::Gen(f) => f(),
        }
    }
}

/// How the API path drives a case (the CLI path always evaluates the script once).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Drive {
    /// `context.eval(script)` with the case's timeout; the CLI runs it too.
    Eval,
    /// As `Eval`, API only: the script calls the host callbacks the API child installs
    /// (`hostAsync`: async, 1 ms of host work; `hostIgnored`: ignored), which the CLI
    /// does not have.
    ApiEval,
    /// As `Eval`, with no timeout, while another thread disposes the isolate after this
    /// many milliseconds. API only.
    DisposeAfterMs(u64),
    /// The host builds an array nested this deep, makes an `ExternalCopy` of it and hands
    /// it to the script (`$0`) by `CopyInto`. API only.
    HostDeepValue(usize),
    /// As `ApiEval`, with the result read by `eval_as::<serde_json::Value>` on a thread
    /// with a 2 MiB stack (a typical async runtime's worker): the user's own `Deserialize`
    /// recursion must stay bounded. API only.
    EvalAs,
}

/// One way a call may end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A result; with `Some`, printed exactly so (strings raw, numbers as JS prints them).
    Value(Option<&'static str>),
    /// A JS exception; with `Some`, of this `name`.
    Js(Option<&'static str>),
    Timeout,
    MemoryLimit,
    OutOfFuel,
    NotTransferable,
    StackOverflow,
    InvalidArgument,
    Disposed,
    /// Any typed error (anything but `Error::Backend` and panics): for calls that can never
    /// finish, where the contract names no variant yet.
    Typed,
}

/// One hostile case.
#[derive(Clone, Copy)]
pub struct Case {
    pub name: &'static str,
    pub src: Src,
    /// `--memory-limit` / `IsolateOptions::memory_limit_mb`.
    pub memory_mb: u64,
    /// `--timeout` / `EvalOptions::timeout`.
    pub timeout_ms: Option<u64>,
    /// `--fuel` / `IsolateOptions::fuel`.
    pub fuel: Option<u64>,
    pub backends: &'static [&'static str],
    /// Any of these ends the case correctly.
    pub expect: &'static [Outcome],
    /// API only: a second call on the same isolate after the case, without a timeout, and
    /// what it must give (`Disposed` is always accepted: the backend may say it disposed).
    pub then: Option<(&'static str, &'static [Outcome])>,
    pub drive: Drive,
}

/// The defaults a case starts from: 32 MB, 100 ms, every backend, eval.
pub const BASE: Case = Case {
    name: "",
    src: Src::Code(""),
    memory_mb: 32,
    timeout_ms: Some(100),
    fuel: None,
    backends: BOTH,
    expect: &[],
    then: None,
    drive: Drive::Eval,
};

impl Case {
    /// The timeout that bounds wall time: timeouts past a minute (the `u64::MAX` case)
    /// bound nothing beyond the fixed allowance.
    pub fn bounding_timeout_ms(&self) -> u64 {
        match self.timeout_ms {
            Some(t) if t <= 60_000 => t,
            _ => 0,
        }
    }

    pub fn runs_on_cli(&self) -> bool {
        self.drive == Drive::Eval
    }
}

/// Every case, from every table.
pub fn all() -> Vec<Case> {
    let mut all = Vec::new();
    all.extend_from_slice(super::results::CASES);
    all.extend_from_slice(super::memory::CASES);
    all.extend_from_slice(super::time::CASES);
    all.extend_from_slice(super::soft_timeout::CASES);
    all.extend_from_slice(super::stack::CASES);
    all.extend_from_slice(super::host::CASES);
    let mut names: Vec<_> = all.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), all.len(), "two hostile cases share a name");
    all
}
