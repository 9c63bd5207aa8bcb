//! Where source code came from.

/// Where source code came from, for errors and stacks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScriptOrigin {
    /// File name shown in stacks and errors (`<eval>` when `None`).
    pub filename: Option<String>,
    /// Added to line numbers.
    pub line_offset: i32,
    /// Added to column numbers on the first line.
    pub column_offset: i32,
}

impl ScriptOrigin {
    /// An origin with just a file name.
    pub fn file(name: impl Into<String>) -> Self {
        ScriptOrigin {
            filename: Some(name.into()),
            ..Default::default()
        }
    }
}
