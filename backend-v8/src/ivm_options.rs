//! Checks the options objects of the guest-side `ivm` API against
//! [`engine_api::abi::guest_options`] (the same check the Boa guest makes).
//!
//! Reading an options object may run guest code (getters, Proxy traps): that runs under
//! the call's deadline like any guest code, and an exception it throws (or a
//! termination) comes out as [`crate::empty`], with the exception left pending.

use engine_api::abi::guest_options::{BY_NUMBER, OptionType, OptionsSpec, Problem, TRANSFER};
use engine_api::{Error, JsError, Result, Value};

/// The native `options(options, spec)`: throws a `TypeError` for a bad options object.
pub(crate) fn native<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    args: &v8::FunctionCallbackArguments<'s>,
) -> Result<Option<Value>> {
    let spec = args
        .get(1)
        .int32_value(scope)
        .and_then(|n| usize::try_from(n).ok())
        .and_then(|n| BY_NUMBER.get(n))
        .ok_or_else(|| crate::backend_error("unknown options spec"))?;
    check(scope, args.get(0), spec)?;
    Ok(None)
}

/// Checks top-level `options` against `spec`.
pub(crate) fn check<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    options: v8::Local<'s, v8::Value>,
    spec: &OptionsSpec,
) -> Result<()> {
    if options.is_null_or_undefined() {
        return Ok(());
    }
    match check_at(scope, options, spec, "")? {
        None => Ok(()),
        Some(problem) => Err(Error::Js(JsError::new("TypeError", problem.message()))),
    }
}

fn check_at<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    options: v8::Local<'s, v8::Value>,
    spec: &OptionsSpec,
    prefix: &str,
) -> Result<Option<Problem>> {
    let Ok(obj) = v8::Local::<v8::Object>::try_from(options) else {
        return Ok(Some(Problem::NotObject(
            prefix.trim_end_matches('.').to_string(),
        )));
    };
    let names = obj
        .get_own_property_names(
            scope,
            v8::GetPropertyNamesArgs {
                mode: v8::KeyCollectionMode::OwnOnly,
                property_filter: v8::PropertyFilter::SKIP_SYMBOLS,
                index_filter: v8::IndexFilter::IncludeIndices,
                key_conversion: v8::KeyConversionMode::ConvertToString,
            },
        )
        .ok_or_else(crate::empty)?;
    for i in 0..names.length() {
        let name = names.get_index(scope, i).ok_or_else(crate::empty)?;
        let name = name.to_rust_string_lossy(scope);
        if let Some(problem) = spec.check_name(prefix, &name) {
            return Ok(Some(problem));
        }
    }
    for (name, ty) in spec.known {
        let value = get(scope, obj, name)?;
        if value.is_undefined() {
            continue;
        }
        let path = format!("{prefix}{name}");
        let fits = match ty {
            OptionType::Boolean => value.is_boolean(),
            OptionType::Number => value.is_number(),
            OptionType::Transfer => value.is_object(),
            OptionType::Array => value.is_array(),
        };
        if !fits {
            return Ok(Some(Problem::WrongType(path, *ty)));
        }
        if *ty == OptionType::Transfer
            && let Some(problem) = check_at(scope, value, &TRANSFER, &format!("{path}."))?
        {
            return Ok(Some(problem));
        }
    }
    for name in spec.unsupported {
        let value = get(scope, obj, name)?;
        if !(value.is_undefined() || value.is_false()) {
            return Ok(Some(Problem::Unsupported(format!("{prefix}{name}"))));
        }
    }
    Ok(None)
}

/// `obj[name]`; an exception (a throwing getter) is pending on `Err(empty)`.
pub(crate) fn get<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    obj: v8::Local<'s, v8::Object>,
    name: &str,
) -> Result<v8::Local<'s, v8::Value>> {
    let key = v8::String::new(scope, name).ok_or_else(crate::empty)?;
    obj.get(scope, key.into()).ok_or_else(crate::empty)
}
