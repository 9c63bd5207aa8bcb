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
    /// The call failed; the guest throws an error with this name and message.
    Error {
        /// Error name.
        name: String,
        /// Message.
        message: String,
        /// Set when a host callback failed: the id the host keeps its failure under. If the
        /// thrown error ends the guest call, the guest reports `ErrorKind::Callback { id }`.
        callback: Option<u32>,
    },
}
