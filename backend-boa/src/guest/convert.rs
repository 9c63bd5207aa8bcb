//! Structured clone between `JsValue` and [`WireValue`], and the result transfer rules.
//!
//! Out of the guest through a `Copier` (failing with a [`CopyError`]), into it through a
//! `Decoder`.

use boa_engine::{Context, JsValue};

use engine_api::abi::{GuestError, Response, Transfer, WireValue};

use super::handles::{self, Entry};
use super::{errors, host, ivm};

mod copier;
mod copy_error;
mod decoder;

pub use copier::copy_out;
pub use copy_error::CopyError;
pub use decoder::{from_wire, set_first_realm};

/// `typeof`, with "null" for null.
pub fn type_of(value: &JsValue) -> String {
    if value.is_null() {
        "null".into()
    } else {
        value.type_of().into()
    }
}

/// An argument to the host: a copy if `copy` or primitive, else a reference.
pub fn arg_out(value: &JsValue, copy: bool, ctx: &mut Context) -> Result<WireValue, CopyError> {
    match value.as_object() {
        Some(obj) if !copy => match ivm::outgoing(&obj, ctx) {
            Some(w) => w,
            None => Ok(new_handle(value, ctx)),
        },
        _ => copy_out(value, ctx),
    }
}

/// A new reference handle to `value`.
pub fn new_handle(value: &JsValue, ctx: &mut Context) -> WireValue {
    let type_of = type_of(value);
    let handle = handles::insert(Entry::Value(value.clone(), ctx.realm().clone()));
    WireValue::GuestHandle { handle, type_of }
}

/// Transfers a result out per `t` (see [`Transfer`]).
pub fn transfer_out(
    value: JsValue,
    t: Transfer,
    ctx: &mut Context,
) -> Result<Response, GuestError> {
    if t.promise
        && let Some(promise) = value.as_promise()
    {
        super::runtime::run_jobs(ctx);
        let settled = Transfer {
            promise: false,
            ..t
        };
        return match promise.state() {
            boa_engine::builtins::promise::PromiseState::Fulfilled(v) => {
                transfer_out(v, settled, ctx)
            }
            boa_engine::builtins::promise::PromiseState::Rejected(e) => {
                Err(errors::from_value(&e, None, ctx))
            }
            boa_engine::builtins::promise::PromiseState::Pending => Ok(Response::Pending {
                watch: host::watch(&promise, settled, ctx),
            }),
        };
    }
    if t.copy || t.external_copy {
        return copy_out(&value, ctx)
            .map(Response::Value)
            .map_err(|e| e.into_guest(ctx));
    }
    if t.reference {
        return Ok(Response::Value(new_handle(&value, ctx)));
    }
    if let Some(obj) = value.as_object() {
        if let Some(w) = ivm::outgoing(&obj, ctx) {
            return w.map(Response::Value).map_err(|e| e.into_guest(ctx));
        }
        return Ok(Response::Value(if t.fallback_reference {
            new_handle(&value, ctx)
        } else {
            WireValue::Undefined
        }));
    }
    if value.is_symbol() {
        return Ok(Response::Value(if t.fallback_reference {
            new_handle(&value, ctx)
        } else {
            WireValue::Undefined
        }));
    }
    copy_out(&value, ctx)
        .map(Response::Value)
        .map_err(|e| e.into_guest(ctx))
}
