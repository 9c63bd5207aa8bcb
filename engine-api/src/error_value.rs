//! `Error` objects as data.

/// An `Error` object as data.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ErrorValue {
    /// `error.name`.
    pub name: String,
    /// `error.message`.
    pub message: String,
    /// `error.stack`, if any.
    pub stack: Option<String>,
}
