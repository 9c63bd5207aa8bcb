//! `CopyError`: why a deep copy out of the guest failed.

use boa_engine::{Context, JsError, JsNativeError};

use crate::guest::errors;
use engine_api::abi::GuestError;

/// Why a deep copy failed.
pub enum CopyError {
    /// The value (or something inside it) cannot be copied.
    NotTransferable(String),
    /// JS threw while reading it (a getter, a proxy trap).
    Js(JsError),
}

impl From<JsError> for CopyError {
    fn from(e: JsError) -> Self {
        Self::Js(e)
    }
}

impl CopyError {
    /// As a request failure.
    pub fn into_guest(self, ctx: &mut Context) -> GuestError {
        match self {
            Self::NotTransferable(m) => errors::not_transferable(m),
            Self::Js(e) => errors::from_js(e, None, ctx),
        }
    }

    /// As an exception inside the guest.
    pub fn into_js(self) -> JsError {
        match self {
            Self::NotTransferable(m) => JsNativeError::typ().with_message(m).into(),
            Self::Js(e) => e,
        }
    }
}
