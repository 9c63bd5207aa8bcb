//! `HostRequest`: a call from the guest into the host, its `HostResponse`, and its
//! `CallMode`.

use serde::{Deserialize, Serialize};

use super::{Transfer, WireValue};

/// How the guest calls a host function or reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallMode {
    /// Wait for the result.
    Sync,
    /// The guest made promise `promise`; the host settles it later with
    /// `Request::SettlePromise`.
    Async {
        /// Promise id.
        promise: u32,
    },
    /// Fire and forget.
    Ignored,
}

/// A call from the guest into the host (through the `host_call` import).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum HostRequest {
    /// Calls host function / reference `target`. Answers `Value` (Sync) or `Ok`.
    Apply {
        /// Host id.
        target: u32,
        /// `this`.
        receiver: WireValue,
        /// Arguments (already copied by the guest per its `arguments` options).
        args: Vec<WireValue>,
        /// How.
        mode: CallMode,
        /// Result transfer, for references into other isolates.
        result: Transfer,
        /// The call's own timeout (`applySync(.., { timeout })`), in milliseconds, for
        /// references into isolates.
        timeout_ms: Option<u64>,
    },
    /// `target[key]` (see `engine_api::PropertyOptions`; whether it inherits is the host
    /// reference's own). Answers `Value`.
    Get {
        /// Host id.
        target: u32,
        /// Key.
        key: WireValue,
        /// Result transfer.
        result: Transfer,
        /// Run getters and Proxy traps.
        accessors: bool,
    },
    /// `target[key] = value` (see `engine_api::PropertyOptions`). Answers `Bool`.
    Set {
        /// Host id.
        target: u32,
        /// Key.
        key: WireValue,
        /// Value.
        value: WireValue,
        /// Run setters and Proxy traps.
        accessors: bool,
    },
    /// `delete target[key]`. Answers `Bool`.
    Delete {
        /// Host id.
        target: u32,
        /// Key.
        key: WireValue,
    },
    /// A deep copy of the host reference's value. Answers `Value`.
    Copy {
        /// Host id.
        target: u32,
    },
    /// The guest no longer uses host id `target` (reference released). Answers `Ok`.
    Release {
        /// Host id.
        target: u32,
    },
    /// `new ivm.ExternalCopy(value)` in the guest. Answers `Id`.
    NewExternalCopy {
        /// The copied value.
        value: WireValue,
    },
    /// `externalCopy.copy()` in the guest. Answers `Value`.
    ReadExternalCopy {
        /// Host id of the copy.
        id: u32,
    },
    /// A promise the host waits on (see `Response::Pending`) settled. Answers `Ok`.
    PromiseSettled {
        /// Watch id.
        watch: u32,
        /// Fulfilled or rejected.
        ok: bool,
        /// Set when the reason is a failed host callback's error: the host's id of that
        /// failure (from `HostResponse::Error` or `Request::SettlePromise`), so that the
        /// wait ends in `Error::Callback`, as a thrown one does.
        callback: Option<u32>,
        /// Value or reason (already transferred per the original request).
        value: WireValue,
    },
}

/// The host's answer to a [`HostRequest`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum HostResponse {
    /// Done.
    Ok,
    /// A value.
    Value(WireValue),
    /// A boolean.
    Bool(bool),
    /// A new host id.
    Id(u32),
    /// The call failed; the guest throws an error with this name and message. Build it
    /// with [`HostResponse::error`], which bounds `stack`.
    Error {
        /// Error name.
        name: String,
        /// Message.
        message: String,
        /// The stack of the failure in the isolate it came from (its `Name: message` line,
        /// then its frames), at most [`HostResponse::MAX_STACK`] bytes: the guest continues
        /// it with the boundary line and its own frames, as isolated-vm does.
        stack: Option<String>,
        /// Set when a host callback failed: the id the host keeps its failure under. If the
        /// thrown error ends the guest call, the guest reports `ErrorKind::Callback { id }`.
        callback: Option<u32>,
    },
}

impl HostResponse {
    /// The longest `stack` a [`HostResponse::Error`] carries, in bytes: a longer one (a
    /// hostile isolate's, or one grown across many crossings) keeps its first lines.
    pub const MAX_STACK: usize = 16 * 1024;

    /// A [`HostResponse::Error`], its `stack` cut to [`HostResponse::MAX_STACK`] bytes.
    pub fn error(
        name: String,
        message: String,
        stack: Option<String>,
        callback: Option<u32>,
    ) -> Self {
        HostResponse::Error {
            name,
            message,
            stack: stack.map(Self::bounded_stack),
            callback,
        }
    }

    /// `stack` cut to at most [`HostResponse::MAX_STACK`] bytes, at the end of a line (or
    /// of a character, when its first line alone is longer). Backends without this wire
    /// bound the stacks they carry across isolates the same way.
    pub fn bounded_stack(stack: String) -> String {
        bounded_stack(stack, Self::MAX_STACK)
    }
}

/// `stack` cut to at most `max` bytes, at the end of a line (or of a character, when its
/// first line alone is longer).
fn bounded_stack(mut stack: String, max: usize) -> String {
    if stack.len() <= max {
        return stack;
    }
    let mut end = max;
    while !stack.is_char_boundary(end) {
        end -= 1;
    }
    if let Some(line_end) = stack[..end].rfind('\n') {
        end = line_end;
    }
    stack.truncate(end);
    stack
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_stack_is_cut_at_a_line_end() {
        let stack = format!("Error: x\n{}", "    at f (a.js:1:1)\n".repeat(10_000));
        let HostResponse::Error { stack: Some(s), .. } =
            HostResponse::error("Error".into(), "x".into(), Some(stack), None)
        else {
            panic!("not an error response");
        };
        assert!(s.len() <= HostResponse::MAX_STACK);
        assert!(s.starts_with("Error: x\n    at f"));
        assert!(s.ends_with("(a.js:1:1)"));
    }

    #[test]
    fn a_long_line_is_cut_at_a_character() {
        let s = bounded_stack("é".repeat(100), 51);
        assert_eq!(s, "é".repeat(25));
        assert_eq!(bounded_stack("short".into(), 51), "short");
    }
}
