//! Structured clone between `JsValue` and [`WireValue`], and the result transfer rules.

use boa_engine::{
    Context, JsBigInt, JsError, JsNativeError, JsObject, JsResult, JsString, JsValue, JsVariant,
    builtins::{error::Error as ErrorData, object::OrdinaryObject, typed_array::TypedArrayKind},
    js_string,
    object::ObjectInitializer,
    object::builtins::{
        JsArray, JsArrayBuffer, JsDataView, JsDate, JsMap, JsPromise, JsProxy, JsRegExp, JsSet,
        JsSharedArrayBuffer, JsTypedArray, JsWeakMap, JsWeakSet,
    },
    property::{PropertyDescriptor, PropertyKey},
};

use crate::abi::{GuestError, Response, Transfer, WireValue};

use super::handles::{self, Entry};
use super::{errors, host, ivm};

/// Deeper object graphs are refused (the contract's limit; also keeps the wasm stack safe).
const MAX_DEPTH: usize = engine_api::MAX_TRANSFER_DEPTH;

/// Why a deep copy failed.
pub enum CopyError {
    /// The value (or something inside it) cannot be copied.
    NotTransferable(String),
    /// JS threw while reading it (a getter, a proxy trap).
    Js(JsError),
}

impl From<JsError> for CopyError {
    fn from(e: JsError) -> Self {
        Self::Js(e)
    }
}

impl CopyError {
    /// As a request failure.
    pub fn into_guest(self, ctx: &mut Context) -> GuestError {
        match self {
            Self::NotTransferable(m) => errors::not_transferable(m),
            Self::Js(e) => errors::from_js(e, None, ctx),
        }
    }

    /// As an exception inside the guest.
    pub fn into_js(self) -> JsError {
        match self {
            Self::NotTransferable(m) => JsNativeError::typ().with_message(m).into(),
            Self::Js(e) => e,
        }
    }
}

/// `typeof`, with "null" for null.
pub fn type_of(value: &JsValue) -> String {
    if value.is_null() {
        "null".into()
    } else {
        value.type_of().into()
    }
}

/// A deep copy of `value`.
pub fn copy_out(value: &JsValue, ctx: &mut Context) -> Result<WireValue, CopyError> {
    Copier { path: Vec::new() }.copy(value, ctx)
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

fn string(s: &JsString) -> String {
    s.to_std_string_lossy()
}

struct Copier {
    /// Objects being copied, outermost first (a repeat is a cycle).
    path: Vec<JsObject>,
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
        if self.path.iter().any(|o| o == obj) {
            return Err(CopyError::NotTransferable(
                "a cyclic object cannot be copied".into(),
            ));
        }
        if self.path.len() >= MAX_DEPTH {
            return Err(CopyError::NotTransferable(
                "object nesting is too deep to copy".into(),
            ));
        }
        self.path.push(obj.clone());
        let out = self.object_inner(obj, ctx);
        self.path.pop();
        out
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
        if let Ok(buf) = JsArrayBuffer::from_object(obj.clone()) {
            return Ok(WireValue::ArrayBuffer(buf.to_vec().unwrap_or_default()));
        }
        if let Ok(buf) = JsSharedArrayBuffer::from_object(obj.clone()) {
            return Ok(WireValue::ArrayBuffer(buf.to_vec()));
        }
        if let Ok(ta) = JsTypedArray::from_object(obj.clone()) {
            if ta.kind() == Some(TypedArrayKind::Float16) {
                // The contract's typed array kinds have no 16-bit float (nor has V8's copy).
                return Err(CopyError::NotTransferable(
                    "a Float16Array cannot be copied".into(),
                ));
            }
            let kind = ta.kind().map_or("Uint8Array", kind_name).to_string();
            let offset = ta.byte_offset(ctx)?;
            let len = ta.byte_length(ctx)?;
            let bytes = view_bytes(&ta.buffer(ctx)?, offset, len);
            return Ok(WireValue::TypedArray { kind, bytes });
        }
        if let Ok(dv) = JsDataView::from_object(obj.clone()) {
            let offset = dv.byte_offset(ctx)? as usize;
            let len = dv.byte_length(ctx)? as usize;
            let bytes = view_bytes(&dv.buffer(ctx)?, offset, len);
            return Ok(WireValue::TypedArray {
                kind: "DataView".into(),
                bytes,
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

/// The constructor of a typed array or DataView by name.
fn view_constructor(kind: &str, ctx: &Context) -> Option<JsObject> {
    let c = ctx.intrinsics().constructors();
    let s = match kind {
        "Int8Array" => c.typed_int8_array(),
        "Uint8Array" => c.typed_uint8_array(),
        "Uint8ClampedArray" => c.typed_uint8clamped_array(),
        "Int16Array" => c.typed_int16_array(),
        "Uint16Array" => c.typed_uint16_array(),
        "Int32Array" => c.typed_int32_array(),
        "Uint32Array" => c.typed_uint32_array(),
        "BigInt64Array" => c.typed_bigint64_array(),
        "BigUint64Array" => c.typed_biguint64_array(),
        "Float16Array" => c.typed_float16_array(),
        "Float32Array" => c.typed_float32_array(),
        "Float64Array" => c.typed_float64_array(),
        "DataView" => c.data_view(),
        _ => return None,
    };
    Some(s.constructor())
}

fn array_buffer(bytes: &[u8], ctx: &mut Context) -> JsResult<JsArrayBuffer> {
    let buf = JsArrayBuffer::new(bytes.len(), ctx)?;
    if let Some(mut data) = buf.data_mut() {
        data.copy_from_slice(bytes);
    }
    Ok(buf)
}

/// A `JsValue` for a wire value (in the current realm).
pub fn from_wire(value: WireValue, ctx: &mut Context) -> Result<JsValue, GuestError> {
    Decoder::default().value(value, ctx)
}

/// How many distinct property keys one decode remembers.
const KEY_CACHE: usize = 32;

/// Builds `JsValue`s from wire values, reusing the property keys it has seen (arrays of
/// records repeat the same few keys).
#[derive(Default)]
struct Decoder {
    keys: Vec<(String, PropertyKey)>,
}

impl Decoder {
    fn key(&mut self, name: String) -> PropertyKey {
        if let Some((_, key)) = self.keys.iter().find(|(n, _)| *n == name) {
            return key.clone();
        }
        let key = PropertyKey::from(JsString::from(name.as_str()));
        if self.keys.len() < KEY_CACHE {
            self.keys.push((name, key.clone()));
        }
        key
    }

    fn value(&mut self, value: WireValue, ctx: &mut Context) -> Result<JsValue, GuestError> {
        let js = |e: JsError, ctx: &mut Context| errors::from_js(e, None, ctx);
        Ok(match value {
            WireValue::Undefined => JsValue::undefined(),
            WireValue::Null => JsValue::null(),
            WireValue::Bool(b) => JsValue::from(b),
            WireValue::Number(n) => JsValue::from(n),
            WireValue::BigInt(s) => JsBigInt::from_string(&s)
                .map(JsValue::from)
                .ok_or_else(|| errors::invalid(format!("invalid BigInt `{s}`")))?,
            WireValue::String(s) => JsValue::from(JsString::from(s.as_str())),
            WireValue::Array(items) => {
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    values.push(self.value(item, ctx)?);
                }
                JsArray::from_iter(values, ctx).into()
            }
            WireValue::Object(props) => {
                let obj = new_object(ctx);
                for (k, v) in props {
                    let v = self.value(v, ctx)?;
                    // A new ordinary object is extensible and has only these data properties:
                    // inserting is what `CreateDataPropertyOrThrow` would do, without the checks.
                    obj.insert_property(self.key(k), data_property(v));
                }
                obj.into()
            }
            WireValue::Map(pairs) => {
                let map = JsMap::new(ctx);
                for (k, v) in pairs {
                    let (k, v) = (self.value(k, ctx)?, self.value(v, ctx)?);
                    map.set(k, v, ctx).map_err(|e| js(e, ctx))?;
                }
                map.into()
            }
            WireValue::Set(items) => {
                let set = JsSet::new(ctx);
                for v in items {
                    let v = self.value(v, ctx)?;
                    set.add(v, ctx).map_err(|e| js(e, ctx))?;
                }
                set.into()
            }
            WireValue::Date(t) => {
                let ctor = ctx.intrinsics().constructors().date().constructor();
                ctor.construct(&[JsValue::from(t)], None, ctx)
                    .map_err(|e| js(e, ctx))?
                    .into()
            }
            WireValue::RegExp { source, flags } => JsRegExp::new(
                JsString::from(source.as_str()),
                JsString::from(flags.as_str()),
                ctx,
            )
            .map_err(|e| js(e, ctx))?
            .into(),
            WireValue::Error {
                name,
                message,
                stack,
            } => errors::error_value(&name, &message, stack.as_deref(), ctx),
            WireValue::ArrayBuffer(bytes) => {
                array_buffer(&bytes, ctx).map_err(|e| js(e, ctx))?.into()
            }
            WireValue::TypedArray { kind, bytes } => {
                let ctor = view_constructor(&kind, ctx)
                    .ok_or_else(|| errors::invalid(format!("unknown typed array kind `{kind}`")))?;
                let buf = array_buffer(&bytes, ctx).map_err(|e| js(e, ctx))?;
                ctor.construct(&[buf.into()], None, ctx)
                    .map_err(|e| js(e, ctx))?
                    .into()
            }
            WireValue::GuestHandle { handle, .. } => handles::value(handle)?.0,
            WireValue::HostReference { id, type_of } => ivm::host_reference(id, &type_of, ctx),
            WireValue::HostFunction { id, mode } => host::function(id, mode, ctx)?,
            WireValue::ExternalCopy { id } => ivm::external_copy(id, ctx),
        })
    }
}

thread_local! {
    /// `Object.prototype` of the realm built with the context (see [`new_object`]).
    static FIRST_OBJECT_PROTOTYPE: std::cell::RefCell<Option<JsObject>> =
        const { std::cell::RefCell::new(None) };
}

/// Records the context's first realm (called once, when the engine is built).
pub fn set_first_realm(ctx: &Context) {
    let proto = ctx.intrinsics().constructors().object().prototype();
    FIRST_OBJECT_PROTOTYPE.with(|p| *p.borrow_mut() = Some(proto));
}

/// A new ordinary object inheriting from the current realm's `Object.prototype`.
///
/// In the realm built with the context, objects get shapes shared through the context's
/// root shape (as object literals do), so records with the same keys share one property
/// table. Other realms have their own root shape, and a prototype transition on the
/// context's one would keep their `Object.prototype` (and realm) alive for the life of the
/// context: there, objects get a shape of their own.
fn new_object(ctx: &mut Context) -> JsObject {
    let proto = ctx.intrinsics().constructors().object().prototype();
    let first = FIRST_OBJECT_PROTOTYPE.with(|p| p.borrow().as_ref() == Some(&proto));
    if first {
        ObjectInitializer::with_native_data(OrdinaryObject, ctx).build()
    } else {
        JsObject::from_proto_and_data(proto, OrdinaryObject)
    }
}

/// A writable, enumerable, configurable data property.
fn data_property(value: JsValue) -> PropertyDescriptor {
    PropertyDescriptor::builder()
        .value(value)
        .writable(true)
        .enumerable(true)
        .configurable(true)
        .build()
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
