//! Options of the calls that run guest code: `eval`, `run` / `evaluate`, `apply`.

use std::time::Duration;

use crate::{ScriptOrigin, TransferOptions};

/// Options of `Context::eval` and `eval_closure`.
#[derive(Clone, Debug, Default)]
pub struct EvalOptions {
    /// Stop the call after this long (`Error::Timeout`).
    pub timeout: Option<Duration>,
    /// Where the code came from.
    pub origin: ScriptOrigin,
    /// How the arguments of `eval_closure` enter.
    pub arguments: TransferOptions,
    /// How the result leaves.
    pub result: TransferOptions,
}

impl EvalOptions {
    /// Default options with the result deep-copied.
    pub fn copy() -> Self {
        EvalOptions {
            result: TransferOptions::copy(),
            ..Default::default()
        }
    }

    /// These options with a timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// Options of `Script::run` and `Module::evaluate`.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Stop the call after this long (`Error::Timeout`).
    pub timeout: Option<Duration>,
    /// How the result leaves.
    pub result: TransferOptions,
    /// Release the script after this run.
    pub release: bool,
}

/// Options of `Reference::apply`.
#[derive(Clone, Debug, Default)]
pub struct ApplyOptions {
    /// Stop the call after this long (`Error::Timeout`).
    pub timeout: Option<Duration>,
    /// How the arguments enter.
    pub arguments: TransferOptions,
    /// How the result leaves.
    pub result: TransferOptions,
}

impl ApplyOptions {
    /// Default options with the result deep-copied.
    pub fn copy() -> Self {
        ApplyOptions {
            result: TransferOptions::copy(),
            ..Default::default()
        }
    }
}
