//! `ivm.ExternalCopy` methods: each calls the matching `HostRequest` for the host's copy.

use boa_engine::{Context, JsResult, JsValue};

use engine_api::abi::{HostRequest, HostResponse, guest_options};

use std::cell::Cell;

use super::{Ivm, arg, external_copy, make, options, require_new, transfer, type_error};
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
    let opts = arg(args, 1);
    options::check(&opts, &guest_options::NEW_EXTERNAL_COPY, ctx)?;
    let source = arg(args, 0);
    // What to detach, checked before anything is copied.
    let mut detach = transfer::listed(&options::value(&opts, "transferList", ctx)?, ctx)?;
    if options::flag(&opts, "transferOut", ctx)? {
        detach.push(transfer::out_buffer(&source, ctx)?);
    }
    let value = convert::copy_out(&source, ctx).map_err(CopyError::into_js)?;
    match host::call(&HostRequest::NewExternalCopy { value }, ctx)? {
        HostResponse::Id(id) => {
            transfer::detach(&detach);
            Ok(external_copy(id, ctx))
        }
        _ => Err(type_error("host did not create the external copy")),
    }
}

pub(super) fn external_copy_copy(
    this: &JsValue,
    args: &[JsValue],
    ctx: &mut Context,
) -> JsResult<JsValue> {
    let opts = arg(args, 0);
    options::check(&opts, &guest_options::COPY, ctx)?;
    let id = this_copy_id(this)?;
    let r = host::call(&HostRequest::ReadExternalCopy { id }, ctx)?;
    let v = host::value_of(r, ctx)?;
    // `transferIn` moves the data in and invalidates the handle: a release, for the guest.
    if options::flag(&opts, "release", ctx)? || options::flag(&opts, "transferIn", ctx)? {
        super::release(this, &[], ctx)?;
    }
    Ok(v)
}

pub(super) fn external_copy_copy_into(
    this: &JsValue,
    args: &[JsValue],
    ctx: &mut Context,
) -> JsResult<JsValue> {
    let opts = arg(args, 0);
    options::check(&opts, &guest_options::COPY_INTO, ctx)?;
    let id = this_copy_id(this)?;
    let transfer_in = options::flag(&opts, "transferIn", ctx)?;
    let release = transfer_in || options::flag(&opts, "release", ctx)?;
    let marker = Ivm::CopyInto {
        id,
        transfer_in,
        used: Cell::new(false),
    };
    if release {
        // The handle is released for the guest; the marker keeps the host's data (and
        // `transferIn` releases it on the marker's first crossing).
        release_handle_only(this);
    }
    Ok(make(marker, ctx, true).into())
}

/// Marks the handle released without telling the host (a marker still holds the data).
fn release_handle_only(this: &JsValue) {
    if let Some(obj) = this.as_object()
        && let Some(Ivm::ExternalCopy { released, .. }) = obj.downcast_ref::<Ivm>().as_deref()
    {
        released.set(true);
    }
}
