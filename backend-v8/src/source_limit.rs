//! The longest source an isolate compiles, from the host or from the guest's `eval`.

use engine_api::{Error, Result};

use crate::limits::Limits;

/// Sources longer than the memory limit divided by this are refused (as isolated-vm
/// does): V8 parses a source without interrupt checks and outside the heap limit.
const SOURCE_FRACTION: usize = 8;

/// The longest source an isolate with `limits` compiles: bytes of a host source, UTF-16
/// units of a guest's `eval`.
fn max_source(limits: &Limits) -> usize {
    limits.limit / SOURCE_FRACTION
}

/// `code` as a V8 string for compiling, unless it is longer than the isolate compiles.
pub(crate) fn source<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    code: &str,
) -> Result<v8::Local<'s, v8::String>> {
    let max = max_source(&crate::isolate_core::Core::of(scope).limits);
    if code.len() > max {
        return Err(Error::InvalidArgument(format!(
            "a source of {} bytes is longer than this isolate compiles ({max} bytes: an eighth of its memory limit)",
            code.len()
        )));
    }
    v8::String::new(scope, code).ok_or_else(|| Error::InvalidArgument("source too long".into()))
}

/// V8 asks this before `eval` or `new Function` compiles a string (every context refuses
/// code generation from strings unless this allows it): the same bound as [`source`].
pub(crate) fn code_from_strings<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    source: v8::Local<'s, v8::Value>,
    _is_code_like: bool,
) -> v8::ModifyCodeGenerationFromStringsResult<'s> {
    let max = max_source(&crate::isolate_core::Core::of(scope).limits);
    let codegen_allowed = match v8::Local::<v8::String>::try_from(source) {
        Ok(s) => s.length() <= max,
        // Not a string: V8 hands it back unevaluated, as `eval(5)` does.
        Err(_) => true,
    };
    v8::ModifyCodeGenerationFromStringsResult {
        codegen_allowed,
        modified_source: None,
    }
}
