//! `GuestError`: why a guest call failed, as data (its `ErrorKind` and the JS error).

use serde::{Deserialize, Serialize};

/// Why a guest call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    /// JS threw (or a syntax error).
    Js,
    /// The value cannot be transferred.
    NotTransferable,
    /// The handle was released or never existed.
    Released,
    /// The handle exists but is of the wrong kind (a script where a context was expected),
    /// or the value it holds is (a reference applied that is not a function, a property
    /// read through a reference to a primitive).
    WrongKind,
    /// Recursion too deep.
    StackOverflow,
    /// The request was malformed.
    InvalidRequest,
    /// JS threw, and what ended the call is the error a failed host callback was thrown as:
    /// the host answered its `HostRequest::Apply` with `HostResponse::Error` carrying
    /// `callback: Some(id)`.
    Callback {
        /// The id the host keeps the callback's failure under.
        id: u32,
    },
    /// The host interrupted the call (`isovm_interrupt(1)`, at its deadline or cancel) and
    /// the guest unwound it: `stack` is the JS stack where it stopped, if it saw one.
    Interrupted,
}

/// A failure, as data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestError {
    /// Kind.
    pub kind: Option<ErrorKind>,
    /// JS error name (`TypeError`, ..).
    pub name: String,
    /// Message.
    pub message: String,
    /// `stack`, if any.
    pub stack: Option<String>,
    /// Where it was thrown: file.
    pub file: Option<String>,
    /// Line (1-based).
    pub line: Option<u32>,
    /// Column (1-based).
    pub column: Option<u32>,
}
