//! Property semantics of references, as isolated-vm (v4+) has them: `get` / `set` run no
//! guest code unless `accessors` is set (own data properties; accessors and Proxies
//! refused with a `TypeError`), an inheriting reference (`unsafeInherit`) reads data
//! properties of the prototype chain, `delete` refuses Proxies; on the host API and on
//! the `ivm.Reference` API inside isolates.

use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use engine_api::{
    Backend, Callback, Context, Error, EvalOptions, Isolate, PropertyOptions, PropertyRefusal,
    Reference, Result as ApiResult, TransferOptions, Value,
};

use crate::support::{ENDS_WITHIN, R, ends, eval, expect_err, reference_to, setup};
use crate::{Case, ensure, ensure_eq};

/// The property cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new("properties/get_own_data_only", get_own_data::<E>),
        Case::new(
            "properties/get_inheriting_reads_prototype_data",
            get_inheriting::<E>,
        ),
        Case::new("properties/get_accessor_refused", get_accessor_refused::<E>),
        Case::new(
            "properties/get_with_accessors_runs_getter",
            get_accessors::<E>,
        ),
        Case::new("properties/get_proxy_refused", get_proxy_refused::<E>),
        Case::new(
            "properties/set_defines_own_data_property",
            set_defines_own::<E>,
        ),
        Case::new(
            "properties/set_read_only_or_frozen_is_false",
            set_read_only::<E>,
        ),
        Case::new(
            "properties/set_with_accessors_answers_like_reflect_set",
            set_with_accessors_answers_like_reflect_set::<E>,
        ),
        Case::new(
            "properties/hostile_set_with_accessors_ignores_a_replaced_reflect_set",
            set_with_accessors_ignores_a_replaced_reflect_set::<E>,
        ),
        Case::new("properties/set_accessor_or_proxy_refused", set_refused::<E>),
        Case::new("properties/delete_refuses_proxy", delete_proxy::<E>),
        Case::new(
            "properties/array_index_and_symbol_keys",
            index_and_symbol::<E>,
        ),
        Case::new(
            "properties/hostile_object_key_not_converted",
            object_key::<E>,
        ),
        Case::new("properties/hostile_proto_key", proto_key::<E>),
        Case::new(
            "properties/hostile_object_prototype_getter",
            prototype_getter::<E>,
        ),
        Case::new(
            "properties/hostile_proxy_descriptor_trap_not_run",
            proxy_traps::<E>,
        ),
        Case::new(
            "properties/hostile_spinning_getter_with_accessors_is_stopped",
            spinning_getter::<E>,
        ),
        Case::new("properties/guest_local_reference", guest_local::<E>),
        Case::new(
            "properties/guest_reference_across_isolates",
            guest_across::<E>,
        ),
        Case::new(
            "properties/guest_made_inheriting_reference_reaches_host",
            guest_inheriting_to_host::<E>,
        ),
        Case::new(
            "properties/guest_hostile_keys_and_getters",
            guest_hostile::<E>,
        ),
    ]
}

/// Expects the `TypeError` of `refusal` (the same on every backend).
fn refused<T: std::fmt::Debug>(result: ApiResult<T>, refusal: PropertyRefusal) -> R {
    match result {
        Err(Error::Js(e)) if e.name == "TypeError" && e.message == refusal.message() => Ok(()),
        other => Err(format!("expected the {refusal:?} TypeError, got {other:?}").into()),
    }
}

/// The default options: no accessors, isolated-vm's default transfer.
const D: PropertyOptions = PropertyOptions {
    transfer: TransferOptions {
        copy: false,
        external_copy: false,
        reference: false,
        promise: false,
    },
    accessors: false,
};

fn get_own_data<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = reference_to::<E>(
        &c,
        "globalThis.o = Object.create({ inherited: 1 }); o.own = 2; o.u = undefined; o",
    )?;
    ensure_eq!(r.get("own".into(), D)?, Value::from(2));
    ensure_eq!(r.get("u".into(), D)?, Value::Undefined);
    ensure_eq!(r.get("missing".into(), D)?, Value::Undefined);
    // On the prototype only: not seen without `unsafeInherit`.
    ensure_eq!(r.get("inherited".into(), D)?, Value::Undefined);
    ensure_eq!(r.get("toString".into(), D)?, Value::Undefined);
    ensure_eq!(
        r.get("own".into(), PropertyOptions::copy())?,
        Value::from(2)
    );
    // Through a primitive there is nothing to read.
    let p = reference_to::<E>(&c, "'str'")?;
    expect_err(p.get("length".into(), D), "WrongKind", |e| {
        matches!(e, Error::WrongKind(_))
    })?;
    Ok(())
}

fn get_inheriting<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = reference_to::<E>(
        &c,
        "const base = { deep: 'd' }; \
         Object.defineProperty(base, 'acc', { get() { globalThis.ran = true; return 1 } }); \
         const mid = Object.create(base); mid.inherited = 1; mid.shadowed = 'mid'; \
         globalThis.base = base; globalThis.o = Object.create(mid); o.own = 2; o.shadowed = 'own'; o",
    )?;
    let inheriting = r.inheriting();
    ensure_eq!(inheriting.get("own".into(), D)?, Value::from(2));
    ensure_eq!(inheriting.get("inherited".into(), D)?, Value::from(1));
    ensure_eq!(inheriting.get("deep".into(), D)?, Value::from("d"));
    ensure_eq!(inheriting.get("shadowed".into(), D)?, Value::from("own"));
    ensure_eq!(inheriting.get("missing".into(), D)?, Value::Undefined);
    // Object.prototype's methods are data properties of the chain.
    ensure!(
        inheriting
            .get("hasOwnProperty".into(), D)?
            .as_reference()
            .is_some()
    );
    // An inherited accessor is still refused, and did not run.
    refused(inheriting.get("acc".into(), D), PropertyRefusal::Accessor)?;
    ensure_eq!(eval(&c, "typeof globalThis.ran")?, Value::from("undefined"));
    // The original does not inherit; set and delete stay own on the inheriting one.
    ensure_eq!(r.get("inherited".into(), D)?, Value::Undefined);
    ensure!(inheriting.set("deep".into(), "own deep".into(), D)?);
    ensure_eq!(
        eval(&c, "[base.deep, Object.hasOwn(o, 'deep')]")?,
        Value::Array(vec!["d".into(), true.into()])
    );
    ensure_eq!(r.get("deep".into(), D)?, Value::from("own deep"));
    ensure!(inheriting.delete("inherited".into())?);
    ensure_eq!(inheriting.get("inherited".into(), D)?, Value::from(1));
    // Both share the value: releasing one releases the other.
    inheriting.release();
    ensure!(r.is_released());
    Ok(())
}

fn get_accessor_refused<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = reference_to::<E>(
        &c,
        "globalThis.runs = 0; \
         ({ get g() { runs++; return 1 }, set s(v) { runs++ }, \
            get gs() { runs++; return 2 }, set gs(v) { runs++ } })",
    )?;
    for key in ["g", "s", "gs"] {
        refused(r.get(key.into(), D), PropertyRefusal::Accessor)?;
        refused(
            r.get(key.into(), PropertyOptions::copy()),
            PropertyRefusal::Accessor,
        )?;
    }
    ensure_eq!(eval(&c, "runs")?, Value::from(0));
    // A class instance's getter lives on its prototype: not own, so undefined.
    let inst = reference_to::<E>(&c, "class A { get d() { runs++; return 4 } }; new A()")?;
    ensure_eq!(inst.get("d".into(), D)?, Value::Undefined);
    refused(
        inst.inheriting().get("d".into(), D),
        PropertyRefusal::Accessor,
    )?;
    ensure_eq!(eval(&c, "runs")?, Value::from(0));
    Ok(())
}

fn get_accessors<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = reference_to::<E>(
        &c,
        "globalThis.runs = 0; class A { get d() { runs++; return 4 } }; \
         const a = new A(); Object.defineProperty(a, 'g', { get() { runs++; return { n: 5 } } }); a",
    )?;
    let acc = PropertyOptions::accessors();
    ensure_eq!(r.get("d".into(), acc)?, Value::from(4));
    ensure_eq!(
        r.get("g".into(), PropertyOptions::copy().with_accessors())?,
        Value::object([("n", Value::from(5))])
    );
    // Without copy, an object result is a reference, as for data properties.
    ensure!(r.get("g".into(), acc)?.as_reference().is_some());
    // Ordinary [[Get]]: inherited properties too.
    ensure!(r.get("toString".into(), acc)?.as_reference().is_some());
    ensure_eq!(eval(&c, "runs")?, Value::from(3));
    let thrower = reference_to::<E>(
        &c,
        "({ get bad() { throw new RangeError('from getter') } })",
    )?;
    match thrower.get("bad".into(), acc) {
        Err(Error::Js(e)) => ensure_eq!(
            (e.name.as_str(), e.message.as_str()),
            ("RangeError", "from getter")
        ),
        other => return Err(format!("expected the getter's RangeError, got {other:?}").into()),
    }
    Ok(())
}

fn get_proxy_refused<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = reference_to::<E>(
        &c,
        "globalThis.traps = 0; \
         new Proxy({ x: 1 }, { get(t, k) { traps++; return 'trapped' }, \
                               getOwnPropertyDescriptor(t, k) { traps++; return undefined }, \
                               set() { traps++; return true }, deleteProperty() { traps++; return true } })",
    )?;
    refused(r.get("x".into(), D), PropertyRefusal::Proxy)?;
    refused(r.inheriting().get("x".into(), D), PropertyRefusal::Proxy)?;
    ensure_eq!(eval(&c, "traps")?, Value::from(0));
    ensure_eq!(
        r.get("x".into(), PropertyOptions::accessors())?,
        Value::from("trapped")
    );
    ensure_eq!(eval(&c, "traps")?, Value::from(1));
    // A Proxy on the prototype chain: missed without inheriting, refused with.
    let o = reference_to::<E>(
        &c,
        "const p = new Proxy({}, { get() { traps++; return 1 } }); const o = Object.create(p); o.own = 1; o",
    )?;
    ensure_eq!(o.get("own".into(), D)?, Value::from(1));
    ensure_eq!(o.get("x".into(), D)?, Value::Undefined);
    refused(o.inheriting().get("x".into(), D), PropertyRefusal::Proxy)?;
    ensure_eq!(o.inheriting().get("own".into(), D)?, Value::from(1));
    ensure_eq!(eval(&c, "traps")?, Value::from(1));
    Ok(())
}

fn set_defines_own<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = reference_to::<E>(
        &c,
        "globalThis.runs = 0; \
         const proto = { set viaSetter(v) { runs++ } }; \
         Object.defineProperty(proto, 'ro', { value: 'proto', writable: false }); \
         globalThis.o = Object.create(proto); \
         Object.defineProperty(o, 'hidden', { value: 1, writable: true, enumerable: false, configurable: false }); \
         o",
    )?;
    // An inherited setter does not run: the property becomes the object's own.
    ensure!(r.set("viaSetter".into(), 1.into(), D)?);
    // An inherited read-only property does not stop the own definition (CreateDataProperty).
    ensure!(r.set("ro".into(), "own".into(), D)?);
    // An own writable property keeps its attributes.
    ensure!(r.set("hidden".into(), 2.into(), D)?);
    ensure!(r.set("fresh".into(), Value::object([("x", 1.into())]), D)?);
    ensure_eq!(
        eval(
            &c,
            "const d = Object.getOwnPropertyDescriptor(o, 'hidden'); \
             [runs, Object.hasOwn(o, 'viaSetter'), o.viaSetter, o.ro, Object.getPrototypeOf(o).ro, \
              d.value, d.enumerable, d.configurable, d.writable, o.fresh.x, \
              JSON.stringify(Object.getOwnPropertyDescriptor(o, 'fresh').enumerable)]"
        )?,
        Value::Array(vec![
            0.into(),
            true.into(),
            1.into(),
            "own".into(),
            "proto".into(),
            2.into(),
            false.into(),
            false.into(),
            true.into(),
            1.into(),
            "true".into(),
        ])
    );
    // With accessors, the ordinary [[Set]]: the inherited setter runs.
    let fresh = reference_to::<E>(&c, "Object.create(Object.getPrototypeOf(o))")?;
    fresh.set("viaSetter".into(), 1.into(), PropertyOptions::accessors())?;
    ensure_eq!(eval(&c, "runs")?, Value::from(1));
    Ok(())
}

fn set_read_only<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let frozen = reference_to::<E>(&c, "globalThis.f = Object.freeze({ a: 1 }); f")?;
    ensure_eq!(frozen.set("a".into(), 2.into(), D)?, false);
    ensure_eq!(frozen.set("b".into(), 2.into(), D)?, false);
    let ro = reference_to::<E>(
        &c,
        "globalThis.ro = Object.defineProperty({}, 'k', { value: 1, writable: false, configurable: true }); ro",
    )?;
    ensure_eq!(ro.set("k".into(), 2.into(), D)?, false);
    let sealed = reference_to::<E>(&c, "globalThis.s = Object.preventExtensions({ w: 1 }); s")?;
    ensure_eq!(sealed.set("new".into(), 2.into(), D)?, false);
    ensure!(sealed.set("w".into(), 3.into(), D)?);
    ensure_eq!(
        eval(&c, "[f.a, 'b' in f, ro.k, 'new' in s, s.w]")?,
        Value::Array(vec![
            1.into(),
            false.into(),
            1.into(),
            false.into(),
            3.into()
        ])
    );
    // With accessors, the ordinary [[Set]] answers as `Reflect.set` does: `false` where
    // strict code would throw, the same as without accessors.
    let a = PropertyOptions::accessors();
    ensure_eq!(frozen.set("a".into(), 2.into(), a)?, false);
    ensure_eq!(frozen.set("b".into(), 2.into(), a)?, false);
    ensure_eq!(ro.set("k".into(), 2.into(), a)?, false);
    ensure_eq!(sealed.set("new".into(), 2.into(), a)?, false);
    ensure!(sealed.set("w".into(), 4.into(), a)?);
    ensure_eq!(
        eval(&c, "[f.a, 'b' in f, ro.k, 'new' in s, s.w]")?,
        Value::Array(vec![
            1.into(),
            false.into(),
            1.into(),
            false.into(),
            4.into()
        ])
    );
    Ok(())
}

/// Hostile: a snapshot replaced `Reflect.set` (every context starts from it). `set` with
/// accessors never runs that function: it still writes, the function never learns of it.
fn set_with_accessors_ignores_a_replaced_reflect_set<E: Backend>() -> R {
    if !E::capabilities().snapshots {
        return Ok(());
    }
    let scripts = [engine_api::SnapshotScript {
        code: "globalThis.seen = 0; Reflect.set = function () { seen++; return 'lie' }".into(),
        origin: Default::default(),
    }];
    let snap = E::create_snapshot(&scripts, None)?;
    let (_i, c) = crate::support::setup_with::<E>(engine_api::IsolateOptions {
        snapshot: Some(snap),
        ..Default::default()
    })?;
    let o = reference_to::<E>(&c, "globalThis.o = { a: 1 }; o")?;
    let answer = o.set("a".into(), 2.into(), PropertyOptions::accessors())?;
    ensure_eq!(
        eval(&c, "[o.a, seen]")?,
        Value::Array(vec![2.into(), 0.into()])
    );
    ensure!(answer, "a plain write answers true");
    Ok(())
}

/// With accessors, `set` answers what the setter, the getter-only accessor or the Proxy
/// trap made of the write (isolated-vm's `accessors: true`), on every backend alike.
fn set_with_accessors_answers_like_reflect_set<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let a = PropertyOptions::accessors();
    let o = reference_to::<E>(
        &c,
        "globalThis.runs = 0; \
         globalThis.o = { set s(v) { runs += v }, get g() { return 1 } }; o",
    )?;
    ensure!(o.set("s".into(), 5.into(), a)?, "a setter's write");
    ensure_eq!(o.set("g".into(), 5.into(), a)?, false);
    let no = reference_to::<E>(&c, "new Proxy({}, { set() { runs += 10; return false } })")?;
    ensure_eq!(no.set("x".into(), 1.into(), a)?, false);
    let yes = reference_to::<E>(&c, "new Proxy({}, { set() { runs += 100; return 1 } })")?;
    ensure!(yes.set("x".into(), 1.into(), a)?, "a trap answering truthy");
    // Inherited read-only: the write is refused, nothing is shadowed.
    let child = reference_to::<E>(
        &c,
        "globalThis.child = Object.create(Object.freeze({ p: 1 })); child",
    )?;
    ensure_eq!(child.set("p".into(), 2.into(), a)?, false);
    // A setter that throws: its exception, not an answer.
    let throws = reference_to::<E>(&c, "({ set t(v) { throw new RangeError('no t') } })")?;
    expect_err(
        throws.set("t".into(), 1.into(), a),
        "the setter's RangeError",
        |e| matches!(e, Error::Js(j) if j.message.contains("no t")),
    )?;
    ensure_eq!(
        eval(&c, "[runs, Object.hasOwn(child, 'p'), o.g]")?,
        Value::Array(vec![115.into(), false.into(), 1.into()])
    );
    Ok(())
}

fn set_refused<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let r = reference_to::<E>(
        &c,
        "globalThis.runs = 0; globalThis.o = { set s(v) { runs++ }, get g() { return 1 } }; o",
    )?;
    refused(r.set("s".into(), 1.into(), D), PropertyRefusal::Accessor)?;
    // A getter-only accessor: refused too (not silently shadowed).
    refused(r.set("g".into(), 1.into(), D), PropertyRefusal::Accessor)?;
    let p = reference_to::<E>(
        &c,
        "new Proxy({}, { set() { runs++; return true }, getOwnPropertyDescriptor() { runs++ }, \
                         defineProperty() { runs++; return true } })",
    )?;
    refused(p.set("x".into(), 1.into(), D), PropertyRefusal::Proxy)?;
    ensure_eq!(eval(&c, "runs")?, Value::from(0));
    ensure!(r.set("s".into(), 1.into(), PropertyOptions::accessors())?);
    ensure!(p.set("x".into(), 1.into(), PropertyOptions::accessors())?);
    ensure_eq!(eval(&c, "runs")?, Value::from(2));
    Ok(())
}

fn delete_proxy<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let p = reference_to::<E>(
        &c,
        "globalThis.traps = 0; new Proxy({ x: 1 }, { deleteProperty() { traps++; return true } })",
    )?;
    refused(p.delete("x".into()), PropertyRefusal::ProxyDelete)?;
    ensure_eq!(eval(&c, "traps")?, Value::from(0));
    let o = reference_to::<E>(
        &c,
        "globalThis.o = Object.defineProperty({ a: 1 }, 'fixed', { value: 1, configurable: false }); o",
    )?;
    ensure!(o.delete("a".into())?);
    ensure!(o.delete("missing".into())?);
    ensure_eq!(o.delete("fixed".into())?, false);
    ensure_eq!(
        eval(&c, "['a' in o, o.fixed]")?,
        Value::Array(vec![false.into(), 1.into()])
    );
    Ok(())
}

fn index_and_symbol<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let arr = reference_to::<E>(&c, "globalThis.arr = [10, 20, 30]; arr")?;
    ensure_eq!(arr.get(1.into(), D)?, Value::from(20));
    ensure_eq!(arr.get("2".into(), D)?, Value::from(30));
    ensure_eq!(arr.get("length".into(), D)?, Value::from(3));
    ensure!(arr.set(3.into(), 40.into(), D)?);
    ensure!(arr.set(0.into(), 5.into(), D)?);
    ensure!(arr.delete(1.into())?);
    ensure_eq!(
        eval(&c, "[arr.length, arr[0], 1 in arr, arr[3]]")?,
        Value::Array(vec![4.into(), 5.into(), false.into(), 40.into()])
    );
    // A symbol key: a reference to the symbol, passed back in as itself.
    let g = c.global()?;
    eval(
        &c,
        "globalThis.sym = Symbol('k'); globalThis.so = { [sym]: 'by symbol' }; 1",
    )?;
    let sym = g.get("sym".into(), PropertyOptions::reference())?;
    let sym = sym
        .as_reference()
        .ok_or("a symbol comes back as a reference")?;
    let so = reference_to::<E>(&c, "so")?;
    ensure_eq!(
        so.get(Value::DerefInto(sym.clone()), D)?,
        Value::from("by symbol")
    );
    ensure!(so.set(Value::DerefInto(sym.clone()), 2.into(), D)?);
    ensure_eq!(eval(&c, "so[sym]")?, Value::from(2));
    ensure!(so.delete(Value::DerefInto(sym.clone()))?);
    ensure_eq!(eval(&c, "sym in so")?, Value::from(false));
    Ok(())
}

fn object_key<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let o = reference_to::<E>(
        &c,
        "globalThis.ran = false; ({ '[object Object]': 1, '': 2 })",
    )?;
    for key in [
        Value::object([("a", Value::from(1))]),
        Value::Array(vec![]),
        Value::Date(0.0),
    ] {
        refused(o.get(key.clone(), D), PropertyRefusal::ObjectKey)?;
        refused(o.set(key.clone(), 1.into(), D), PropertyRefusal::ObjectKey)?;
        refused(o.delete(key.clone()), PropertyRefusal::ObjectKey)?;
        refused(
            o.get(key, PropertyOptions::accessors()),
            PropertyRefusal::ObjectKey,
        )?;
    }
    // An object of the isolate whose toString spins: refused before it is converted.
    let key = reference_to::<E>(&c, "({ toString() { ran = true; while (true) {} } })")?;
    let o2 = o.clone();
    let r = ends("get with a spinning-toString key", move || {
        o2.get(key.deref_into(), PropertyOptions::accessors())
    })?;
    refused(r, PropertyRefusal::ObjectKey)?;
    ensure_eq!(eval(&c, "ran")?, Value::from(false));
    Ok(())
}

fn proto_key<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let o = reference_to::<E>(&c, "globalThis.o = {}; o")?;
    ensure_eq!(o.get("__proto__".into(), D)?, Value::Undefined);
    // Object.prototype.__proto__ is an accessor.
    refused(
        o.inheriting().get("__proto__".into(), D),
        PropertyRefusal::Accessor,
    )?;
    ensure!(
        o.get("__proto__".into(), PropertyOptions::accessors())?
            .as_reference()
            .is_some()
    );
    // Without accessors it is an own data property: the prototype stays.
    ensure!(o.set(
        "__proto__".into(),
        Value::object([("polluted", 1.into())]),
        D
    )?);
    ensure_eq!(
        eval(
            &c,
            "[Object.getPrototypeOf(o) === Object.prototype, o.polluted, Object.hasOwn(o, '__proto__'), ({}).polluted]"
        )?,
        Value::Array(vec![
            true.into(),
            Value::Undefined,
            true.into(),
            Value::Undefined
        ])
    );
    ensure_eq!(
        o.get("__proto__".into(), PropertyOptions::copy())?,
        Value::object([("polluted", 1.into())])
    );
    // With accessors, the setter runs (on this object only).
    let p = reference_to::<E>(&c, "globalThis.p = {}; p")?;
    ensure!(p.set(
        "__proto__".into(),
        Value::object([("polluted", 2.into())]),
        PropertyOptions::accessors()
    )?);
    ensure_eq!(
        eval(
            &c,
            "[p.polluted, Object.hasOwn(p, '__proto__'), ({}).polluted]"
        )?,
        Value::Array(vec![2.into(), false.into(), Value::Undefined])
    );
    Ok(())
}

fn prototype_getter<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    eval(
        &c,
        "globalThis.ran = false; \
         Object.defineProperty(Object.prototype, 'x', { get() { ran = true; while (true) {} }, \
                                                        set(v) { ran = true; while (true) {} }, configurable: true }); 1",
    )?;
    let o = reference_to::<E>(&c, "globalThis.o = { own: 1 }; o")?;
    let (o1, o2, o3) = (o.clone(), o.clone(), o.clone());
    let got = ends("get past an Object.prototype getter", move || {
        (o1.get("x".into(), D), o1.inheriting().get("x".into(), D))
    })?;
    ensure_eq!(got.0?, Value::Undefined);
    refused(got.1, PropertyRefusal::Accessor)?;
    let set = ends("set past an Object.prototype setter", move || {
        o2.set("x".into(), 1.into(), D)
    })?;
    ensure!(set?);
    ensure_eq!(o3.get("x".into(), D)?, Value::from(1));
    ensure_eq!(
        eval(&c, "[ran, Object.hasOwn(o, 'x')]")?,
        Value::from(vec![false, true])
    );
    Ok(())
}

fn proxy_traps<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let spin = reference_to::<E>(
        &c,
        "globalThis.ran = false; \
         new Proxy({ x: 1 }, { getOwnPropertyDescriptor() { ran = true; while (true) {} }, \
                               getPrototypeOf() { ran = true; while (true) {} }, \
                               has() { ran = true; while (true) {} }, \
                               defineProperty() { ran = true; while (true) {} } })",
    )?;
    let throws = reference_to::<E>(
        &c,
        "new Proxy({ x: 1 }, { getOwnPropertyDescriptor() { throw new Error('trap ran') } })",
    )?;
    let (s, t) = (spin.clone(), throws.clone());
    let r = ends("get, set and delete on a spinning-trap Proxy", move || {
        (
            s.get("x".into(), D),
            s.inheriting().get("x".into(), D),
            s.set("x".into(), 2.into(), D),
            s.delete("x".into()),
            t.get("x".into(), D),
        )
    })?;
    refused(r.0, PropertyRefusal::Proxy)?;
    refused(r.1, PropertyRefusal::Proxy)?;
    refused(r.2, PropertyRefusal::Proxy)?;
    refused(r.3, PropertyRefusal::ProxyDelete)?;
    refused(r.4, PropertyRefusal::Proxy)?;
    ensure_eq!(eval(&c, "ran")?, Value::from(false));
    // typeof and copy are unchanged by the property rules.
    ensure_eq!(spin.type_of()?, engine_api::TypeOf::Object);
    Ok(())
}

fn spinning_getter<E: Backend>() -> R {
    let (i, c) = setup::<E>()?;
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let started = Callback::new(move |_| {
        let _ = tx.lock().unwrap_or_else(|e| e.into_inner()).send(());
        Ok(Value::Undefined)
    });
    c.global()?.set("started".into(), started.into(), D)?;
    let o = reference_to::<E>(
        &c,
        "globalThis.kept = 5; ({ get x() { started(); while (true) {} } })",
    )?;
    // Without accessors it never starts.
    refused(o.get("x".into(), D), PropertyRefusal::Accessor)?;
    // With accessors it runs, and cancelling the task stops it.
    let task = o.get_async("x".into(), PropertyOptions::accessors());
    rx.recv_timeout(ENDS_WITHIN)
        .map_err(|_| "the getter never started".to_string())?;
    task.cancel();
    let r = ends("the cancelled getter", move || task.wait())?;
    expect_err(r, "Cancelled", |e| matches!(e, Error::Cancelled))?;
    match c.eval("kept", &EvalOptions::copy()) {
        Ok(v) => ensure_eq!(v, Value::from(5)),
        Err(Error::Disposed) => ensure!(i.is_disposed(), "Disposed, yet not disposed"),
        Err(e) => return Err(format!("the call after the cancel failed: {e:?}").into()),
    }
    // Inside the isolate, the call's deadline ends it.
    let (_j, c2) = setup::<E>()?;
    let r = c2.eval(
        "new ivm.Reference({ get x() { while (true) {} } }).getSync('x', { accessors: true })",
        &EvalOptions::copy().with_timeout(Duration::from_millis(100)),
    );
    expect_err(r, "Timeout", |e| matches!(e, Error::Timeout { .. }))?;
    Ok(())
}

/// The messages a guest sees, as a JS array literal of strings.
fn messages_js() -> String {
    format!(
        "const M = {{ accessor: {:?}, proxy: {:?}, proxyDelete: {:?}, objectKey: {:?} }}; \
         const msg = (f) => {{ try {{ return ['ok', f()] }} catch (e) {{ \
           const which = Object.keys(M).find((k) => M[k] === e.message); \
           return [e.name, which === undefined ? e.message : which] }} }};",
        PropertyRefusal::Accessor.message(),
        PropertyRefusal::Proxy.message(),
        PropertyRefusal::ProxyDelete.message(),
        PropertyRefusal::ObjectKey.message(),
    )
}

fn guest_local<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let code = format!(
        "{} \
         globalThis.runs = 0; \
         const proto = {{ inherited: 'i', get pacc() {{ runs++; return 'p' }}, set viaSetter(v) {{ runs++ }} }}; \
         const o = Object.create(proto); o.own = 1; \
         Object.defineProperty(o, 'acc', {{ get() {{ runs++; return 'a' }}, set(v) {{ runs++ }}, configurable: true }}); \
         const sym = Symbol('s'); o[sym] = 'sym'; \
         const r = new ivm.Reference(o); \
         const inh = new ivm.Reference(o, {{ unsafeInherit: true }}); \
         const p = new ivm.Reference(new Proxy({{ x: 1 }}, {{ get() {{ runs++; return 't' }}, deleteProperty() {{ runs++; return true }} }})); \
         const frozen = new ivm.Reference(Object.freeze({{ f: 1 }})); \
         const out = [ \
           msg(() => r.getSync('own')), msg(() => r.getSync('inherited')), \
           msg(() => inh.getSync('inherited')), msg(() => r.getSync('acc')), \
           msg(() => inh.getSync('pacc')), msg(() => r.getSync('acc', {{ accessors: true }})), \
           msg(() => p.getSync('x')), msg(() => p.getSync('x', {{ accessors: true }})), \
           msg(() => p.deleteSync('x')), msg(() => r.getSync(sym)), \
           msg(() => r.setSync('viaSetter', 2)), msg(() => Object.hasOwn(o, 'viaSetter')), \
           msg(() => r.setSync('acc', 2)), msg(() => frozen.setSync('f', 2)), \
           msg(() => r.setSync('acc', 2, {{ accessors: true }})), \
           msg(() => r.deleteSync('own')), msg(() => 'own' in o), \
           msg(() => r.getSync({{}})), msg(() => r.getSync('acc', {{ accessors: true, copy: true }})), \
         ]; \
         out.push(runs); out",
        messages_js()
    );
    let got = serde_json::to_value(eval(&c, &code)?).map_err(|e| e.to_string())?;
    let want = serde_json::json!([
        ["ok", 1],
        ["ok", null],
        ["ok", "i"],
        ["TypeError", "accessor"],
        ["TypeError", "accessor"],
        ["ok", "a"],
        ["TypeError", "proxy"],
        ["ok", "t"],
        ["TypeError", "proxyDelete"],
        ["ok", "sym"],
        ["ok", true],
        ["ok", true],
        ["TypeError", "accessor"],
        ["ok", false],
        ["ok", true],
        ["ok", true],
        ["ok", false],
        ["TypeError", "objectKey"],
        ["ok", "a"],
        4
    ]);
    ensure_eq!(got, want);
    Ok(())
}

fn guest_across<E: Backend>() -> R {
    let (_a, ca) = setup::<E>()?;
    let (_b, cb) = setup::<E>()?;
    let obj = reference_to::<E>(
        &ca,
        "globalThis.runs = 0; \
         const proto = { inherited: 'i', set viaSetter(v) { runs++ } }; \
         globalThis.o = Object.create(proto); o.own = 1; \
         Object.defineProperty(o, 'acc', { get() { runs++; return 'a' }, set(v) { runs++ } }); o",
    )?;
    let proxy = reference_to::<E>(&ca, "new Proxy({}, { get() { runs++; return 't' } })")?;
    let code = format!(
        "{} const [r, inh, p] = [$0, $1, $2]; \
         return [ \
           msg(() => r.getSync('own')), msg(() => r.getSync('inherited')), \
           msg(() => inh.getSync('inherited')), msg(() => r.getSync('acc')), \
           msg(() => r.getSync('acc', {{ accessors: true }})), msg(() => p.getSync('x')), \
           msg(() => p.getSync('x', {{ accessors: true }})), msg(() => r.setSync('viaSetter', 2)), \
           msg(() => r.setSync('acc', 2)), msg(() => r.setSync('acc', 2, {{ accessors: true }})), \
           msg(() => r.getSync({{ toString() {{ return 'own' }} }})), msg(() => r.getSync(Symbol('s'))), \
         ]",
        messages_js()
    );
    let got = cb.eval_closure(
        &code,
        vec![
            Value::Reference(obj.to_any()),
            Value::Reference(obj.inheriting().to_any()),
            Value::Reference(proxy.to_any()),
        ],
        &EvalOptions::copy(),
    )?;
    let got = serde_json::to_value(got).map_err(|e| e.to_string())?;
    let want = serde_json::json!([
        ["ok", 1],
        ["ok", null],
        ["ok", "i"],
        ["TypeError", "accessor"],
        ["ok", "a"],
        ["TypeError", "proxy"],
        ["ok", "t"],
        ["ok", true],
        ["TypeError", "accessor"],
        ["ok", true],
        ["TypeError", "objectKey"],
        ["TypeError", "T"]
    ]);
    // The symbol key fails (it cannot cross isolates): only its name is compared.
    let mut got = got;
    if let Some(last) = got.as_array_mut().and_then(|a| a.last_mut())
        && last[0] == "TypeError"
    {
        *last = serde_json::json!(["TypeError", "T"]);
    }
    ensure_eq!(got, want);
    ensure_eq!(
        eval(&ca, "[runs, Object.hasOwn(o, 'viaSetter')]")?,
        Value::Array(vec![3.into(), true.into()])
    );
    Ok(())
}

fn guest_inheriting_to_host<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let keep = Callback::new(move |args| {
        s2.lock().unwrap_or_else(|e| e.into_inner()).extend(args);
        Ok(Value::Undefined)
    });
    c.eval_closure(
        "const o = Object.create({ inherited: 'i' }); o.own = 1; \
         $0(new ivm.Reference(o, { unsafeInherit: true }), new ivm.Reference(o))",
        vec![keep.into()],
        &EvalOptions::default(),
    )?;
    let seen = std::mem::take(&mut *seen.lock().unwrap_or_else(|e| e.into_inner()));
    let [inh, plain] = <[Value; 2]>::try_from(seen).map_err(|v| format!("got {v:?}"))?;
    let inh = inh
        .as_reference()
        .and_then(E::Reference::from_any)
        .ok_or("a reference")?;
    let plain = plain
        .as_reference()
        .and_then(E::Reference::from_any)
        .ok_or("a reference")?;
    ensure_eq!(inh.get("inherited".into(), D)?, Value::from("i"));
    ensure_eq!(inh.get("own".into(), D)?, Value::from(1));
    ensure_eq!(plain.get("inherited".into(), D)?, Value::Undefined);
    ensure_eq!(plain.get("own".into(), D)?, Value::from(1));
    Ok(())
}

fn guest_hostile<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let code = format!(
        "{} globalThis.ran = false; \
         Object.defineProperty(Object.prototype, 'evil', {{ get() {{ ran = true; while (true) {{}} }}, configurable: true }}); \
         const r = new ivm.Reference({{}}); const inh = new ivm.Reference({{}}, {{ unsafeInherit: true }}); \
         const spinner = new ivm.Reference(new Proxy({{}}, {{ getOwnPropertyDescriptor() {{ ran = true; while (true) {{}} }} }})); \
         const out = [ \
           msg(() => r.getSync({{ toString() {{ ran = true; while (true) {{}} }} }})), \
           msg(() => r.getSync('evil')), msg(() => inh.getSync('evil')), \
           msg(() => spinner.getSync('x')), msg(() => spinner.setSync('x', 1)), \
           msg(() => r.getSync('__proto__')), msg(() => inh.getSync('__proto__')), \
           msg(() => r.setSync('__proto__', 1)), msg(() => Object.getPrototypeOf(r.deref()) === Object.prototype), \
         ]; \
         delete Object.prototype.evil; out.push(ran); out",
        messages_js()
    );
    let got = c.eval(
        &code,
        &EvalOptions::copy().with_timeout(Duration::from_secs(60)),
    )?;
    let got = serde_json::to_value(got).map_err(|e| e.to_string())?;
    let want = serde_json::json!([
        ["TypeError", "objectKey"],
        ["ok", null],
        ["TypeError", "accessor"],
        ["TypeError", "proxy"],
        ["TypeError", "proxy"],
        ["ok", null],
        ["TypeError", "accessor"],
        ["ok", true],
        ["ok", true],
        false
    ]);
    ensure_eq!(got, want);
    Ok(())
}
