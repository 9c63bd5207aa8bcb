//! The one error type of the contract.

use crate::{Capability, Cause, JsError};

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
    /// The isolate is disposed (explicitly, or by a limit): before the call, or while it ran
    /// (a `dispose` from another thread can end a running call with this error).
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
    /// A handle or reference holds another kind of thing than the call needs: a reference
    /// applied whose value is not a function, a property read through a reference to a
    /// primitive, an external copy used as a reference. The message says what was expected.
    #[error("wrong kind: {0}")]
    WrongKind(String),
    /// A module was evaluated, or its namespace asked for, before
    /// [`Module::instantiate`](crate::Module::instantiate) succeeded.
    #[error("module is not instantiated: call instantiate before evaluate or namespace")]
    NotInstantiated,
    /// A call was refused because it would re-enter an isolate that is busy with the call
    /// that led to it: a host callback calling into its own isolate on a backend whose
    /// guest is not re-entrant, a nested call into an isolate whose thread waits for this
    /// one, a blocking wait for a promise from inside its own isolate's turn. Nothing ran;
    /// the isolate stays usable.
    #[error("re-entrant call refused: {reason}")]
    ReentrancyRefused {
        /// Which re-entry it was, and what to do instead.
        reason: &'static str,
    },
    /// An option (of an isolate, a runtime) has a value the backend refuses, such as a
    /// `memory_limit_mb` below [`IsolateOptions::MIN_MEMORY_LIMIT_MB`](crate::IsolateOptions::MIN_MEMORY_LIMIT_MB)
    /// or a snapshot made by another backend. Nothing was created.
    #[error("invalid option `{option}`: {message}")]
    InvalidOption {
        /// The option's name (`memory_limit_mb`, `snapshot`, ..).
        option: &'static str,
        /// Why its value is refused.
        message: String,
    },
    /// The backend lacks this capability.
    #[error("not supported by this backend: {0}")]
    Unsupported(Capability),
    /// A call was made with an argument the contract rejects (a source longer than the
    /// isolate compiles, a typed array whose byte length is not a multiple of its element
    /// size, an unknown backend name, ..).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A value read into a Rust type ([`Value::to_serde`](crate::Value::to_serde),
    /// [`Context::eval_as`](crate::Context::eval_as), `get_as`, `apply_as`) does not have
    /// the shape the type asks for: a string where a number is asked for, a fraction read
    /// into an integer, a missing struct field. The message says what did not fit; the
    /// call itself ran.
    #[error("value does not fit the Rust type: {0}")]
    Deserialize(String),
    /// Guest recursion went deeper than the backend allows, and the guest could not catch it.
    #[error("maximum call stack size exceeded")]
    StackOverflow,
    /// A host callback failed (returned an error or panicked) and the error the guest saw
    /// thrown was not caught: it propagated out of the call. Inside the guest it is an
    /// ordinary thrown error that guest code may catch; only when it ends the call does the
    /// host get this variant, with the callback's own error as `source`
    /// ([`callback_error`](Error::callback_error) returns it).
    #[error("host callback failed: {message}")]
    Callback {
        /// What the callback's error says.
        message: String,
        /// The callback's error (an [`Error`]), when it returned one.
        #[source]
        source: Option<Cause>,
    },
    /// The backend itself failed (engine error, malformed guest data, I/O of the module cache).
    #[error("{backend} backend error: {message}")]
    Backend {
        /// `boa-wasi` or `v8` (`engine-api` for the shared host pool and queues, `isovm`
        /// for the facade).
        backend: &'static str,
        /// What went wrong.
        message: String,
        /// The failure beneath (a wasmtime or I/O error), when there is one.
        #[source]
        source: Option<Cause>,
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

    /// An [`Error::Backend`] of `backend` without a source.
    pub fn backend(backend: &'static str, message: impl Into<String>) -> Self {
        Error::Backend {
            backend,
            message: message.into(),
            source: None,
        }
    }

    /// An [`Error::Backend`] of `backend` caused by `cause` (kept as the source).
    pub fn backend_with(
        backend: &'static str,
        message: impl Into<String>,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::Backend {
            backend,
            message: message.into(),
            source: Some(Cause::new(cause)),
        }
    }

    /// An [`Error::Callback`] with a message and no source (a callback that panicked).
    pub fn callback(message: impl Into<String>) -> Self {
        Error::Callback {
            message: message.into(),
            source: None,
        }
    }

    /// The [`Error::Callback`] for `error`, which a host callback returned: its message, and
    /// `error` as the source. An error that is one already is returned as it is.
    pub fn from_callback(error: Error) -> Self {
        match error {
            Error::Callback { .. } => error,
            other => Error::Callback {
                message: other.to_string(),
                source: Some(Cause::new(other)),
            },
        }
    }

    /// The error a host callback returned, if this is an [`Error::Callback`] that has one.
    pub fn callback_error(&self) -> Option<&Error> {
        match self {
            Error::Callback {
                source: Some(c), ..
            } => c.downcast_ref::<Error>(),
            _ => None,
        }
    }

    /// An [`Error::InvalidOption`].
    pub fn invalid_option(option: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidOption {
            option,
            message: message.into(),
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
