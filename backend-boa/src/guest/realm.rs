//! New realms for `CreateContext`, each with its own root shape.
//!
//! `Context::create_realm` builds a realm on the context's shared root shape, whose
//! prototype transitions key on prototype objects strongly: every realm made that way stays
//! alive for the life of the context (~140 KB per context in Boa 0.22). A realm with its own
//! root shape is collected once released. `SetDefaultGlobalBindings` is crate-private in
//! Boa, so the global bindings are installed here, as Boa does.

use boa_engine::{
    Context, JsObject, JsResult, JsString, JsValue, js_string, object::shape::RootShape,
    property::PropertyDescriptor, realm::Realm,
};

use super::runtime;

/// The URI functions, whose intrinsics are crate-private in Boa: shared from the first
/// realm (captured before any code ran). Their errors are that realm's `URIError`.
const URI_FUNCTIONS: [&str; 4] = [
    "encodeURI",
    "encodeURIComponent",
    "decodeURI",
    "decodeURIComponent",
];

/// The first realm's URI functions, read before any script ran.
pub fn capture_uri_functions(ctx: &mut Context) -> JsResult<Vec<(JsString, JsValue)>> {
    let global = ctx.global_object();
    URI_FUNCTIONS
        .iter()
        .map(|name| {
            let key = JsString::from(*name);
            Ok((key.clone(), global.get(key, ctx)?))
        })
        .collect()
}

fn define(global: &JsObject, name: JsString, value: JsValue, ctx: &mut Context) -> JsResult<()> {
    global.define_property_or_throw(
        name,
        PropertyDescriptor::builder()
            .value(value)
            .writable(true)
            .enumerable(false)
            .configurable(true)
            .build(),
        ctx,
    )?;
    Ok(())
}

/// Empties a released realm's global object, so what the guest kept there is garbage.
///
/// Boa makes most run-time objects from the context's root shape, whose prototype
/// transitions key on prototype objects strongly: a released realm whose prototypes were
/// used that way stays reachable from the context (its builtins hold the realm, the realm
/// its global object). Its skeleton stays until Boa prunes those transitions; what its
/// globals held goes with the next collection. Never runs guest code: the global object
/// is ordinary, and deleting or redefining its data properties calls no accessor.
pub fn scrub(ctx: &mut Context, realm: &Realm) {
    runtime::in_realm(ctx, realm, |ctx| {
        let global = ctx.global_object();
        let Ok(keys) = global.own_property_keys(ctx) else {
            return;
        };
        for key in keys {
            if global.delete_property_or_throw(key.clone(), ctx).is_err() {
                // Non-configurable: a writable data property can still drop its value.
                let empty = PropertyDescriptor::builder()
                    .value(JsValue::undefined())
                    .build();
                let _ = global.define_property_or_throw(key, empty, ctx);
            }
        }
    });
}

/// A new realm with the default global bindings plus the isovm ones.
pub fn create(ctx: &mut Context, uri: &[(JsString, JsValue)]) -> JsResult<Realm> {
    let realm = Realm::create(&*ctx.host_hooks(), &RootShape::default())?;
    runtime::in_realm(ctx, &realm, |ctx| {
        bind_globals(ctx, uri)?;
        runtime::setup_realm(ctx)
    })?;
    Ok(realm)
}

fn bind_globals(ctx: &mut Context, uri: &[(JsString, JsValue)]) -> JsResult<()> {
    let global = ctx.global_object();
    // The default host hooks make `globalThis` the global object itself.
    define(
        &global,
        js_string!("globalThis"),
        global.clone().into(),
        ctx,
    )?;
    let fixed = |v: JsValue| {
        PropertyDescriptor::builder()
            .value(v)
            .writable(false)
            .enumerable(false)
            .configurable(false)
            .build()
    };
    global.define_property_or_throw(js_string!("Infinity"), fixed(f64::INFINITY.into()), ctx)?;
    global.define_property_or_throw(js_string!("NaN"), fixed(f64::NAN.into()), ctx)?;
    global.define_property_or_throw(js_string!("undefined"), fixed(JsValue::undefined()), ctx)?;

    let c = ctx.intrinsics().constructors();
    let o = ctx.intrinsics().objects();
    let bindings: Vec<(&str, JsValue)> = vec![
        ("Function", c.function().constructor().into()),
        ("Object", c.object().constructor().into()),
        ("Math", o.math().into()),
        ("JSON", o.json().into()),
        ("Array", c.array().constructor().into()),
        ("Proxy", c.proxy().constructor().into()),
        ("ArrayBuffer", c.array_buffer().constructor().into()),
        (
            "SharedArrayBuffer",
            c.shared_array_buffer().constructor().into(),
        ),
        ("BigInt", c.bigint().constructor().into()),
        ("Boolean", c.boolean().constructor().into()),
        ("Date", c.date().constructor().into()),
        ("DataView", c.data_view().constructor().into()),
        ("Map", c.map().constructor().into()),
        ("isFinite", o.is_finite().into()),
        ("isNaN", o.is_nan().into()),
        ("parseInt", o.parse_int().into()),
        ("parseFloat", o.parse_float().into()),
        ("Number", c.number().constructor().into()),
        ("eval", o.eval().into()),
        ("Set", c.set().constructor().into()),
        ("String", c.string().constructor().into()),
        ("RegExp", c.regexp().constructor().into()),
        ("TypedArray", c.typed_array().constructor().into()),
        ("Int8Array", c.typed_int8_array().constructor().into()),
        ("Uint8Array", c.typed_uint8_array().constructor().into()),
        (
            "Uint8ClampedArray",
            c.typed_uint8clamped_array().constructor().into(),
        ),
        ("Int16Array", c.typed_int16_array().constructor().into()),
        ("Uint16Array", c.typed_uint16_array().constructor().into()),
        ("Int32Array", c.typed_int32_array().constructor().into()),
        ("Uint32Array", c.typed_uint32_array().constructor().into()),
        (
            "BigInt64Array",
            c.typed_bigint64_array().constructor().into(),
        ),
        (
            "BigUint64Array",
            c.typed_biguint64_array().constructor().into(),
        ),
        ("Float16Array", c.typed_float16_array().constructor().into()),
        ("Float32Array", c.typed_float32_array().constructor().into()),
        ("Float64Array", c.typed_float64_array().constructor().into()),
        ("Symbol", c.symbol().constructor().into()),
        ("Error", c.error().constructor().into()),
        ("RangeError", c.range_error().constructor().into()),
        ("ReferenceError", c.reference_error().constructor().into()),
        ("TypeError", c.type_error().constructor().into()),
        ("SyntaxError", c.syntax_error().constructor().into()),
        ("EvalError", c.eval_error().constructor().into()),
        ("URIError", c.uri_error().constructor().into()),
        ("AggregateError", c.aggregate_error().constructor().into()),
        ("Reflect", o.reflect().into()),
        ("Promise", c.promise().constructor().into()),
        ("WeakRef", c.weak_ref().constructor().into()),
        ("WeakMap", c.weak_map().constructor().into()),
        ("WeakSet", c.weak_set().constructor().into()),
        ("Iterator", c.iterator().constructor().into()),
        ("Atomics", o.atomics().into()),
        (
            "FinalizationRegistry",
            c.finalization_registry().constructor().into(),
        ),
    ];
    for (name, value) in bindings {
        define(&global, JsString::from(name), value, ctx)?;
    }
    for (name, value) in uri {
        define(&global, name.clone(), value.clone(), ctx)?;
    }
    Ok(())
}
