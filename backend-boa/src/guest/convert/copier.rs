//! `Copier`: the deep copy of a `JsValue` into a [`WireValue`].

use boa_engine::{
    Context, JsObject, JsString, JsValue, JsVariant,
    builtins::{error::Error as ErrorData, object::OrdinaryObject, typed_array::TypedArrayKind},
    js_string,
    object::builtins::{
        JsArrayBuffer, JsDataView, JsDate, JsMap, JsPromise, JsProxy, JsRegExp, JsSet,
        JsSharedArrayBuffer, JsTypedArray, JsWeakMap, JsWeakSet,
    },
    property::PropertyKey,
};

use std::collections::HashMap;

use super::CopyError;
use crate::guest::{errors, ivm};
use engine_api::abi::WireValue;

/// Deeper object graphs are refused (the contract's limit; also keeps the wasm stack safe).
const MAX_DEPTH: usize = engine_api::MAX_TRANSFER_DEPTH;

/// A deep copy of `value`, identity kept: an object met again is a back-reference to its
/// number, a typed array over a buffer already copied a view (see `engine_api::Value`).
pub fn copy_out(value: &JsValue, ctx: &mut Context) -> Result<WireValue, CopyError> {
    Copier::default().copy(value, ctx)
}

fn string(s: &JsString) -> String {
    s.to_std_string_lossy()
}

#[derive(Default)]
struct Copier {
    /// How many objects are being copied around the current one.
    depth: usize,
    /// The objects numbered so far.
    seen: HashMap<JsObject, Numbered>,
    next: u32,
}

/// What an object got: its number and, for a buffer, which of its bytes that number holds
/// (a typed array copies only the bytes it views).
#[derive(Clone, Copy)]
struct Numbered {
    number: u32,
    start: usize,
    len: usize,
}

impl Copier {
    /// The next `count` numbers (the first returned).
    fn take(&mut self, count: u32) -> Result<u32, CopyError> {
        let n = self.next;
        self.next = n
            .checked_add(count)
            .ok_or_else(|| CopyError::NotTransferable("a value of too many objects".into()))?;
        Ok(n)
    }

    fn number(&mut self, obj: &JsObject, start: usize, len: usize) -> Result<u32, CopyError> {
        let number = self.take(1)?;
        self.seen
            .insert(obj.clone(), Numbered { number, start, len });
        Ok(number)
    }
}

impl Copier {
    fn copy(&mut self, value: &JsValue, ctx: &mut Context) -> Result<WireValue, CopyError> {
        Ok(match value.variant() {
            JsVariant::Null => WireValue::Null,
            JsVariant::Undefined => WireValue::Undefined,
            JsVariant::Boolean(b) => WireValue::Bool(b),
            JsVariant::String(s) => WireValue::String(string(&s)),
            JsVariant::Float64(f) => WireValue::Number(f),
            JsVariant::Integer32(i) => WireValue::Number(f64::from(i)),
            JsVariant::BigInt(b) => WireValue::BigInt(b.to_string()),
            JsVariant::Symbol(_) => {
                return Err(CopyError::NotTransferable(
                    "a symbol cannot be copied".into(),
                ));
            }
            JsVariant::Object(obj) => self.object(&obj, ctx)?,
        })
    }

    fn object(&mut self, obj: &JsObject, ctx: &mut Context) -> Result<WireValue, CopyError> {
        if let Some(w) = ivm::outgoing(obj, ctx) {
            return w;
        }
        if obj.is_callable() {
            return Err(CopyError::NotTransferable(
                "a function cannot be copied".into(),
            ));
        }
        if let Some(kind) = uncopyable_kind(obj) {
            return Err(CopyError::NotTransferable(format!(
                "a {kind} cannot be copied"
            )));
        }
        if let Some(w) = self.buffer(obj, ctx)? {
            return Ok(w);
        }
        if let Some(n) = self.seen.get(obj) {
            return Ok(WireValue::Backref(n.number));
        }
        if self.depth >= MAX_DEPTH {
            return Err(CopyError::NotTransferable(
                "object nesting is too deep to copy".into(),
            ));
        }
        self.number(obj, 0, 0)?;
        self.depth += 1;
        let out = self.object_inner(obj, ctx);
        self.depth -= 1;
        out
    }

    /// An (Shared)ArrayBuffer (a back-reference when this copy holds all its bytes) or a
    /// typed array / DataView (over a buffer this copy holds the viewed bytes of, else over
    /// a copy of them); `None` for other objects.
    fn buffer(
        &mut self,
        obj: &JsObject,
        ctx: &mut Context,
    ) -> Result<Option<WireValue>, CopyError> {
        let whole = if let Ok(b) = JsArrayBuffer::from_object(obj.clone()) {
            Some(b.to_vec().unwrap_or_default())
        } else if let Ok(b) = JsSharedArrayBuffer::from_object(obj.clone()) {
            Some(b.to_vec())
        } else {
            None
        };
        if let Some(bytes) = whole {
            if let Some(n) = self.seen.get(obj)
                && n.start == 0
                && n.len == bytes.len()
            {
                return Ok(Some(WireValue::Backref(n.number)));
            }
            self.number(obj, 0, bytes.len())?;
            return Ok(Some(WireValue::ArrayBuffer(bytes)));
        }
        let (kind, size, buffer, start, len) =
            if let Ok(ta) = JsTypedArray::from_object(obj.clone()) {
                if ta.kind() == Some(TypedArrayKind::Float16) {
                    // The contract's typed array kinds have no 16-bit float (nor has V8's copy).
                    return Err(CopyError::NotTransferable(
                        "a Float16Array cannot be copied".into(),
                    ));
                }
                let kind = ta.kind().unwrap_or(TypedArrayKind::Uint8);
                let size = engine_api::TypedArrayKind::from_name(kind_name(kind))
                    .map_or(1, engine_api::TypedArrayKind::element_size);
                (
                    kind_name(kind),
                    size,
                    ta.buffer(ctx)?,
                    ta.byte_offset(ctx)?,
                    ta.byte_length(ctx)?,
                )
            } else if let Ok(dv) = JsDataView::from_object(obj.clone()) {
                let (start, len) = (dv.byte_offset(ctx)? as usize, dv.byte_length(ctx)? as usize);
                ("DataView", 1, dv.buffer(ctx)?, start, len)
            } else {
                return Ok(None);
            };
        if let Some(n) = self.seen.get(obj) {
            return Ok(Some(WireValue::Backref(n.number)));
        }
        let buffer_obj = buffer.as_object();
        let held = buffer_obj
            .as_ref()
            .and_then(|b| self.seen.get(b))
            .copied()
            .filter(|n| {
                start >= n.start
                    && start.saturating_add(len) <= n.start.saturating_add(n.len)
                    && (start - n.start).is_multiple_of(size)
            });
        if let Some(n) = held {
            self.number(obj, 0, 0)?;
            return Ok(Some(WireValue::TypedArrayView {
                kind: kind.into(),
                buffer: n.number,
                byte_offset: (start - n.start) as u64,
                byte_length: len as u64,
            }));
        }
        // The view, then its buffer (holding the viewed bytes).
        let number = self.take(2)?;
        self.seen.insert(
            obj.clone(),
            Numbered {
                number,
                start: 0,
                len: 0,
            },
        );
        if let Some(b) = buffer_obj
            && !self.seen.contains_key(&b)
        {
            self.seen.insert(
                b,
                Numbered {
                    number: number + 1,
                    start,
                    len,
                },
            );
        }
        let bytes = view_bytes(&buffer, start, len);
        Ok(Some(WireValue::TypedArray {
            kind: kind.into(),
            bytes,
        }))
    }

    fn object_inner(&mut self, obj: &JsObject, ctx: &mut Context) -> Result<WireValue, CopyError> {
        if obj.is_array() {
            let len = obj.get(js_string!("length"), ctx)?.to_length(ctx)?;
            let mut items = Vec::with_capacity(len.min(1 << 16) as usize);
            for i in 0..len {
                let v = match own_data(obj, &PropertyKey::from(i)) {
                    Some(v) => v,
                    None => obj.get(i, ctx)?,
                };
                items.push(self.copy(&v, ctx)?);
            }
            return Ok(WireValue::Array(items));
        }
        if let Ok(map) = JsMap::from_object(obj.clone()) {
            let mut pairs = Vec::new();
            map.for_each_native(|k, v| {
                pairs.push((k, v));
                Ok(())
            })?;
            let mut out = Vec::with_capacity(pairs.len());
            for (k, v) in pairs {
                out.push((self.copy(&k, ctx)?, self.copy(&v, ctx)?));
            }
            return Ok(WireValue::Map(out));
        }
        if let Ok(set) = JsSet::from_object(obj.clone()) {
            let mut items = Vec::new();
            set.for_each_native(|v| {
                items.push(v);
                Ok(())
            })?;
            let mut out = Vec::with_capacity(items.len());
            for v in items {
                out.push(self.copy(&v, ctx)?);
            }
            return Ok(WireValue::Set(out));
        }
        if let Ok(date) = JsDate::from_object(obj.clone()) {
            let t = date.get_time(ctx)?.as_number().unwrap_or(f64::NAN);
            return Ok(WireValue::Date(t));
        }
        if let Ok(re) = JsRegExp::from_object(obj.clone()) {
            return Ok(WireValue::RegExp {
                source: re.source(ctx)?,
                flags: re.flags(ctx)?,
            });
        }
        if obj.is::<ErrorData>() {
            let g = errors::from_value(&obj.clone().into(), None, ctx);
            return Ok(WireValue::Error {
                name: g.name,
                message: g.message,
                stack: g.stack,
            });
        }
        if JsPromise::from_object(obj.clone()).is_ok() {
            return Err(CopyError::NotTransferable(
                "a promise cannot be copied".into(),
            ));
        }
        if obj.is_ordinary() {
            return self.ordinary(obj, ctx);
        }
        let keys = OrdinaryObject::keys(&JsValue::undefined(), &[obj.clone().into()], ctx)?;
        let keys = keys
            .as_object()
            .ok_or_else(|| CopyError::NotTransferable("object keys unavailable".into()))?;
        let n = keys.get(js_string!("length"), ctx)?.to_length(ctx)?;
        let mut props = Vec::with_capacity(n.min(1 << 16) as usize);
        for i in 0..n {
            let key = keys.get(i, ctx)?;
            let Some(key) = key.as_string() else { continue };
            let v = obj.get(key.clone(), ctx)?;
            props.push((string(&key), self.copy(&v, ctx)?));
        }
        Ok(WireValue::Object(props))
    }
}

impl Copier {
    /// Own enumerable string-keyed properties of an ordinary object, read from its
    /// property map (getters still run).
    fn ordinary(&mut self, obj: &JsObject, ctx: &mut Context) -> Result<WireValue, CopyError> {
        let keys = obj.own_property_keys(ctx)?;
        let mut props = Vec::with_capacity(keys.len());
        for key in keys {
            let name = match &key {
                PropertyKey::String(s) => string(s),
                PropertyKey::Index(i) => i.get().to_string(),
                PropertyKey::Symbol(_) => continue,
            };
            let desc = obj.borrow().properties().get(&key);
            let Some(desc) = desc.filter(|d| d.enumerable() == Some(true)) else {
                continue;
            };
            let value = match desc.value() {
                Some(v) => v.clone(),
                None => obj.get(key, ctx)?,
            };
            props.push((name, self.copy(&value, ctx)?));
        }
        Ok(WireValue::Object(props))
    }
}

/// An own data property's value, straight from the property map.
fn own_data(obj: &JsObject, key: &PropertyKey) -> Option<JsValue> {
    obj.borrow()
        .properties()
        .get(key)
        .and_then(|d| d.value().cloned())
}

/// Objects structured clone refuses (as the V8 backend does).
fn uncopyable_kind(obj: &JsObject) -> Option<&'static str> {
    if JsPromise::from_object(obj.clone()).is_ok() {
        Some("promise")
    } else if JsProxy::from_object(obj.clone()).is_ok() {
        Some("proxy")
    } else if JsWeakMap::from_object(obj.clone()).is_ok() {
        Some("WeakMap")
    } else if JsWeakSet::from_object(obj.clone()).is_ok() {
        Some("WeakSet")
    } else {
        None
    }
}

/// Bytes `offset..offset+len` of an (Shared)ArrayBuffer value.
fn view_bytes(buffer: &JsValue, offset: usize, len: usize) -> Vec<u8> {
    let Some(obj) = buffer.as_object() else {
        return Vec::new();
    };
    let all = if let Ok(b) = JsArrayBuffer::from_object(obj.clone()) {
        b.to_vec().unwrap_or_default()
    } else if let Ok(b) = JsSharedArrayBuffer::from_object(obj) {
        b.to_vec()
    } else {
        Vec::new()
    };
    all.get(offset..offset.saturating_add(len))
        .map(<[u8]>::to_vec)
        .unwrap_or_default()
}

fn kind_name(kind: TypedArrayKind) -> &'static str {
    match kind {
        TypedArrayKind::Int8 => "Int8Array",
        TypedArrayKind::Uint8 => "Uint8Array",
        TypedArrayKind::Uint8Clamped => "Uint8ClampedArray",
        TypedArrayKind::Int16 => "Int16Array",
        TypedArrayKind::Uint16 => "Uint16Array",
        TypedArrayKind::Int32 => "Int32Array",
        TypedArrayKind::Uint32 => "Uint32Array",
        TypedArrayKind::BigInt64 => "BigInt64Array",
        TypedArrayKind::BigUint64 => "BigUint64Array",
        TypedArrayKind::Float16 => "Float16Array",
        TypedArrayKind::Float32 => "Float32Array",
        TypedArrayKind::Float64 => "Float64Array",
    }
}
