//! How values cross into and out of an isolate.

/// How a value leaves the isolate (or enters it, for arguments).
///
/// With nothing set, primitives transfer by value and anything else becomes `undefined`
/// for `eval` / `run` / `evaluate` results and a reference for `apply` / `get` results,
/// as in isolated-vm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TransferOptions {
    /// Deep copy the value (structured clone).
    pub copy: bool,
    /// Wrap a deep copy in an [`ExternalCopy`](crate::ExternalCopy).
    pub external_copy: bool,
    /// Return a reference to the value.
    pub reference: bool,
    /// If the value is a promise, wait for it and transfer what it resolves to.
    pub promise: bool,
}

impl TransferOptions {
    /// `{ copy: true }`.
    pub fn copy() -> Self {
        TransferOptions {
            copy: true,
            ..Default::default()
        }
    }
    /// `{ externalCopy: true }`.
    pub fn external_copy() -> Self {
        TransferOptions {
            external_copy: true,
            ..Default::default()
        }
    }
    /// `{ reference: true }`.
    pub fn reference() -> Self {
        TransferOptions {
            reference: true,
            ..Default::default()
        }
    }
    /// The same options, also awaiting a promise.
    pub fn with_promise(mut self) -> Self {
        self.promise = true;
        self
    }
}
