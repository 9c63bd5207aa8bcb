//! Eval, closures, errors and transfers.

use backend_v8::V8;
use engine_api::{
    Backend, Context, Error, EvalOptions, ExternalCopy, Isolate, IsolateOptions, ScriptOrigin,
    SharedBuffer, TransferOptions, TypedArrayKind, Value,
};

type I = <V8 as Backend>::Isolate;

fn context() -> <V8 as Backend>::Context {
    I::new(IsolateOptions::default())
        .unwrap()
        .create_context()
        .unwrap()
}

#[test]
fn eval_primitives_and_default_transfer() {
    let ctx = context();
    let d = EvalOptions::default();
    assert_eq!(ctx.eval("1 + 2", &d).unwrap(), Value::from(3));
    assert_eq!(ctx.eval("'a' + 'b'", &d).unwrap(), Value::from("ab"));
    assert_eq!(ctx.eval("null", &d).unwrap(), Value::Null);
    assert_eq!(ctx.eval("true", &d).unwrap(), Value::Bool(true));
    assert_eq!(
        ctx.eval("2n ** 70n", &d).unwrap(),
        Value::BigInt("1180591620717411303424".into())
    );
    // Objects become undefined without a transfer option.
    assert_eq!(ctx.eval("({a: 1})", &d).unwrap(), Value::Undefined);
    // State persists across evals.
    ctx.eval("globalThis.x = 41", &d).unwrap();
    assert_eq!(ctx.eval("x + 1", &d).unwrap(), Value::from(42));
}

#[test]
fn eval_copy_structured_clone() {
    let ctx = context();
    let v = ctx
        .eval(
            r#"({
                n: 1, s: 'x', arr: [1, , 3], nested: { deep: [true, null] },
                map: new Map([[1, 'one']]), set: new Set(['a']),
                date: new Date(1000), re: /ab+c/gi, err: new TypeError('bad'),
                buf: new Uint8Array([1, 2, 3]).buffer, view: new Int16Array([1, -1]),
                dv: new DataView(new ArrayBuffer(2)), big: 12345678901234567890n,
            })"#,
            &EvalOptions::copy(),
        )
        .unwrap();
    assert_eq!(v.get("n"), Some(&Value::from(1)));
    assert_eq!(
        v.get("arr"),
        Some(&Value::Array(vec![1.into(), Value::Undefined, 3.into()]))
    );
    assert_eq!(
        v.get("map"),
        Some(&Value::Map(vec![(1.into(), "one".into())]))
    );
    assert_eq!(v.get("set"), Some(&Value::Set(vec!["a".into()])));
    assert_eq!(v.get("date"), Some(&Value::Date(1000.0)));
    assert_eq!(
        v.get("re"),
        Some(&Value::RegExp {
            source: "ab+c".into(),
            flags: "gi".into()
        })
    );
    match v.get("err") {
        Some(Value::Error(e)) => {
            assert_eq!(e.name, "TypeError");
            assert_eq!(e.message, "bad");
            assert!(e.stack.as_deref().unwrap_or("").contains("TypeError"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(v.get("buf"), Some(&Value::ArrayBuffer(vec![1, 2, 3])));
    assert_eq!(
        v.get("view"),
        Some(&Value::TypedArray {
            kind: TypedArrayKind::Int16,
            bytes: vec![1, 0, 255, 255]
        })
    );
    assert_eq!(
        v.get("dv"),
        Some(&Value::TypedArray {
            kind: TypedArrayKind::DataView,
            bytes: vec![0, 0]
        })
    );
    assert_eq!(
        v.get("big"),
        Some(&Value::BigInt("12345678901234567890".into()))
    );
}

#[test]
fn values_round_trip_into_the_guest() {
    let ctx = context();
    let value = Value::object([
        ("map", Value::Map(vec![("k".into(), 2.into())])),
        ("set", Value::Set(vec![1.into()])),
        ("date", Value::Date(5.0)),
        (
            "re",
            Value::RegExp {
                source: "x".into(),
                flags: "g".into(),
            },
        ),
        (
            "bytes",
            Value::TypedArray {
                kind: TypedArrayKind::Uint8,
                bytes: vec![9, 8],
            },
        ),
        ("big", Value::BigInt("-98765432109876543210".into())),
        (
            "err",
            Value::Error(engine_api::ErrorValue {
                name: "RangeError".into(),
                message: "m".into(),
                stack: None,
            }),
        ),
    ]);
    let code = r#"
        const v = $0;
        return [v.map.get('k'), v.set.has(1), v.date.getTime(), v.re.flags, v.bytes[1],
                String(v.big), v.err instanceof RangeError, v.err.message];
    "#;
    let out = ctx
        .eval_closure(code, vec![value.clone()], &EvalOptions::copy())
        .unwrap();
    assert_eq!(
        out,
        Value::Array(vec![
            2.into(),
            true.into(),
            5.into(),
            "g".into(),
            8.into(),
            "-98765432109876543210".into(),
            true.into(),
            "m".into()
        ])
    );
    let back = ctx
        .eval_closure("return $0", vec![value.clone()], &EvalOptions::copy())
        .unwrap();
    assert_eq!(back, value);
}

#[test]
fn not_transferable_values() {
    let ctx = context();
    let c = EvalOptions::copy();
    for code in [
        "(() => 1)",
        "Symbol('s')",
        "({ f() {} })",
        "new WeakMap()",
        "Promise.resolve(1)",
    ] {
        match ctx.eval(code, &c) {
            Err(Error::NotTransferable(_)) => {}
            other => panic!("{code}: {other:?}"),
        }
    }
    // Shared sub-objects and cycles copy with their identity (conformance: clone_identity).
    assert!(
        ctx.eval("(() => { const a = {x: 1}; return [a, a] })()", &c)
            .is_ok()
    );
    assert!(
        ctx.eval("(() => { const a = {}; a.self = a; return a })()", &c)
            .is_ok_and(|v| v.has_backrefs())
    );
}

#[test]
fn eval_closure_args_and_return() {
    let ctx = context();
    let v = ctx
        .eval_closure(
            "return $0 + $1.length",
            vec![1.into(), vec![1, 2, 3].into()],
            &EvalOptions::copy(),
        )
        .unwrap();
    assert_eq!(v, Value::from(4));
    assert_eq!(
        ctx.eval_closure(
            "$0.x = 1",
            vec![Value::object([("y", 2.into())])],
            &EvalOptions::default()
        )
        .unwrap(),
        Value::Undefined
    );
}

#[test]
fn js_errors_have_name_message_stack_location() {
    let ctx = context();
    let opts = EvalOptions {
        origin: ScriptOrigin::file("test.js"),
        ..Default::default()
    };
    let err = ctx
        .eval(
            "let a = 1;\nfunction f() { throw new RangeError('boom') }\nf()",
            &opts,
        )
        .unwrap_err();
    let Error::Js(e) = err else { panic!("{err:?}") };
    assert_eq!(e.name, "RangeError");
    assert_eq!(e.message, "boom");
    assert!(
        e.stack.as_deref().unwrap().contains("at f (test.js:2"),
        "{:?}",
        e.stack
    );
    let loc = e.location.unwrap();
    assert_eq!((loc.file.as_str(), loc.line), ("test.js", 2));
    assert!(loc.column > 1);
    assert!(e.source_line.unwrap().contains("throw new RangeError"));

    let Error::Js(e) = ctx
        .eval("throw 'plain'", &EvalOptions::default())
        .unwrap_err()
    else {
        panic!()
    };
    assert_eq!((e.name.as_str(), e.message.as_str()), ("Error", "plain"));
}

#[test]
fn syntax_errors_at_compile_time() {
    let ctx = context();
    let Error::Js(e) = ctx.eval("let = ;", &EvalOptions::default()).unwrap_err() else {
        panic!()
    };
    assert_eq!(e.name, "SyntaxError");
    assert_eq!(e.location.unwrap().line, 1);
    let isolate = ctx.isolate();
    let Error::Js(e) = isolate
        .compile_script("{{", &Default::default())
        .unwrap_err()
    else {
        panic!()
    };
    assert_eq!(e.name, "SyntaxError");
}

#[test]
fn result_transfer_options() {
    let ctx = context();
    let ext = ctx
        .eval(
            "({a: [1]})",
            &EvalOptions {
                result: TransferOptions::external_copy(),
                ..Default::default()
            },
        )
        .unwrap();
    let Value::ExternalCopy(copy) = ext else {
        panic!("{ext:?}")
    };
    assert_eq!(
        copy.copy().unwrap().get("a"),
        Some(&Value::Array(vec![1.into()]))
    );
    let r = ctx
        .eval(
            "({a: 5})",
            &EvalOptions {
                result: TransferOptions::reference(),
                ..Default::default()
            },
        )
        .unwrap();
    let Value::Reference(r) = r else { panic!() };
    assert_eq!(
        r.get("a".into(), &engine_api::PropertyOptions::default())
            .unwrap(),
        Value::from(5)
    );
    // The external copy enters another isolate, copied.
    let other = context();
    let v = other
        .eval_closure(
            "return $0.copy().a[0]",
            vec![Value::ExternalCopy(copy.clone())],
            &EvalOptions::copy(),
        )
        .unwrap();
    assert_eq!(v, Value::from(1));
    let v = other
        .eval_closure(
            "return $0.a[0]",
            vec![copy.copy_into().unwrap()],
            &EvalOptions::copy(),
        )
        .unwrap();
    assert_eq!(v, Value::from(1));
    let _ = ExternalCopy::total_external_size();
}

#[test]
fn promise_results_are_awaited() {
    let ctx = context();
    let opts = EvalOptions {
        result: TransferOptions::copy().with_promise(),
        ..Default::default()
    };
    assert_eq!(
        ctx.eval("Promise.resolve({v: 1})", &opts).unwrap(),
        Value::object([("v", 1.into())])
    );
    assert_eq!(
        ctx.eval("(async () => { await null; return 7 })()", &opts)
            .unwrap(),
        Value::from(7)
    );
    let Error::Js(e) = ctx
        .eval("Promise.reject(new Error('no'))", &opts)
        .unwrap_err()
    else {
        panic!()
    };
    assert_eq!(e.message, "no");
    let task = ctx.eval_async("(async () => 8)()", opts.clone());
    assert_eq!(task.wait().unwrap(), Value::from(8));
}

#[test]
fn shared_array_buffer_shares_memory() {
    let a = context();
    let b = context();
    let buf = SharedBuffer::new(8);
    a.eval_closure(
        "new Uint8Array($0)[0] = 42",
        vec![Value::SharedArrayBuffer(buf.clone())],
        &EvalOptions::default(),
    )
    .unwrap();
    assert_eq!(buf.to_vec()[0], 42);
    let v = b
        .eval_closure(
            "return new Uint8Array($0)[0]",
            vec![Value::SharedArrayBuffer(buf.clone())],
            &EvalOptions::copy(),
        )
        .unwrap();
    assert_eq!(v, Value::from(42));
    // Coming back out, it is the same memory.
    let out = a
        .eval_closure(
            "globalThis.sab = $0; return sab",
            vec![Value::SharedArrayBuffer(buf.clone())],
            &EvalOptions::copy(),
        )
        .unwrap();
    let Value::SharedArrayBuffer(back) = out else {
        panic!()
    };
    assert!(back.ptr_eq(&buf));
}

#[test]
fn async_and_ignored_forms_keep_order() {
    let ctx = context();
    ctx.eval_ignored("globalThis.log = []", EvalOptions::default());
    for i in 0..20 {
        ctx.eval_ignored(format!("log.push({i})"), EvalOptions::default());
    }
    let t = ctx.eval_async("log.length", EvalOptions::default());
    ctx.eval("log.push('sync')", &EvalOptions::default())
        .unwrap();
    assert_eq!(t.wait().unwrap(), Value::from(20));
    assert_eq!(
        ctx.eval("log.length", &EvalOptions::default()).unwrap(),
        Value::from(21)
    );
}

#[test]
fn capabilities_and_unsupported_options() {
    let caps = V8::capabilities();
    assert!(caps.snapshots && caps.code_cache && caps.shared_memory);
    assert!(!caps.fuel && !caps.hard_memory_cap && !caps.inspector && !caps.deterministic);
    let err = I::new(IsolateOptions {
        fuel: Some(10),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(err, Error::Unsupported(engine_api::Capability::Fuel));
}

#[test]
fn object_keys_edge_cases() {
    let ctx = context();
    let v = Value::Object(vec![
        ("__proto__".into(), Value::from(1)),
        ("0".into(), Value::from(2)),
        ("dup".into(), Value::from(3)),
        ("dup".into(), Value::from(4)),
    ]);
    let out = ctx
        .eval_closure(
            "const o = $0; return [Object.getPrototypeOf(o) === Object.prototype, Object.keys(o).join(','), o.dup, o[0], Object.getOwnPropertyDescriptor(o, '__proto__').value]",
            vec![v],
            &EvalOptions::copy(),
        )
        .unwrap();
    assert_eq!(
        out,
        Value::Array(vec![
            true.into(),
            "0,__proto__,dup".into(),
            4.into(),
            2.into(),
            1.into()
        ])
    );
}

#[test]
fn deep_nesting_is_bounded() {
    let ctx = context();
    // Within the limit: copied.
    let v = ctx
        .eval(
            "let a = []; for (let i = 0; i < 100; i++) a = [a]; a",
            &EvalOptions::copy(),
        )
        .unwrap();
    let mut depth = 0;
    let mut cur = &v;
    while let Value::Array(items) = cur {
        depth += 1;
        match items.first() {
            Some(next) => cur = next,
            None => break,
        }
    }
    assert_eq!(depth, 101);
    let back = ctx
        .eval_closure(
            "let d = 0, x = $0; while (x.length) { x = x[0]; d++ } return d",
            vec![v],
            &EvalOptions::copy(),
        )
        .unwrap();
    assert_eq!(back, Value::from(100));
    // Far too deep: an error, not a crash.
    let err = ctx
        .eval(
            "let b = []; for (let i = 0; i < 100000; i++) b = [b]; b",
            &EvalOptions::copy(),
        )
        .unwrap_err();
    assert!(matches!(err, Error::NotTransferable(_)), "{err:?}");
    // From inside a deep JS recursion, through a host callback.
    let cb = engine_api::Callback::new(|args| Ok(Value::from(args.len())));
    let v = ctx
        .eval_closure(
            "const f = (n) => n === 0 ? (() => { let a = []; for (let i = 0; i < 900; i++) a = [a]; return $0(a) })() : f(n - 1); try { return f(5000) } catch (e) { return e.name }",
            vec![cb.into()],
            &EvalOptions::copy(),
        );
    assert!(
        v.is_ok() || matches!(v, Err(Error::NotTransferable(_))),
        "{v:?}"
    );
}

#[test]
fn exceptions_while_copying_out_are_js_errors() {
    let ctx = context();
    let copy = EvalOptions::copy();
    for (code, name, message) in [
        (
            "({ a: [1, { get deep() { throw new RangeError('in getter') } }] })",
            "RangeError",
            "in getter",
        ),
        (
            "Object.defineProperty([1, 2], 1, { get() { throw new TypeError('in index') } })",
            "TypeError",
            "in index",
        ),
        (
            "new Map([['k', { get v() { throw new Error('in map value') } }]])",
            "Error",
            "in map value",
        ),
        (
            "({ get s() { throw 'thrown string' } })",
            "Error",
            "thrown string",
        ),
    ] {
        let err = ctx.eval(code, &copy).unwrap_err();
        let js = err.as_js().unwrap_or_else(|| panic!("{code}: {err:?}"));
        assert_eq!(
            (js.name.as_str(), js.message.as_str()),
            (name, message),
            "{code}"
        );
    }
    // A reference copied later reports the same way.
    let r = ctx
        .eval(
            "({ get bad() { throw new TypeError('late') } })",
            &EvalOptions {
                result: TransferOptions::reference(),
                ..Default::default()
            },
        )
        .unwrap();
    let Value::Reference(r) = r else {
        panic!("not a reference: {r:?}")
    };
    let err = r.copy().unwrap_err();
    assert_eq!(
        err.as_js().map(|e| e.message.as_str()),
        Some("late"),
        "{err:?}"
    );
    assert_eq!(
        ctx.eval("'after'", &EvalOptions::default()).unwrap(),
        Value::from("after")
    );
}
