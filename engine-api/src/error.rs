//! The one error type of the contract.

use std::fmt;

use crate::Capability;

/// Where in the source a JavaScript error was thrown.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Location {
    /// File name as given in the script origin (`<eval>` when none was given).
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A JavaScript exception, as owned data: nothing in it points into an isolate.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct JsError {
    /// `error.name` (`TypeError`, `SyntaxError`, ..), or `Error` for a thrown non-error value.
    pub name: String,
    /// `error.message`, or the string form of a thrown non-error value.
    pub message: String,
    /// `error.stack` when the engine provides one.
    pub stack: Option<String>,
    /// Where it was thrown, when known.
    pub location: Option<Location>,
    /// The source line at `location`, when known.
    pub source_line: Option<String>,
}

impl JsError {
    /// A JS error with this name and message and nothing else.
    pub fn new(name: impl Into<String>, message: impl Into<String>) -> Self {
        JsError {
            name: name.into(),
            message: message.into(),
            ..Default::default()
        }
    }
}

impl fmt::Display for JsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.location {
            write!(f, "{loc}: ")?;
        }
        if self.message.is_empty() {
            write!(f, "{}", self.name)
        } else {
            write!(f, "{}: {}", self.name, self.message)
        }
    }
}

/// Every way an isovm call can fail.
///
/// Limits each have their own variant; after `MemoryLimit` the isolate is disposed, after
/// `Timeout` and `OutOfFuel` [`Isolate::is_disposed`](crate::Isolate::is_disposed) says
/// whether it is still usable (a backend that cannot resume safely disposes it).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Guest code threw (or failed to compile: `name` is then `SyntaxError`).
    #[error("{0}")]
    Js(JsError),
    /// The call ran longer than its `timeout`.
    #[error("script execution timed out{}", stack.as_deref().map(|s| format!("\n{s}")).unwrap_or_default())]
    Timeout {
        /// The guest's JS stack where it was stopped (naming the looping function), on
        /// backends that can capture it.
        stack: Option<String>,
    },
    /// The call's task was cancelled ([`Task::cancel`](crate::Task::cancel), or the task
    /// dropped before it finished): work not started never ran, a running guest call was
    /// stopped. As after `Timeout`, [`Isolate::is_disposed`](crate::Isolate::is_disposed)
    /// says whether the isolate is still usable.
    #[error("the call was cancelled")]
    Cancelled,
    /// The isolate reached its memory limit; it has been disposed.
    #[error("isolate was disposed during execution due to memory limit")]
    MemoryLimit,
    /// The isolate's fuel budget is spent.
    #[error("isolate ran out of fuel")]
    OutOfFuel,
    /// The isolate is disposed (explicitly, or by a limit).
    #[error("isolate is disposed")]
    Disposed,
    /// A handle (reference, context, script, module, copy) was released and used again.
    #[error("{0} has been released")]
    Released(&'static str),
    /// A value cannot cross between isolates (a function, a symbol, a cycle, ..).
    #[error("value is not transferable: {0}")]
    NotTransferable(String),
    /// A blocking call would wait forever: the isolate's turn is held by a thread that
    /// waits (directly or through other threads) for an isolate this thread holds, as
    /// when two threads make opposite cross-isolate calls at once. Nothing ran; the
    /// caller can unwind and retry.
    #[error("deadlock: this call waits for an isolate whose holder waits for this thread")]
    Deadlock,
    /// An async host callback was refused because its isolate already has `limit` of them
    /// pending on the host callback pool (see [`HostPool`](crate::HostPool)); the guest
    /// sees the call's promise rejected.
    #[error("too many async host calls pending for this isolate (limit {limit})")]
    HostQueueFull {
        /// The per-isolate bound that was reached.
        limit: usize,
    },
    /// A call's result is a promise that nothing can settle any more: no async host call
    /// of its isolate is pending and no other call into the isolate is running or queued
    /// that could resolve it (as with `new Promise(() => {})`). Waiting would never end, so
    /// the call ends instead; the isolate stays usable.
    #[error("the result is a promise that nothing pending can settle")]
    PromiseNeverSettles,
    /// A handle was used with an isolate other than the one that owns it.
    #[error("handle belongs to another isolate")]
    WrongIsolate,
    /// The backend lacks this capability.
    #[error("not supported by this backend: {0}")]
    Unsupported(Capability),
    /// A call was made with arguments the contract rejects.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Guest recursion went deeper than the backend allows, and the guest could not catch it.
    #[error("maximum call stack size exceeded")]
    StackOverflow,
    /// A host callback failed; the guest saw it as a thrown error.
    #[error("host callback failed: {0}")]
    Callback(String),
    /// The backend itself failed (engine error, malformed guest data, I/O of the module cache).
    #[error("{backend} backend error: {message}")]
    Backend {
        /// `boa-wasi` or `v8`.
        backend: &'static str,
        /// What went wrong.
        message: String,
    },
}

impl Error {
    /// A timeout without a captured stack.
    pub fn timeout() -> Self {
        Error::Timeout { stack: None }
    }

    /// Shorthand for a [`Error::Js`] built from a name and a message.
    pub fn js(name: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Js(JsError::new(name, message))
    }

    /// The JS exception inside, if this is one.
    pub fn as_js(&self) -> Option<&JsError> {
        match self {
            Error::Js(e) => Some(e),
            _ => None,
        }
    }

    /// True for errors after which the isolate cannot be used again.
    pub fn is_fatal(&self) -> bool {
        matches!(self, Error::MemoryLimit | Error::Disposed)
    }
}

impl From<JsError> for Error {
    fn from(e: JsError) -> Self {
        Error::Js(e)
    }
}

/// The contract's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
