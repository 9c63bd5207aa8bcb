//! JavaScript errors: thrown values as owned data, and host errors thrown into the guest.

use std::collections::VecDeque;
use std::sync::Arc;

use engine_api::{Error, JsError, Location, Result};

use crate::convert::{get, str_of, string};
use crate::isolate_core::Core;

/// How many thrown host callback errors an isolate remembers: a guest that catches them
/// keeps the host from holding more than this; the one that ends a call is among the
/// latest (a guest that catches 16 others before rethrowing an old one gets `Error::Js`).
const REMEMBERED: usize = 16;

/// The errors of failed host callbacks, beside the JS error each was thrown as: a thrown
/// value that ends a call and is one of these comes out as its `Error::Callback`.
#[derive(Default)]
pub(crate) struct CallbackErrors(VecDeque<(v8::Global<v8::Value>, Error)>);

impl CallbackErrors {
    fn remember(&mut self, thrown: v8::Global<v8::Value>, error: Error) {
        if self.0.len() == REMEMBERED {
            self.0.pop_front();
        }
        self.0.push_back((thrown, error));
    }
}

/// The `Error::Callback` a host callback's failure was thrown as, if `exception` is one.
fn callback_error<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    exception: v8::Local<'s, v8::Value>,
) -> Option<Error> {
    if !exception.is_object() {
        return None;
    }
    // A snapshot creator's isolate has no core (and no host callbacks).
    let core = scope.get_slot::<Arc<Core>>()?.clone();
    let tables = core.tables();
    tables
        .callback_errors
        .0
        .iter()
        .rev()
        .find(|(g, _)| v8::Local::new(scope, g).strict_equals(exception))
        .map(|(_, e)| e.clone())
}

/// The error a thrown (or rejection) value stands for: the failure of a host callback
/// when it is one thrown by [`throw`], else the JS error.
pub(crate) fn thrown<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    exception: v8::Local<'s, v8::Value>,
    message: Option<v8::Local<'s, v8::Message>>,
) -> Error {
    callback_error(scope, exception)
        .unwrap_or_else(|| Error::Js(js_error(scope, exception, message)))
}

/// An error object of constructor `name` (its own `name` if not a builtin one).
pub(crate) fn error_object<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    name: &str,
    message: &str,
    stack: Option<&str>,
) -> Result<v8::Local<'s, v8::Value>> {
    let msg = string(scope, message)?;
    let e = match name {
        "TypeError" => v8::Exception::type_error(scope, msg),
        "RangeError" => v8::Exception::range_error(scope, msg),
        "ReferenceError" => v8::Exception::reference_error(scope, msg),
        "SyntaxError" => v8::Exception::syntax_error(scope, msg),
        _ => v8::Exception::error(scope, msg),
    };
    if let Ok(obj) = v8::Local::<v8::Object>::try_from(e) {
        if !matches!(
            name,
            "Error" | "TypeError" | "RangeError" | "ReferenceError" | "SyntaxError"
        ) {
            let k = string(scope, "name")?;
            let v = string(scope, name)?;
            obj.set(scope, k.into(), v.into());
        }
        if let Some(stack) = stack {
            let k = string(scope, "stack")?;
            let v = string(scope, stack)?;
            obj.set(scope, k.into(), v.into());
        }
    }
    Ok(e)
}

/// A thrown value as owned data, with its location.
pub(crate) fn js_error<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    exception: v8::Local<'s, v8::Value>,
    message: Option<v8::Local<'s, v8::Message>>,
) -> JsError {
    let mut e = JsError::new("Error", "");
    match v8::Local::<v8::Object>::try_from(exception) {
        Ok(obj) if exception.is_native_error() || has_error_shape(scope, obj) => {
            if let Some(n) = get(scope, obj, "name").filter(|n| !n.is_undefined()) {
                e.name = str_of(scope, n);
            }
            if let Some(m) = get(scope, obj, "message").filter(|m| !m.is_undefined()) {
                e.message = str_of(scope, m);
            }
            e.stack = get(scope, obj, "stack")
                .filter(|s| s.is_string())
                .map(|s| str_of(scope, s));
        }
        _ => e.message = str_of(scope, exception),
    }
    let message = message.unwrap_or_else(|| v8::Exception::create_message(scope, exception));
    let file = message
        .get_script_resource_name(scope)
        .filter(|n| !n.is_undefined() && !n.is_null())
        .map(|n| str_of(scope, n))
        .unwrap_or_else(|| "<eval>".into());
    if let Some(line) = message.get_line_number(scope).filter(|l| *l > 0) {
        e.location = Some(Location {
            file,
            line: line as u32,
            column: message.get_start_column() as u32 + 1,
        });
        e.source_line = message
            .get_source_line(scope)
            .map(|s| s.to_rust_string_lossy(scope));
    }
    e
}

fn has_error_shape<'s>(scope: &mut v8::PinScope<'s, '_>, obj: v8::Local<'s, v8::Object>) -> bool {
    let Some(k) = v8::String::new(scope, "message") else {
        return false;
    };
    obj.has(scope, k.into()).unwrap_or(false)
}

/// Throws `err` in the guest, as the matching JS error. An `Error::Callback` is thrown as
/// the callback's own error and remembered, so that it comes out as itself if the guest
/// does not catch it.
pub(crate) fn throw(scope: &mut v8::PinScope, err: &Error) {
    if let Some(exc) = exception(scope, err) {
        scope.throw_exception(exc);
    }
}

/// The JS error `err` is thrown (or a promise rejected) as; an `Error::Callback` is built
/// as the callback's own error and remembered, as [`throw`] does. `None` if V8 could not
/// build it (out of memory, terminating).
pub(crate) fn exception<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    err: &Error,
) -> Option<v8::Local<'s, v8::Value>> {
    let shown = err.callback_error().unwrap_or(err);
    let exc = match shown {
        Error::Js(e) => {
            let stack = e
                .stack
                .as_deref()
                .map(|remote| across_boundary(scope, remote));
            error_object(scope, &e.name, &e.message, stack.as_deref())
        }
        other => {
            let name = match other {
                Error::NotTransferable(_)
                | Error::WrongIsolate
                | Error::WrongKind(_)
                | Error::InvalidArgument(_) => "TypeError",
                _ => "Error",
            };
            error_object(scope, name, &other.to_string(), None)
        }
    };
    let exc = exc.ok()?;
    if matches!(err, Error::Callback { .. })
        && let Some(core) = scope.get_slot::<Arc<Core>>().cloned()
    {
        let thrown = v8::Global::new(scope, exc);
        core.tables().callback_errors.remember(thrown, err.clone());
    }
    Some(exc)
}

/// How many frames of this isolate a stack that crossed into it gains, at most.
const BOUNDARY_FRAMES: usize = 10;

/// The marker between the frames of the isolate an error came from and the frames of the
/// isolate it was thrown into (isolated-vm writes the same line).
pub(crate) const BOUNDARY: &str = "    at (<isolated-vm boundary>)";

/// A stack thrown in from another isolate (or the host), continued with the frames of this
/// isolate that called out: the remote stack, the boundary line, then where this isolate
/// was. The frames come from V8's stack walk, so no guest code (`Error.prepareStackTrace`,
/// a `stack` getter) runs.
fn across_boundary(scope: &mut v8::PinScope, remote: &str) -> String {
    // Bounded as on boa-wasi's wire: a hostile isolate's stack (or one grown across many
    // crossings) keeps its first lines.
    let remote = engine_api::abi::HostResponse::bounded_stack(remote.to_owned());
    let mut out = String::with_capacity(remote.len() + 64 * BOUNDARY_FRAMES);
    out.push_str(remote.trim_end_matches('\n'));
    let Some(trace) = v8::StackTrace::current_stack_trace(scope, BOUNDARY_FRAMES) else {
        return out;
    };
    let frames = trace.get_frame_count();
    if frames == 0 {
        return out;
    }
    out.push('\n');
    out.push_str(BOUNDARY);
    for i in 0..frames {
        let Some(frame) = trace.get_frame(scope, i) else {
            continue;
        };
        let file = frame
            .get_script_name_or_source_url(scope)
            .map(|s| s.to_rust_string_lossy(scope))
            .unwrap_or_else(|| "<anonymous>".into());
        let place = format!("{file}:{}:{}", frame.get_line_number(), frame.get_column());
        match frame
            .get_function_name(scope)
            .map(|s| s.to_rust_string_lossy(scope))
            .filter(|n| !n.is_empty())
        {
            Some(name) => out.push_str(&format!("\n    at {name} ({place})")),
            None => out.push_str(&format!("\n    at {place}")),
        }
    }
    out
}

/// The error a failed call left behind (termination reads as a timeout; `enter`
/// reclassifies it).
pub(crate) fn error_from<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    terminated: bool,
    exception: Option<v8::Local<'s, v8::Value>>,
    message: Option<v8::Local<'s, v8::Message>>,
) -> Error {
    match exception {
        Some(exc) if !terminated => thrown(scope, exc, message),
        _ => crate::empty(),
    }
}
