//! `Origin`: where source code came from.

use serde::{Deserialize, Serialize};

/// Where source code came from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// File name for errors and stacks.
    pub filename: String,
    /// Added to line numbers.
    pub line_offset: i32,
    /// Added to column numbers of the first line.
    pub column_offset: i32,
}
