//! JS errors as [`GuestError`] data, and back.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use boa_engine::{
    Context, Finalize, JsData, JsError, JsNativeError, JsObject, JsResult, JsString, JsValue,
    NativeFunction, Trace, error::EngineError, js_str, js_string, object::FunctionObjectBuilder,
    property::PropertyDescriptor,
};

use engine_api::abi::{ErrorKind, GuestError};

/// How many errors of failed host callbacks the guest remembers (as the host does): a
/// guest that catches them holds no more than this.
const REMEMBERED: usize = 16;

thread_local! {
    /// Errors thrown for failed host callbacks, with the host's id of each failure.
    static CALLBACK_ERRORS: RefCell<VecDeque<(JsObject, u32)>> = RefCell::default();
}

/// How many frames of this isolate a stack that crossed into it gains, at most (as on V8).
const BOUNDARY_FRAMES: usize = 10;

/// The marker between the frames of the isolate an error came from and the frames of the
/// isolate it was thrown into (isolated-vm and the V8 backend write the same line).
const BOUNDARY: &str = "    at (<isolated-vm boundary>)";

/// The error a failed host call is thrown as: with `stack` (the stack of the isolate it
/// came from) its stack continues that one with this guest's frames. A failed host
/// callback's (`callback` is the host's id of its failure) is remembered, to report it as
/// such if it ends the call.
pub fn host_to_js(
    name: &str,
    message: &str,
    stack: Option<&str>,
    callback: Option<u32>,
    ctx: &mut Context,
) -> JsError {
    let err = to_js(name, message, ctx);
    if stack.is_none() && callback.is_none() {
        return err;
    }
    let Ok(value) = err.into_opaque(ctx) else {
        return to_js(name, message, ctx);
    };
    let Some(obj) = value.as_object() else {
        return JsError::from_opaque(value);
    };
    if let Some(remote) = stack {
        let stack = across_boundary(remote, ctx);
        let _ = obj.define_property_or_throw(
            js_string!("stack"),
            PropertyDescriptor::builder()
                .value(JsString::from(stack.as_str()))
                .writable(true)
                .enumerable(false)
                .configurable(true)
                .build(),
            ctx,
        );
    }
    if let Some(id) = callback {
        CALLBACK_ERRORS.with_borrow_mut(|l| {
            if l.len() == REMEMBERED {
                l.pop_front();
            }
            l.push_back((obj.clone(), id));
        });
    }
    JsError::from_opaque(value)
}

/// A stack thrown in from another isolate (or the host), continued with the frames of this
/// guest that called out: the remote stack, the boundary line, then where this guest was.
fn across_boundary(remote: &str, ctx: &mut Context) -> String {
    let mut out = remote.trim_end_matches('\n').to_string();
    let frames = own_frames(ctx).unwrap_or_default();
    let mut lines = frames
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(BOUNDARY_FRAMES)
        .peekable();
    if lines.peek().is_none() {
        return out;
    }
    out.push('\n');
    out.push_str(BOUNDARY);
    for line in lines {
        out.push('\n');
        out.push_str(line);
    }
    out
}

/// The frames of the running code, innermost first (`    at f (file:1:2)` lines): Boa's
/// own getter on a new error made here, so no guest code runs.
fn own_frames(ctx: &mut Context) -> Option<String> {
    let frames = frames_getter(ctx)?;
    // An error constructed from native code records the frames of its callers.
    let constructor = ctx.intrinsics().constructors().error().constructor();
    let probe = constructor.construct(&[], None, ctx).ok()?;
    let v = frames.call(&probe.into(), &[], ctx).ok()?;
    v.as_string().map(|s| s.to_std_string_lossy())
}

/// Boa's `Error.prototype.stack` getter of a realm (frames only, no header line).
#[derive(Trace, Finalize, JsData)]
struct FramesGetter(JsObject);

fn frames_getter(ctx: &Context) -> Option<JsObject> {
    ctx.realm()
        .host_defined()
        .get::<FramesGetter>()
        .map(|g| g.0.clone())
}

/// Makes this realm's error stacks start with V8's `Name: message` line: replaces the
/// getter of `Error.prototype.stack` with one that puts that line before Boa's frames
/// (called with the realm entered, before any guest code ran).
pub fn install_stack_header(ctx: &mut Context) -> JsResult<()> {
    let proto = ctx.intrinsics().constructors().error().prototype();
    let object = ctx.intrinsics().constructors().object().constructor();
    let describe = object.get(js_string!("getOwnPropertyDescriptor"), ctx)?;
    let Some(describe) = describe.as_callable() else {
        return Ok(());
    };
    let desc = describe.call(
        &object.clone().into(),
        &[proto.clone().into(), js_string!("stack").into()],
        ctx,
    )?;
    let Some(desc) = desc.as_object() else {
        return Ok(());
    };
    let (getter, setter) = (
        desc.get(js_string!("get"), ctx)?,
        desc.get(js_string!("set"), ctx)?,
    );
    let Some(getter) = getter.as_object().filter(|g| g.is_callable()) else {
        return Ok(());
    };
    let native = NativeFunction::from_copy_closure_with_captures(
        |this, _, frames: &JsObject, ctx| stack_with_header(this, frames, ctx),
        getter.clone(),
    );
    let with_header = FunctionObjectBuilder::new(ctx.realm(), native)
        .name(js_string!("get stack"))
        .length(0)
        .build();
    let mut accessor = PropertyDescriptor::builder()
        .get(with_header)
        .enumerable(false)
        .configurable(true);
    if let Some(setter) = setter.as_object() {
        accessor = accessor.set(setter.clone());
    }
    proto.define_property_or_throw(js_string!("stack"), accessor.build(), ctx)?;
    ctx.realm()
        .host_defined_mut()
        .insert(FramesGetter(getter.clone()));
    Ok(())
}

thread_local! {
    /// Whether a stack's header line is being built (its `name` and `message` read).
    static BUILDING_HEADER: Cell<bool> = const { Cell::new(false) };
}

/// Marks a header being built, until dropped; `None` if one already is.
struct HeaderGuard;

impl HeaderGuard {
    fn enter() -> Option<Self> {
        (!BUILDING_HEADER.replace(true)).then_some(HeaderGuard)
    }
}

impl Drop for HeaderGuard {
    fn drop(&mut self) {
        BUILDING_HEADER.set(false);
    }
}

/// `error.stack`: `Name: message` (as `Error.prototype.toString` writes it), then Boa's
/// frames; `undefined` where Boa has no stack.
fn stack_with_header(this: &JsValue, frames: &JsObject, ctx: &mut Context) -> JsResult<JsValue> {
    let stack = frames.call(this, &[], ctx)?;
    // A `name` or `message` getter reading a stack gets the frames alone: the header never
    // recurses (each level would cost native stack that Boa's recursion limit does not see).
    let Some(_building) = HeaderGuard::enter() else {
        return Ok(stack);
    };
    let (Some(frames), Some(obj)) = (stack.as_string(), this.as_object()) else {
        return Ok(stack);
    };
    let part = |key: JsString, default: JsString, ctx: &mut Context| -> JsResult<JsString> {
        let v = obj.get(key, ctx)?;
        if v.is_undefined() {
            Ok(default)
        } else {
            v.to_string(ctx)
        }
    };
    let name = part(js_string!("name"), js_string!("Error"), ctx)?;
    let message = part(js_string!("message"), js_string!(), ctx)?;
    let header = match (name.is_empty(), message.is_empty()) {
        (_, true) => name,
        (true, false) => message,
        (false, false) => JsString::concat_array(&[name.as_str(), js_str!(": "), message.as_str()]),
    };
    // Boa ends every frame with a newline; V8's stack has none at its end.
    let frames = frames.trim_end();
    if frames.is_empty() {
        return Ok(header.into());
    }
    Ok(JsString::concat_array(&[header.as_str(), js_str!("\n"), frames.as_str()]).into())
}

/// The host's id of the failure `obj` was thrown for, if it is a failed callback's error.
fn callback_id(obj: &JsObject) -> Option<u32> {
    CALLBACK_ERRORS.with_borrow(|l| {
        l.iter()
            .rev()
            .find(|(o, _)| JsObject::equals(o, obj))
            .map(|(_, id)| *id)
    })
}

/// A typed failure.
pub fn guest(kind: ErrorKind, name: &str, message: impl Into<String>) -> GuestError {
    GuestError {
        kind: Some(kind),
        name: name.into(),
        message: message.into(),
        ..GuestError::default()
    }
}

/// A value that cannot be transferred.
pub fn not_transferable(message: impl Into<String>) -> GuestError {
    guest(ErrorKind::NotTransferable, "TypeError", message)
}

/// A malformed request.
pub fn invalid(message: impl Into<String>) -> GuestError {
    guest(ErrorKind::InvalidRequest, "TypeError", message)
}

/// Lossy `JsString` to `String`.
pub fn string_of(value: &JsValue, ctx: &mut Context) -> String {
    match value.as_string() {
        Some(s) => s.to_std_string_lossy(),
        None => match value.to_string(ctx) {
            Ok(s) => s.to_std_string_lossy(),
            Err(_) => value.display().to_string(),
        },
    }
}

/// Reads a property as a string, `None` when missing or throwing.
fn prop_string(obj: &boa_engine::JsObject, key: &str, ctx: &mut Context) -> Option<String> {
    let v = obj.get(js_string!(key), ctx).ok()?;
    if v.is_undefined() {
        return None;
    }
    Some(string_of(&v, ctx))
}

/// `(file, line, column)` from the first frame of a Boa stack (`    at f (file:1:2)`).
fn location_from_stack(stack: &str) -> Option<(String, u32, u32)> {
    let line = stack.lines().find(|l| l.trim_start().starts_with("at "))?;
    let open = line.find('(')?;
    let inner = line[open + 1..].trim_end().strip_suffix(')')?;
    let mut parts = inner.rsplitn(3, ':');
    let column = parts.next()?.parse().ok()?;
    let row = parts.next()?.parse().ok()?;
    let file = parts.next()?.to_string();
    Some((file, row, column))
}

/// `(line, column)` from a Boa parser message (`... at line 3, col 7`).
fn location_from_syntax(message: &str) -> Option<(u32, u32)> {
    let at = message.rfind(" at line ")?;
    let rest = &message[at + " at line ".len()..];
    let (row, rest) = rest.split_once(", col ")?;
    let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((row.trim().parse().ok()?, column.parse().ok()?))
}

/// The message without Boa's trailing position (reported separately).
fn strip_syntax_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// Converts a thrown JS error; `file` names the source for syntax errors.
pub fn from_js(err: JsError, file: Option<&str>, ctx: &mut Context) -> GuestError {
    if let Some(engine) = err.as_engine() {
        return match engine {
            EngineError::RuntimeLimit(_) => GuestError {
                stack: super::runtime::stack_of(&err),
                ..guest(
                    ErrorKind::StackOverflow,
                    "RangeError",
                    "Maximum call stack size exceeded",
                )
            },
            other => guest(ErrorKind::Js, "InternalError", other.to_string()),
        };
    }
    let value = match err.into_opaque(ctx) {
        Ok(v) => v,
        Err(e) => return guest(ErrorKind::Js, "Error", e.to_string()),
    };
    from_value(&value, file, ctx)
}

/// Converts a thrown (or rejection) value.
pub fn from_value(value: &JsValue, file: Option<&str>, ctx: &mut Context) -> GuestError {
    let mut out = guest(ErrorKind::Js, "Error", String::new());
    let Some(obj) = value.as_object() else {
        out.message = string_of(value, ctx);
        return out;
    };
    if let Some(id) = callback_id(&obj) {
        out.kind = Some(ErrorKind::Callback { id });
    }
    let is_error = obj.is::<boa_engine::builtins::error::Error>();
    out.name = prop_string(&obj, "name", ctx).unwrap_or_else(|| "Error".into());
    out.message = prop_string(&obj, "message", ctx).unwrap_or_default();
    if !is_error && out.message.is_empty() {
        out.message = string_of(value, ctx);
    }
    out.stack = obj
        .get(js_string!("stack"), ctx)
        .ok()
        .and_then(|s| s.as_string().map(|s| s.to_std_string_lossy()));
    if let Some((f, l, c)) = out.stack.as_deref().and_then(location_from_stack) {
        out.file = Some(f);
        out.line = Some(l);
        out.column = Some(c);
    } else if out.name == "SyntaxError"
        && let Some((l, c)) = location_from_syntax(&out.message)
    {
        out.line = Some(l);
        out.column = Some(c);
        out.file = file.map(str::to_string);
        out.message = strip_syntax_position(&out.message);
    }
    out
}

/// A native error with `name` and `message`, for throwing into JS.
pub fn to_js(name: &str, message: &str, ctx: &mut Context) -> JsError {
    let native = match name {
        "TypeError" => JsNativeError::typ(),
        "RangeError" => JsNativeError::range(),
        "SyntaxError" => JsNativeError::syntax(),
        "ReferenceError" => JsNativeError::reference(),
        "EvalError" => JsNativeError::eval(),
        "URIError" => JsNativeError::uri(),
        _ => JsNativeError::error(),
    }
    .with_message(message.to_string());
    let standard = matches!(
        name,
        "Error"
            | "TypeError"
            | "RangeError"
            | "SyntaxError"
            | "ReferenceError"
            | "EvalError"
            | "URIError"
    );
    if standard {
        return native.into();
    }
    let obj = native.into_opaque(ctx);
    let _ = obj.set(js_string!("name"), js_string!(name), false, ctx);
    JsError::from_opaque(obj.into())
}

/// A [`GuestError`] thrown into JS (inside native functions).
pub fn guest_to_js(err: &GuestError, ctx: &mut Context) -> JsError {
    to_js(&err.name, &err.message, ctx)
}

/// A new error object (for copies coming in).
pub fn error_value(name: &str, message: &str, stack: Option<&str>, ctx: &mut Context) -> JsValue {
    let value = match to_js(name, message, ctx).into_opaque(ctx) {
        Ok(v) => v,
        Err(_) => return JsValue::undefined(),
    };
    if let (Some(stack), Some(obj)) = (stack, value.as_object()) {
        let _ = obj.create_data_property(js_string!("stack"), js_string!(stack), ctx);
    }
    value
}

/// Fills in a location Boa could not map (its source map has no entry for some
/// instructions, e.g. the name lookup behind "x is not defined": the stack then reads
/// `file:?:?`). Uses the first whole-word use of the undefined name in the source.
pub fn locate(e: &mut GuestError, padded: &str, origin: &engine_api::abi::Origin) {
    if e.line.is_some() || e.kind != Some(ErrorKind::Js) {
        return;
    }
    let unknown = format!("({}:?:?)", origin.filename);
    let top = e
        .stack
        .as_deref()
        .and_then(|s| s.lines().find(|l| l.trim_start().starts_with("at ")));
    if !top.is_some_and(|l| l.trim_end().ends_with(&unknown)) {
        return;
    }
    e.file = Some(origin.filename.clone());
    let Some(name) = e.message.strip_suffix(" is not defined") else {
        return;
    };
    if let Some((line, column)) = find_identifier(padded, name) {
        e.line = Some(line);
        e.column = Some(column);
        if let Some(stack) = &mut e.stack {
            let known = format!("({}:{line}:{column})", origin.filename);
            *stack = stack.replacen(&unknown, &known, 1);
        }
    }
}

/// 1-based line and column of the first whole-word occurrence of `name`.
fn find_identifier(source: &str, name: &str) -> Option<(u32, u32)> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    if name.is_empty() {
        return None;
    }
    for (row, line) in source.lines().enumerate() {
        for (at, _) in line.match_indices(name) {
            let before = line[..at].chars().next_back();
            let after = line[at + name.len()..].chars().next();
            if !before.is_some_and(is_ident) && !after.is_some_and(is_ident) {
                let column = line[..at].chars().count() + 1;
                return Some((row as u32 + 1, column as u32));
            }
        }
    }
    None
}
