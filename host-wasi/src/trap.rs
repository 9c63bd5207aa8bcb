//! Why a guest call stopped abnormally, and how that maps onto `engine_api::Error`.

use std::fmt;

use engine_api::abi::{ErrorKind, GuestError};
use engine_api::{Error, JsError, Location};
use wasmtime::{AsContextMut, Trap, Val};

use crate::callback_errors::CallbackErrors;
use crate::state::HostState;

/// The backend name in `Error::Backend`.
pub(crate) const BACKEND: &str = "boa-wasi";

/// A `Error::Backend` with this message.
pub(crate) fn backend(message: impl Into<String>) -> Error {
    Error::backend(BACKEND, message)
}

/// A `Error::Backend` with this message, caused by `cause` (a wasmtime or I/O error).
pub(crate) fn backend_with(
    message: impl Into<String>,
    cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> Error {
    Error::backend_with(BACKEND, message, cause)
}

/// Traps raised by the host side (the epoch callback, WASI, `host_call`).
#[derive(Debug)]
pub(crate) enum HostTrap {
    /// The call's timeout passed.
    Timeout,
    /// The call's task was cancelled.
    Cancelled,
    /// The isolate was disposed while the call ran.
    Disposed,
    /// The guest called `proc_exit`.
    Exit(i32),
    /// The guest broke the ABI (malformed message, out-of-bounds pointer, ..).
    Fault(String),
    /// A call nested in this one (made by a host callback) trapped with this error.
    Nested(Error),
}

impl fmt::Display for HostTrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostTrap::Timeout => f.write_str("timeout"),
            HostTrap::Cancelled => f.write_str("cancelled"),
            HostTrap::Disposed => f.write_str("isolate disposed"),
            HostTrap::Exit(code) => write!(f, "guest exited with code {code}"),
            HostTrap::Fault(m) => write!(f, "guest broke the ABI: {m}"),
            HostTrap::Nested(e) => write!(f, "a nested call failed: {e}"),
        }
    }
}

impl std::error::Error for HostTrap {}

/// A wasmtime error `HostTrap::Fault(message)`.
pub(crate) fn fault(message: impl Into<String>) -> wasmtime::Error {
    wasmtime::Error::new(HostTrap::Fault(message.into()))
}

/// How close to address 0 the shadow stack pointer may come before a trap counts as the
/// shadow stack running out (frames are far smaller than this).
const STACK_GUARD: u32 = 64 << 10;

/// Maps a trap (or any error out of a guest call) to the contract's error. Every such
/// error leaves the guest in an unknown state: the caller disposes the isolate.
pub(crate) fn classify(
    err: &wasmtime::Error,
    mut store: impl AsContextMut<Data = HostState>,
) -> Error {
    let shadow_overflow = shadow_stack_overflowed(&mut store);
    let state = store.as_context().data();
    if let Some(t) = err.downcast_ref::<HostTrap>() {
        return match t {
            HostTrap::Timeout => Error::timeout(),
            HostTrap::Cancelled => Error::Cancelled,
            HostTrap::Disposed => Error::Disposed,
            HostTrap::Nested(e) => e.clone(),
            HostTrap::Exit(_) | HostTrap::Fault(_) => with_stderr(t.to_string(), state),
        };
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => Error::OutOfFuel,
        Some(Trap::Interrupt) => Error::timeout(),
        _ if state.limits.exhausted => Error::MemoryLimit,
        Some(Trap::StackOverflow) => Error::StackOverflow,
        // The shadow stack lies below the guest's data (`--stack-first`): running past its
        // end wraps below address 0 and traps here, without touching other memory.
        Some(Trap::MemoryOutOfBounds) if shadow_overflow => Error::StackOverflow,
        Some(trap) => with_stderr(format!("guest trapped: {trap}"), state),
        None => with_stderr(format!("guest call failed: {err:#}"), state),
    }
}

/// Whether the guest's shadow stack pointer is at (or wrapped past) the bottom of its stack.
fn shadow_stack_overflowed(mut store: impl AsContextMut<Data = HostState>) -> bool {
    let Some((global, top)) = store.as_context().data().shadow_stack else {
        return false;
    };
    match global.get(&mut store) {
        Val::I32(sp) => overflowed(sp as u32, top),
        _ => false,
    }
}

/// A stack pointer `sp` of a stack that starts at `top` and grows down to 0 has run out.
fn overflowed(sp: u32, top: u32) -> bool {
    sp < STACK_GUARD || sp > top
}

fn with_stderr(message: String, state: &HostState) -> Error {
    match state.stderr_tail() {
        Some(tail) => backend(format!("{message} (guest stderr: {tail})")),
        None => backend(message),
    }
}

/// Maps an error the guest reported (the guest is still consistent); `callbacks` are the
/// store's failed host callbacks.
pub(crate) fn guest_error(e: GuestError, callbacks: &CallbackErrors) -> Error {
    match e.kind {
        // An id the host does not know (forgotten, or made up by the guest) still says a
        // callback failed.
        Some(ErrorKind::Callback { id }) => callbacks
            .get(id)
            .unwrap_or_else(|| Error::callback(e.message)),
        Some(ErrorKind::NotTransferable) => Error::NotTransferable(e.message),
        Some(ErrorKind::Released) => Error::Released("handle"),
        Some(ErrorKind::WrongKind) => Error::WrongKind(e.message),
        Some(ErrorKind::StackOverflow) => Error::StackOverflow,
        // The guest unwound a call the host stopped softly (`soft_stop`); a cancel's stop
        // becomes `Error::Cancelled` where the call ends.
        Some(ErrorKind::Interrupted) => Error::Timeout { stack: e.stack },
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

#[cfg(test)]
mod tests {
    use super::overflowed;

    #[test]
    fn shadow_stack_overflow_is_near_zero_or_wrapped() {
        let top = 8 << 20;
        assert!(!overflowed(top, top));
        assert!(!overflowed(top / 2, top));
        assert!(overflowed(100, top));
        assert!(overflowed(0u32.wrapping_sub(48), top));
    }
}
