//! `Transfer`: how a value leaves the guest.

use serde::{Deserialize, Serialize};

/// How a value leaves the guest (mirrors `engine_api::TransferOptions`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// Deep copy.
    pub copy: bool,
    /// Deep copy, to be wrapped in an ExternalCopy by the host.
    pub external_copy: bool,
    /// Return a handle to the value.
    pub reference: bool,
    /// Await a promise first.
    pub promise: bool,
    /// What a non-transferable value becomes when none of the above is set:
    /// `false` = `undefined` (eval, run), `true` = a handle (get, apply).
    pub fallback_reference: bool,
}
