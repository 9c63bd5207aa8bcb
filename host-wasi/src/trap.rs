//! Why a guest call stopped abnormally, and how that maps onto `engine_api::Error`.

use std::fmt;

use backend_boa::abi::{ErrorKind, GuestError};
use engine_api::{Error, JsError, Location};
use wasmtime::Trap;

use crate::state::HostState;

/// The backend name in `Error::Backend`.
pub(crate) const BACKEND: &str = "boa-wasi";

/// A `Error::Backend` with this message.
pub(crate) fn backend(message: impl Into<String>) -> Error {
    Error::Backend {
        backend: BACKEND,
        message: message.into(),
    }
}

/// Traps raised by the host side (the epoch callback, WASI, `host_call`).
#[derive(Debug)]
pub(crate) enum HostTrap {
    /// The call's timeout passed.
    Timeout,
    /// The isolate was disposed while the call ran.
    Disposed,
    /// The guest called `proc_exit`.
    Exit(i32),
    /// The guest broke the ABI (malformed message, out-of-bounds pointer, ..).
    Fault(String),
}

impl fmt::Display for HostTrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostTrap::Timeout => f.write_str("timeout"),
            HostTrap::Disposed => f.write_str("isolate disposed"),
            HostTrap::Exit(code) => write!(f, "guest exited with code {code}"),
            HostTrap::Fault(m) => write!(f, "guest broke the ABI: {m}"),
        }
    }
}

impl std::error::Error for HostTrap {}

/// A wasmtime error `HostTrap::Fault(message)`.
pub(crate) fn fault(message: impl Into<String>) -> wasmtime::Error {
    wasmtime::Error::new(HostTrap::Fault(message.into()))
}

/// Maps a trap (or any error out of a guest call) to the contract's error. Every such
/// error leaves the guest in an unknown state: the caller disposes the isolate.
pub(crate) fn classify(err: &wasmtime::Error, state: &HostState) -> Error {
    if let Some(t) = err.downcast_ref::<HostTrap>() {
        return match t {
            HostTrap::Timeout => Error::timeout(),
            HostTrap::Disposed => Error::Disposed,
            HostTrap::Exit(_) | HostTrap::Fault(_) => with_stderr(t.to_string(), state),
        };
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => Error::OutOfFuel,
        Some(Trap::Interrupt) => Error::timeout(),
        _ if state.limits.denied => Error::MemoryLimit,
        Some(Trap::StackOverflow) => Error::StackOverflow,
        Some(trap) => with_stderr(format!("guest trapped: {trap}"), state),
        None => with_stderr(format!("guest call failed: {err:#}"), state),
    }
}

fn with_stderr(message: String, state: &HostState) -> Error {
    match state.stderr_tail() {
        Some(tail) => backend(format!("{message} (guest stderr: {tail})")),
        None => backend(message),
    }
}

/// Maps an error the guest reported (the guest is still consistent).
pub(crate) fn guest_error(e: GuestError) -> Error {
    match e.kind {
        Some(ErrorKind::NotTransferable) => Error::NotTransferable(e.message),
        Some(ErrorKind::Released) => Error::Released("handle"),
        Some(ErrorKind::WrongKind) => Error::InvalidArgument(e.message),
        Some(ErrorKind::StackOverflow) => Error::StackOverflow,
        Some(ErrorKind::InvalidRequest) => {
            backend(format!("guest rejected a request: {}", e.message))
        }
        Some(ErrorKind::Js) | None => {
            let location = e.file.map(|file| Location {
                file,
                line: e.line.unwrap_or(0),
                column: e.column.unwrap_or(0),
            });
            Error::Js(JsError {
                name: if e.name.is_empty() {
                    "Error".into()
                } else {
                    e.name
                },
                message: e.message,
                stack: e.stack,
                location,
                source_line: None,
            })
        }
    }
}
