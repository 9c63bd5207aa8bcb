//! `ivm.ExternalCopy` methods: each calls the matching `HostRequest` for the host's copy.

use boa_engine::{Context, JsResult, JsValue};

use engine_api::abi::{HostRequest, HostResponse, guest_options};

use super::{Ivm, arg, external_copy, make, options, require_new, type_error};
use crate::guest::convert::{self, CopyError};
use crate::guest::host;

fn this_copy_id(this: &JsValue) -> JsResult<u32> {
    match this
        .as_object()
        .and_then(|o| o.downcast_ref::<Ivm>().map(|d| d.clone()))
        .as_ref()
    {
        Some(Ivm::ExternalCopy { released, .. }) if released.get() => {
            Err(type_error("ExternalCopy has been released"))
        }
        Some(Ivm::ExternalCopy { id, .. }) => Ok(*id),
        _ => Err(type_error("not an ivm.ExternalCopy")),
    }
}

pub(super) fn new_external_copy(
    new_target: &JsValue,
    args: &[JsValue],
    ctx: &mut Context,
) -> JsResult<JsValue> {
    require_new(new_target, "ExternalCopy")?;
    options::check(&arg(args, 1), &guest_options::NEW_EXTERNAL_COPY, ctx)?;
    let value = convert::copy_out(&arg(args, 0), ctx).map_err(CopyError::into_js)?;
    match host::call(&HostRequest::NewExternalCopy { value }, ctx)? {
        HostResponse::Id(id) => Ok(external_copy(id, ctx)),
        _ => Err(type_error("host did not create the external copy")),
    }
}

pub(super) fn external_copy_copy(
    this: &JsValue,
    args: &[JsValue],
    ctx: &mut Context,
) -> JsResult<JsValue> {
    let opts = arg(args, 0);
    options::check(&opts, &guest_options::RELEASE, ctx)?;
    let id = this_copy_id(this)?;
    let r = host::call(&HostRequest::ReadExternalCopy { id }, ctx)?;
    let v = host::value_of(r, ctx)?;
    if options::release(&opts, ctx)? {
        super::release(this, &[], ctx)?;
    }
    Ok(v)
}

pub(super) fn external_copy_copy_into(
    this: &JsValue,
    args: &[JsValue],
    ctx: &mut Context,
) -> JsResult<JsValue> {
    options::check(&arg(args, 0), &guest_options::COPY_INTO, ctx)?;
    let id = this_copy_id(this)?;
    Ok(make(Ivm::CopyInto(id), ctx, true).into())
}
