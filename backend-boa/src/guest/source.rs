//! Preparing source text: origin offsets, and a nesting guard for Boa's recursive parser.

use std::borrow::Cow;
use std::path::Path;

use boa_engine::{Source, parser::source::UTF8Input};

use engine_api::abi::{ErrorKind, GuestError, Origin};

use super::errors;

/// Line and column offsets larger than this are not applied (they would only cost memory).
const MAX_PADDING: i32 = 1 << 20;

/// Deepest bracket nesting accepted. Boa's parser and bytecode compiler recurse on the
/// wasm stack: with a 1 MiB wasm stack, nested function expressions trap at ~450 levels.
pub const MAX_NESTING: usize = 200;

/// The source with the origin's line and column offsets applied as leading padding, so
/// that every position Boa reports (errors, stacks) already includes them.
pub fn pad<'a>(code: &'a str, origin: &Origin) -> Cow<'a, str> {
    let lines = origin.line_offset.clamp(0, MAX_PADDING) as usize;
    let columns = origin.column_offset.clamp(0, MAX_PADDING) as usize;
    if lines == 0 && columns == 0 {
        return Cow::Borrowed(code);
    }
    let mut s = String::with_capacity(lines + columns + code.len());
    s.extend(std::iter::repeat_n('\n', lines));
    s.extend(std::iter::repeat_n(' ', columns));
    s.push_str(code);
    Cow::Owned(s)
}

/// A Boa source for padded text named after the origin.
pub fn source<'a>(padded: &'a str, origin: &'a Origin) -> Source<'a, UTF8Input<&'a [u8]>> {
    Source::from_bytes(padded.as_bytes()).with_path(Path::new(&origin.filename))
}

/// Refuses source nested deeper than [`MAX_NESTING`] brackets (a trap otherwise).
///
/// A lexer-lite scan: skips comments, strings and template text; regex literals are not
/// recognised, which can only over-count by their unbalanced brackets.
pub fn check_nesting(code: &str, origin: &Origin) -> Result<(), GuestError> {
    #[derive(PartialEq)]
    enum Mode {
        Code,
        Line,
        Block,
        Quote(u8),
        Template,
    }
    let bytes = code.as_bytes();
    let mut stack: Vec<u8> = Vec::new();
    let mut mode = Mode::Code;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        match mode {
            Mode::Code => match b {
                b'/' if next == Some(b'/') => mode = Mode::Line,
                b'/' if next == Some(b'*') => {
                    mode = Mode::Block;
                    i += 1;
                }
                b'\'' | b'"' => mode = Mode::Quote(b),
                b'`' => mode = Mode::Template,
                b'(' | b'[' | b'{' => {
                    stack.push(b);
                    if stack.len() > MAX_NESTING {
                        let mut e = errors::guest(
                            ErrorKind::StackOverflow,
                            "RangeError",
                            format!(
                                "Maximum call stack size exceeded: source nested deeper than {MAX_NESTING} brackets"
                            ),
                        );
                        e.file = Some(origin.filename.clone());
                        return Err(e);
                    }
                }
                b')' | b']' | b'}' if stack.pop() == Some(b'$') => mode = Mode::Template,
                _ => {}
            },
            Mode::Line => {
                if b == b'\n' {
                    mode = Mode::Code;
                }
            }
            Mode::Block => {
                if b == b'*' && next == Some(b'/') {
                    mode = Mode::Code;
                    i += 1;
                }
            }
            Mode::Quote(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q || b == b'\n' {
                    mode = Mode::Code;
                }
            }
            Mode::Template => {
                if b == b'\\' {
                    i += 1;
                } else if b == b'`' {
                    mode = Mode::Code;
                } else if b == b'$' && next == Some(b'{') {
                    stack.push(b'$');
                    mode = Mode::Code;
                    i += 1;
                }
            }
        }
        i += 1;
    }
    Ok(())
}
