//! `Decoder`: builds `JsValue`s from [`WireValue`]s.

use boa_engine::{
    Context, JsBigInt, JsError, JsObject, JsResult, JsString, JsValue,
    builtins::object::OrdinaryObject,
    object::ObjectInitializer,
    object::builtins::{JsArray, JsArrayBuffer, JsMap, JsRegExp, JsSet},
    property::{PropertyDescriptor, PropertyKey},
    string::Utf16JsStringBuilder,
};

use crate::guest::{errors, handles, host, ivm};
use engine_api::abi::{GuestError, WireValue};

/// A `JsValue` for a wire value (in the current realm), its shared objects and cycles
/// ([`WireValue::Backref`]) rebuilt.
pub fn from_wire(value: WireValue, ctx: &mut Context) -> Result<JsValue, GuestError> {
    let graph = has_backrefs(&value);
    Decoder {
        keys: Vec::new(),
        made: graph.then(Vec::new),
    }
    .value(value, ctx)
}

/// Whether `value` has back-references or views (checked without recursion).
fn has_backrefs(value: &WireValue) -> bool {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            WireValue::Backref(_) | WireValue::TypedArrayView { .. } => return true,
            WireValue::Array(items) | WireValue::Set(items) => stack.extend(items),
            WireValue::Object(props) => stack.extend(props.iter().map(|(_, v)| v)),
            WireValue::Map(pairs) => stack.extend(pairs.iter().flat_map(|(k, v)| [k, v])),
            _ => {}
        }
    }
    false
}

/// How many distinct property keys one decode remembers.
const KEY_CACHE: usize = 32;

/// Builds `JsValue`s from wire values, reusing the property keys it has seen (arrays of
/// records repeat the same few keys), and, when the value has back-references, the
/// objects made so far by number.
struct Decoder {
    keys: Vec<(String, PropertyKey)>,
    made: Option<Vec<JsValue>>,
}

impl Decoder {
    /// Numbers `v`, the next object of this value.
    fn made(&mut self, v: JsValue) -> JsValue {
        if let Some(made) = &mut self.made {
            made.push(v.clone());
        }
        v
    }

    /// Object number `n`, which must have been made already.
    fn made_before(&self, n: u32) -> Result<JsValue, GuestError> {
        let made = self.made.as_deref().unwrap_or_default();
        made.get(n as usize).cloned().ok_or_else(|| {
            errors::invalid(format!(
                "a back-reference to object {n} where only {} came before it",
                made.len()
            ))
        })
    }

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
            WireValue::String(s) => JsValue::from(js_string(&s)),
            WireValue::Array(items) if self.made.is_some() => {
                // Made before its items, which may refer back to it.
                let holes = vec![JsValue::undefined(); items.len()];
                let arr = JsArray::from_iter(holes, ctx);
                self.made(arr.clone().into());
                for (i, item) in items.into_iter().enumerate() {
                    let v = self.value(item, ctx)?;
                    arr.create_data_property_or_throw(i, v, ctx)
                        .map_err(|e| js(e, ctx))?;
                }
                arr.into()
            }
            WireValue::Array(items) => {
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    values.push(self.value(item, ctx)?);
                }
                JsArray::from_iter(values, ctx).into()
            }
            WireValue::Object(props) => {
                let obj = new_object(ctx);
                self.made(obj.clone().into());
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
                self.made(map.clone().into());
                for (k, v) in pairs {
                    let (k, v) = (self.value(k, ctx)?, self.value(v, ctx)?);
                    map.set(k, v, ctx).map_err(|e| js(e, ctx))?;
                }
                map.into()
            }
            WireValue::Set(items) => {
                let set = JsSet::new(ctx);
                self.made(set.clone().into());
                for v in items {
                    let v = self.value(v, ctx)?;
                    set.add(v, ctx).map_err(|e| js(e, ctx))?;
                }
                set.into()
            }
            WireValue::Date(t) => {
                let ctor = ctx.intrinsics().constructors().date().constructor();
                let d = ctor
                    .construct(&[JsValue::from(t)], None, ctx)
                    .map_err(|e| js(e, ctx))?;
                self.made(d.into())
            }
            WireValue::RegExp { source, flags } => {
                let re = JsRegExp::new(
                    JsString::from(source.as_str()),
                    JsString::from(flags.as_str()),
                    ctx,
                )
                .map_err(|e| js(e, ctx))?;
                self.made(re.into())
            }
            WireValue::Error {
                name,
                message,
                stack,
            } => {
                let e = errors::error_value(&name, &message, stack.as_deref(), ctx);
                self.made(e)
            }
            WireValue::ArrayBuffer(bytes) => {
                let buf = array_buffer(&bytes, ctx).map_err(|e| js(e, ctx))?;
                self.made(buf.into())
            }
            WireValue::TypedArray { kind, bytes } => {
                let ctor = view_constructor(&kind, ctx)
                    .ok_or_else(|| errors::invalid(format!("unknown typed array kind `{kind}`")))?;
                let buf = array_buffer(&bytes, ctx).map_err(|e| js(e, ctx))?;
                let view: JsValue = ctor
                    .construct(&[buf.clone().into()], None, ctx)
                    .map_err(|e| js(e, ctx))?
                    .into();
                // The view, then its buffer.
                self.made(view.clone());
                self.made(buf.into());
                view
            }
            WireValue::Backref(n) => self.made_before(n)?,
            WireValue::TypedArrayView {
                kind,
                buffer,
                byte_offset,
                byte_length,
            } => {
                let buf = self.made_before(buffer)?;
                let ab = buf
                    .as_object()
                    .and_then(|o| JsArrayBuffer::from_object(o).ok())
                    .ok_or_else(|| {
                        errors::invalid(format!("a view over object {buffer}, not a buffer"))
                    })?;
                let bad = || errors::invalid(format!("a {kind} view out of its buffer"));
                let k = engine_api::TypedArrayKind::from_name(&kind).ok_or_else(bad)?;
                let off = usize::try_from(byte_offset).map_err(|_| bad())?;
                let len = usize::try_from(byte_length).map_err(|_| bad())?;
                engine_api::check_view(k, ab.byte_length(), off, len).map_err(|_| bad())?;
                let ctor = view_constructor(&kind, ctx).ok_or_else(bad)?;
                // A DataView's length is in bytes, a typed array's in elements.
                let count = len / k.element_size();
                let args = [buf, JsValue::from(off as f64), JsValue::from(count as f64)];
                let view: JsValue = ctor
                    .construct(&args, None, ctx)
                    .map_err(|e| js(e, ctx))?
                    .into();
                self.made(view)
            }
            WireValue::GuestHandle { handle, .. } => handles::value(handle)?.0,
            WireValue::HostDeref { .. } => {
                return Err(errors::invalid(
                    "host sent a guest-to-host value".to_string(),
                ));
            }
            WireValue::OwnReference { handle, type_of } => {
                let inherit = handles::inherits(handle);
                ivm::own_reference(handles::value(handle)?.0, &type_of, inherit, ctx)
            }
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

/// `s` as a `JsString`, made in one allocation: Boa's `From<&str>` collects a string beyond
/// Latin-1 into a growing `Vec<u16>` first, then copies it (three UTF-16 copies at its peak).
fn js_string(s: &str) -> JsString {
    if s.chars().all(|c| u32::from(c) <= 0xFF) {
        return JsString::from(s);
    }
    let mut utf16 = Utf16JsStringBuilder::with_capacity(s.encode_utf16().count());
    utf16.extend(s.encode_utf16());
    utf16.build()
}
