//! JavaScript exceptions as owned data.

use std::fmt;

/// Where in the source a JavaScript error was thrown.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Location {
    /// File name as given in the script origin (`<eval>` when none was given).
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A JavaScript exception, as owned data: nothing in it points into an isolate.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct JsError {
    /// `error.name` (`TypeError`, `SyntaxError`, ..), or `Error` for a thrown non-error value.
    pub name: String,
    /// `error.message`, or the string form of a thrown non-error value.
    pub message: String,
    /// `error.stack` when the engine provides one.
    pub stack: Option<String>,
    /// Where it was thrown, when known.
    pub location: Option<Location>,
    /// The source line at `location`, when known.
    pub source_line: Option<String>,
}

impl JsError {
    /// A JS error with this name and message and nothing else.
    pub fn new(name: impl Into<String>, message: impl Into<String>) -> Self {
        JsError {
            name: name.into(),
            message: message.into(),
            ..Default::default()
        }
    }
}

impl fmt::Display for JsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.location {
            write!(f, "{loc}: ")?;
        }
        if self.message.is_empty() {
            write!(f, "{}", self.name)
        } else {
            write!(f, "{}: {}", self.name, self.message)
        }
    }
}
