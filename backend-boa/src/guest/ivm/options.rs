//! Checks the options objects of the guest-side `ivm` API against
//! [`engine_api::abi::guest_options`] (the same check the V8 backend makes).
//!
//! Reading an options object may run guest code (getters, Proxy traps): it runs under the
//! call's fuel and deadline like any guest code, and what it throws propagates.

use boa_engine::{Context, JsObject, JsResult, JsString, JsValue, property::PropertyKey};

use engine_api::abi::guest_options::{OptionType, OptionsSpec, Problem, TRANSFER};

use super::type_error;

/// Checks top-level `options` against `spec`: a bad one is a `TypeError` naming it.
pub(super) fn check(options: &JsValue, spec: &OptionsSpec, ctx: &mut Context) -> JsResult<()> {
    if options.is_null_or_undefined() {
        return Ok(());
    }
    match check_at(options, spec, "", ctx)? {
        None => Ok(()),
        Some(problem) => Err(type_error(&problem.message())),
    }
}

fn check_at(
    options: &JsValue,
    spec: &OptionsSpec,
    prefix: &str,
    ctx: &mut Context,
) -> JsResult<Option<Problem>> {
    let Some(obj) = options.as_object() else {
        return Ok(Some(Problem::NotObject(
            prefix.trim_end_matches('.').to_string(),
        )));
    };
    for key in obj.own_property_keys(ctx)? {
        let name = match &key {
            PropertyKey::String(s) => s.to_std_string_lossy(),
            PropertyKey::Index(i) => i.get().to_string(),
            PropertyKey::Symbol(_) => continue,
        };
        if let Some(problem) = spec.check_name(prefix, &name) {
            return Ok(Some(problem));
        }
    }
    for (name, ty) in spec.known {
        let value = get(&obj, name, ctx)?;
        if value.is_undefined() {
            continue;
        }
        let path = format!("{prefix}{name}");
        let fits = match ty {
            OptionType::Boolean => value.is_boolean(),
            OptionType::Number => value.is_number(),
            OptionType::Transfer => value.is_object(),
            OptionType::Array => value.as_object().is_some_and(|o| o.is_array()),
        };
        if !fits {
            return Ok(Some(Problem::WrongType(path, *ty)));
        }
        if *ty == OptionType::Transfer
            && let Some(problem) = check_at(&value, &TRANSFER, &format!("{path}."), ctx)?
        {
            return Ok(Some(problem));
        }
    }
    for name in spec.unsupported {
        let value = get(&obj, name, ctx)?;
        if !(value.is_undefined() || value.as_boolean() == Some(false)) {
            return Ok(Some(Problem::Unsupported(format!("{prefix}{name}"))));
        }
    }
    Ok(None)
}

fn get(obj: &JsObject, name: &str, ctx: &mut Context) -> JsResult<JsValue> {
    obj.get(JsString::from(name), ctx)
}

/// Whether `options[name]` is `true` (after [`check`], it is a boolean if set; a getter
/// answering otherwise the second time is read as its truth value).
pub(super) fn flag(options: &JsValue, name: &str, ctx: &mut Context) -> JsResult<bool> {
    Ok(value(options, name, ctx)?.to_boolean())
}

/// `options[name]` (`undefined` without options).
pub(super) fn value(options: &JsValue, name: &str, ctx: &mut Context) -> JsResult<JsValue> {
    match options.as_object() {
        Some(obj) => get(&obj, name, ctx),
        None => Ok(JsValue::undefined()),
    }
}
