//! `engine_api::Value` <-> `abi::WireValue`.
//!
//! Data variants map one to one (a `SharedArrayBuffer` is copied: this backend has no
//! shared memory), back-references and views too: both sides number a copy's objects the
//! same way (see `Value`'s docs). The data of an external copy inlined into a message
//! (`CopyInto`) is renumbered after the message's objects so far; back-references from the
//! guest are checked before the host uses them. Handles go through the isolate's host table: callbacks, references of
//! other isolates and external copies get host ids; this isolate's own references go back
//! as the guest handle they came from.

use engine_api::abi::{Origin, Transfer, WireValue};
use engine_api::{
    Error, ErrorValue, ExternalCopy, IsolateId, Result, ScriptOrigin, TransferOptions, TypeOf,
    TypedArrayKind, Value,
};

use crate::state::{HostObject, HostTable};
use crate::trap::backend;
use crate::{WasiIsolate, WasiReference};

/// Nesting deeper than this is refused, in both directions (the guest refuses it too).
const MAX_DEPTH: usize = engine_api::MAX_TRANSFER_DEPTH;

/// `TransferOptions` on the wire; `fallback_reference` says what a value that cannot be
/// copied becomes when no option is set (a reference for `get` / `apply`, else undefined).
pub(crate) fn transfer(t: &TransferOptions, fallback_reference: bool) -> Transfer {
    Transfer {
        copy: t.copy,
        external_copy: t.external_copy,
        reference: t.reference,
        promise: t.promise,
        fallback_reference,
    }
}

pub(crate) fn transfer_options(t: &Transfer) -> TransferOptions {
    TransferOptions {
        copy: t.copy,
        external_copy: t.external_copy,
        reference: t.reference,
        promise: t.promise,
    }
}

pub(crate) fn origin(o: &ScriptOrigin) -> Origin {
    Origin {
        filename: o.filename.clone().unwrap_or_else(|| "<eval>".into()),
        line_offset: o.line_offset,
        column_offset: o.column_offset,
    }
}

pub(crate) fn type_of(s: &str) -> TypeOf {
    match s {
        "undefined" => TypeOf::Undefined,
        "null" => TypeOf::Null,
        "boolean" => TypeOf::Boolean,
        "number" => TypeOf::Number,
        "bigint" => TypeOf::BigInt,
        "string" => TypeOf::String,
        "symbol" => TypeOf::Symbol,
        "function" => TypeOf::Function,
        _ => TypeOf::Object,
    }
}

/// A host value entering isolate `own`. With `args.external_copy`, data arrives wrapped in
/// an external copy.
pub(crate) fn enter(
    value: Value,
    table: &mut HostTable,
    own: IsolateId,
    args: &TransferOptions,
) -> Result<WireValue> {
    if too_deep(&value) {
        engine_api::drop_values([value]);
        return Err(Error::NotTransferable("a value nested too deeply".into()));
    }
    if value.has_backrefs() {
        // Hand-built back-references: each must point at an earlier object.
        value.check_backrefs()?;
    }
    if args.external_copy && is_data(&value) {
        let copy = ExternalCopy::new(value)?;
        return Ok(WireValue::ExternalCopy {
            id: table.insert(HostObject::Copy(copy)),
        });
    }
    let mut numbering = Numbering::default();
    to_wire(value, table, own, 0, &mut numbering)
}

/// The numbers one message gave out so far, and what the data being inlined from an
/// external copy (numbered on its own, from 0) adds to its numbers.
#[derive(Default)]
struct Numbering {
    next: u32,
    shift: u32,
}

impl Numbering {
    fn shifted(&self, n: u32) -> Result<u32> {
        n.checked_add(self.shift)
            .ok_or_else(|| Error::NotTransferable("a value of too many objects".into()))
    }
}

/// Whether `value` nests deeper than `MAX_DEPTH` (checked without recursion).
fn too_deep(value: &Value) -> bool {
    let mut stack = vec![(value, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(items) | Value::Set(items) => Box::new(items.iter()),
            Value::Object(props) => Box::new(props.iter().map(|(_, v)| v)),
            Value::Map(entries) => Box::new(entries.iter().flat_map(|(k, v)| [k, v])),
            _ => continue,
        };
        if depth >= MAX_DEPTH {
            return true;
        }
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    false
}

fn is_data(v: &Value) -> bool {
    !matches!(
        v,
        Value::Reference(_)
            | Value::DerefInto(_)
            | Value::ExternalCopy(_)
            | Value::CopyInto(_)
            | Value::Callback(_)
    )
}

/// This isolate's own reference inside `r`, if it is one.
fn own_reference(r: &engine_api::AnyReference, own: IsolateId) -> Option<&WasiReference> {
    r.downcast_ref::<WasiReference>()
        .filter(|b| b.cell.isolate.inner.id == own)
}

fn to_wire(
    value: Value,
    table: &mut HostTable,
    own: IsolateId,
    depth: usize,
    n: &mut Numbering,
) -> Result<WireValue> {
    if depth > MAX_DEPTH {
        return Err(Error::NotTransferable("value nested too deeply".into()));
    }
    n.next = n.next.saturating_add(value.object_numbers());
    let mut each = |v: Value| to_wire(v, table, own, depth + 1, n);
    Ok(match value {
        Value::Undefined => WireValue::Undefined,
        Value::Null => WireValue::Null,
        Value::Bool(b) => WireValue::Bool(b),
        Value::Number(n) => WireValue::Number(n),
        Value::BigInt(s) => WireValue::BigInt(s),
        Value::String(s) => WireValue::String(s),
        Value::Array(items) => {
            WireValue::Array(items.into_iter().map(each).collect::<Result<_>>()?)
        }
        Value::Set(items) => WireValue::Set(items.into_iter().map(each).collect::<Result<_>>()?),
        Value::Object(props) => WireValue::Object(
            props
                .into_iter()
                .map(|(k, v)| Ok((k, each(v)?)))
                .collect::<Result<_>>()?,
        ),
        Value::Map(entries) => WireValue::Map(
            entries
                .into_iter()
                .map(|(k, v)| Ok((each(k)?, each(v)?)))
                .collect::<Result<_>>()?,
        ),
        Value::Date(t) => WireValue::Date(t),
        Value::RegExp { source, flags } => WireValue::RegExp { source, flags },
        Value::Error(e) => WireValue::Error {
            name: e.name,
            message: e.message,
            stack: e.stack,
        },
        Value::ArrayBuffer(b) => WireValue::ArrayBuffer(b),
        Value::SharedArrayBuffer(b) => WireValue::ArrayBuffer(b.to_vec()),
        Value::TypedArray { kind, bytes } => WireValue::TypedArray {
            kind: kind.name().into(),
            bytes,
        },
        Value::Reference(r) => match own_reference(&r, own) {
            Some(b) => WireValue::OwnReference {
                handle: b.cell.handle()?,
                type_of: b.type_of.as_str().into(),
            },
            None => {
                if r.is_released() {
                    return Err(Error::Released("reference"));
                }
                let type_of = r.type_of()?.as_str().into();
                WireValue::HostReference {
                    id: table.insert(HostObject::Reference(r)),
                    type_of,
                }
            }
        },
        Value::DerefInto(r) => match own_reference(&r, own) {
            Some(b) => WireValue::GuestHandle {
                handle: b.cell.handle()?,
                type_of: b.type_of.as_str().into(),
            },
            None => return Err(Error::WrongIsolate),
        },
        Value::Callback(c) => {
            let mode = match c.mode() {
                engine_api::CallbackMode::Sync => 0,
                engine_api::CallbackMode::Async => 1,
                engine_api::CallbackMode::Ignored => 2,
            };
            WireValue::HostFunction {
                id: table.insert(HostObject::Callback(c)),
                mode,
            }
        }
        Value::ExternalCopy(c) => {
            c.value()?;
            WireValue::ExternalCopy {
                id: table.insert(HostObject::Copy(c)),
            }
        }
        Value::CopyInto(c) => {
            let data = c.copy()?;
            if too_deep(&data) {
                engine_api::drop_values([data]);
                return Err(Error::NotTransferable("a value nested too deeply".into()));
            }
            // Inlined: its own numbers (from 0) follow the message's so far.
            let outer = std::mem::replace(&mut n.shift, n.next);
            let w = to_wire(data, table, own, depth + 1, n);
            n.shift = outer;
            w?
        }
        Value::Backref(k) => WireValue::Backref(n.shifted(k)?),
        Value::TypedArrayView {
            kind,
            buffer,
            byte_offset,
            byte_length,
        } => WireValue::TypedArrayView {
            kind: kind.name().into(),
            buffer: n.shifted(buffer)?,
            byte_offset: byte_offset as u64,
            byte_length: byte_length as u64,
        },
        other => return Err(Error::NotTransferable(format!("{other:?}"))),
    })
}

/// A guest value leaving per `transfer`: data is wrapped in an external copy when asked.
pub(crate) fn leave(
    w: WireValue,
    table: &HostTable,
    isolate: &WasiIsolate,
    transfer: &TransferOptions,
) -> Result<Value> {
    let v = from_wire(w, table, isolate)?;
    if transfer.external_copy && is_data(&v) {
        return ExternalCopy::new(v).map(Value::ExternalCopy);
    }
    Ok(v)
}

/// A guest value as a host value; guest handles become references owned by the host.
/// Its back-references are checked (the guest is not trusted to number them right).
pub(crate) fn from_wire(w: WireValue, table: &HostTable, isolate: &WasiIsolate) -> Result<Value> {
    let v = from_wire_rec(w, table, isolate, 0)?;
    if v.has_backrefs()
        && let Err(e) = v.check_backrefs()
    {
        engine_api::drop_values([v]);
        return Err(backend(format!("guest sent a bad back-reference: {e}")));
    }
    Ok(v)
}

fn from_wire_rec(
    w: WireValue,
    table: &HostTable,
    isolate: &WasiIsolate,
    depth: usize,
) -> Result<Value> {
    if depth > MAX_DEPTH {
        return Err(backend("guest value nested too deeply"));
    }
    let each = |w: WireValue| from_wire_rec(w, table, isolate, depth + 1);
    Ok(match w {
        WireValue::Undefined => Value::Undefined,
        WireValue::Null => Value::Null,
        WireValue::Bool(b) => Value::Bool(b),
        WireValue::Number(n) => Value::Number(n),
        WireValue::BigInt(s) => Value::BigInt(s),
        WireValue::String(s) => Value::String(s),
        WireValue::Array(items) => {
            Value::Array(items.into_iter().map(each).collect::<Result<_>>()?)
        }
        WireValue::Set(items) => Value::Set(items.into_iter().map(each).collect::<Result<_>>()?),
        WireValue::Object(props) => Value::Object(
            props
                .into_iter()
                .map(|(k, v)| Ok((k, each(v)?)))
                .collect::<Result<_>>()?,
        ),
        WireValue::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| Ok((each(k)?, each(v)?)))
                .collect::<Result<_>>()?,
        ),
        WireValue::Date(t) => Value::Date(t),
        WireValue::RegExp { source, flags } => Value::RegExp { source, flags },
        WireValue::Error {
            name,
            message,
            stack,
        } => Value::Error(ErrorValue {
            name,
            message,
            stack,
        }),
        WireValue::ArrayBuffer(b) => Value::ArrayBuffer(b),
        WireValue::TypedArray { kind, bytes } => {
            let kind = TypedArrayKind::from_name(&kind)
                .ok_or_else(|| backend(format!("guest sent unknown typed array kind {kind:?}")))?;
            if bytes.len() % kind.element_size() != 0 {
                return Err(backend("guest sent a typed array of a partial element"));
            }
            Value::TypedArray { kind, bytes }
        }
        WireValue::GuestHandle { handle, type_of: t } => {
            Value::Reference(WasiReference::new(isolate, handle, type_of(&t)).to_any())
        }
        WireValue::HostReference { id, .. } => match table.get(id) {
            Some(HostObject::Reference(r)) => Value::Reference(r.clone()),
            Some(HostObject::Callback(c)) => Value::Reference(c.clone().into_reference()),
            Some(HostObject::Copy(c)) => Value::ExternalCopy(c.clone()),
            None => return Err(Error::Released("reference")),
        },
        WireValue::HostFunction { id, .. } => match table.get(id) {
            Some(HostObject::Callback(c)) => Value::Callback(c.clone()),
            Some(HostObject::Reference(r)) => Value::Reference(r.clone()),
            Some(HostObject::Copy(c)) => Value::ExternalCopy(c.clone()),
            None => return Err(Error::Released("callback")),
        },
        WireValue::ExternalCopy { id } => match table.get(id) {
            Some(HostObject::Copy(c)) => Value::ExternalCopy(c.clone()),
            _ => return Err(Error::Released("external copy")),
        },
        WireValue::HostDeref { id } => match table.get(id) {
            Some(HostObject::Reference(r)) => Value::DerefInto(r.clone()),
            Some(HostObject::Callback(c)) => Value::DerefInto(c.clone().into_reference()),
            Some(HostObject::Copy(_)) => {
                return Err(backend("guest sent derefInto of an external copy"));
            }
            None => return Err(Error::Released("reference")),
        },
        WireValue::OwnReference { .. } => {
            return Err(backend("guest sent a host-to-guest reference"));
        }
        WireValue::Backref(n) => Value::Backref(n),
        WireValue::TypedArrayView {
            kind,
            buffer,
            byte_offset,
            byte_length,
        } => {
            let kind = TypedArrayKind::from_name(&kind)
                .ok_or_else(|| backend(format!("guest sent unknown typed array kind {kind:?}")))?;
            let (Ok(byte_offset), Ok(byte_length)) =
                (usize::try_from(byte_offset), usize::try_from(byte_length))
            else {
                return Err(backend("guest sent a typed array view out of range"));
            };
            Value::TypedArrayView {
                kind,
                buffer,
                byte_offset,
                byte_length,
            }
        }
    })
}
