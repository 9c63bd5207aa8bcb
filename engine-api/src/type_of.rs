//! What `typeof` says of a value.

use std::fmt;

/// What `typeof` says of a referenced value; unlike JS, `null` is `"null"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum TypeOf {
    Undefined,
    Null,
    Boolean,
    Number,
    BigInt,
    String,
    Symbol,
    Object,
    Function,
}

impl TypeOf {
    /// The string form, as `reference.typeof` gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            TypeOf::Undefined => "undefined",
            TypeOf::Null => "null",
            TypeOf::Boolean => "boolean",
            TypeOf::Number => "number",
            TypeOf::BigInt => "bigint",
            TypeOf::String => "string",
            TypeOf::Symbol => "symbol",
            TypeOf::Object => "object",
            TypeOf::Function => "function",
        }
    }
}

impl fmt::Display for TypeOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
