//! References, callbacks and the guest-side `ivm` API.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use backend_v8::V8;
use engine_api::{
    ApplyOptions, Backend, Callback, Context, Error, EvalOptions, Isolate, IsolateOptions,
    Reference, TransferOptions, TypeOf, Value,
};

type I = <V8 as Backend>::Isolate;

fn isolate() -> I {
    I::new(IsolateOptions::default()).unwrap()
}

#[test]
fn global_reference_get_set_delete_apply() {
    let ctx = isolate().create_context().unwrap();
    let global = ctx.global().unwrap();
    assert_eq!(global.type_of().unwrap(), TypeOf::Object);
    assert!(
        global
            .set("x".into(), 5.into(), &TransferOptions::default())
            .unwrap()
    );
    assert_eq!(
        ctx.eval("x", &EvalOptions::default()).unwrap(),
        Value::from(5)
    );
    ctx.eval(
        "globalThis.add = (a, b) => a + b; globalThis.obj = {k: [1]}",
        &EvalOptions::default(),
    )
    .unwrap();
    let add = global
        .get("add".into(), &TransferOptions::default())
        .unwrap();
    let Value::Reference(add) = add else {
        panic!("{add:?}")
    };
    assert_eq!(add.type_of().unwrap(), TypeOf::Function);
    assert_eq!(
        add.apply(
            Value::Undefined,
            vec![1.into(), 2.into()],
            &ApplyOptions::default()
        )
        .unwrap(),
        Value::from(3)
    );
    // Objects come back as references by default, copies on request.
    assert!(matches!(
        global
            .get("obj".into(), &TransferOptions::default())
            .unwrap(),
        Value::Reference(_)
    ));
    assert_eq!(
        global.get("obj".into(), &TransferOptions::copy()).unwrap(),
        Value::object([("k", Value::from(vec![1]))])
    );
    assert!(global.delete("x".into()).unwrap());
    assert_eq!(
        ctx.eval("typeof x", &EvalOptions::default()).unwrap(),
        Value::from("undefined")
    );
    let null_ref = ctx
        .eval(
            "null",
            &EvalOptions {
                result: TransferOptions::reference(),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        null_ref.as_reference().unwrap().type_of().unwrap(),
        TypeOf::Null
    );
}

#[test]
fn released_and_disposed_handles() {
    let iso = isolate();
    let ctx = iso.create_context().unwrap();
    let global = ctx.global().unwrap();
    assert_eq!(iso.reference_count(), 2);
    global.release();
    assert_eq!(iso.reference_count(), 1);
    assert_eq!(global.type_of().unwrap_err(), Error::Released("reference"));
    let script = iso.compile_script("1", &Default::default()).unwrap();
    engine_api::Script::release(&script);
    assert!(matches!(
        engine_api::Script::run(&script, &ctx, &Default::default()),
        Err(Error::Released(_))
    ));
    ctx.release();
    assert!(matches!(
        ctx.eval("1", &EvalOptions::default()),
        Err(Error::Released(_))
    ));
    let ctx2 = iso.create_context().unwrap();
    iso.dispose().unwrap();
    assert!(iso.is_disposed());
    assert_eq!(iso.dispose().unwrap_err(), Error::Disposed);
    assert_eq!(
        ctx2.eval("1", &EvalOptions::default()).unwrap_err(),
        Error::Disposed
    );
    assert_eq!(iso.create_context().unwrap_err(), Error::Disposed);
}

#[test]
fn wrong_isolate() {
    let a = isolate();
    let b = isolate();
    let ctx_b = b.create_context().unwrap();
    let script = a.compile_script("1", &Default::default()).unwrap();
    assert_eq!(
        engine_api::Script::run(&script, &ctx_b, &Default::default()).unwrap_err(),
        Error::WrongIsolate
    );
    let ctx_a = a.create_context().unwrap();
    let obj = ctx_a
        .eval(
            "({})",
            &EvalOptions {
                result: TransferOptions::reference(),
                ..Default::default()
            },
        )
        .unwrap();
    let r = obj.as_reference().unwrap().clone();
    let deref = Value::DerefInto(r.clone());
    assert_eq!(
        ctx_b
            .eval_closure("return $0", vec![deref.clone()], &EvalOptions::default())
            .unwrap_err(),
        Error::WrongIsolate
    );
    // In its own isolate, derefInto is the value itself.
    ctx_a
        .eval("globalThis.o = {n: 3}", &EvalOptions::default())
        .unwrap();
    let o = ctx_a
        .global()
        .unwrap()
        .get("o".into(), &TransferOptions::default())
        .unwrap();
    let v = ctx_a
        .eval_closure(
            "return $0 === globalThis.o",
            vec![Value::DerefInto(o.as_reference().unwrap().clone())],
            &EvalOptions::copy(),
        )
        .unwrap();
    assert_eq!(v, Value::Bool(true));
}

#[test]
fn sync_async_ignored_callbacks() {
    let iso = isolate();
    let ctx = iso.create_context().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let sync = Callback::new(|args| Ok(Value::from(args.len() as f64)));
    let asyncb = Callback::new_async(|args| {
        std::thread::sleep(Duration::from_millis(5));
        Ok(Value::from(format!(
            "async:{}",
            args[0].as_str().unwrap_or("")
        )))
    });
    let ignored = Callback::new_ignored(move |args| {
        s2.lock().unwrap().push(args[0].clone());
        Ok(Value::Undefined)
    });
    let failing = Callback::new(|_| Err(Error::js("TypeError", "host says no")));
    let v = ctx
        .eval_closure(
            r#"const [sync, asyncb, ignored, failing] = [$0, $1, $2, $3];
               globalThis.ignored = ignored;
               let caught;
               try { failing() } catch (e) { caught = e instanceof TypeError && e.message }
               ignored({n: 1}); ignored('two');
               return asyncb('x').then(r => [sync(1, 2, 3), r, caught]);"#,
            vec![sync.into(), asyncb.into(), ignored.into(), failing.into()],
            &EvalOptions {
                result: TransferOptions::copy().with_promise(),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        v,
        Value::Array(vec![3.into(), "async:x".into(), "host says no".into()])
    );
    for _ in 0..200 {
        if seen.lock().unwrap().len() == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        *seen.lock().unwrap(),
        vec![Value::object([("n", 1.into())]), "two".into()]
    );
}

#[test]
fn seed_readme_log_example() {
    let iso = isolate();
    let ctx = iso.create_context().unwrap();
    let logs = Arc::new(Mutex::new(Vec::new()));
    let l2 = logs.clone();
    let log = Callback::new(move |args| {
        l2.lock().unwrap().push(args);
        Ok(Value::Undefined)
    });
    ctx.eval_closure(
        "globalThis.log = function(...args) { $0.applyIgnored(undefined, args, { arguments: { copy: true } }); }",
        vec![log.into_reference().into()],
        &EvalOptions::default(),
    )
    .unwrap();
    ctx.eval(
        "log('hello world', {a: 1}); log(2)",
        &EvalOptions::default(),
    )
    .unwrap();
    for _ in 0..200 {
        if logs.lock().unwrap().len() == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let logs = logs.lock().unwrap();
    assert_eq!(
        logs[0],
        vec![Value::from("hello world"), Value::object([("a", 1.into())])]
    );
    assert_eq!(logs[1], vec![Value::from(2)]);
}

#[test]
fn guest_ivm_api_across_isolates() {
    let a = isolate();
    let b = isolate();
    let ctx_a = a.create_context().unwrap();
    let ctx_b = b.create_context().unwrap();
    ctx_b
        .eval(
            "globalThis.data = {list: [1, 2]}; globalThis.mul = (x, y) => x * y",
            &EvalOptions::default(),
        )
        .unwrap();
    let global_b = ctx_b.global().unwrap();
    let v = ctx_a
        .eval_closure(
            r#"const g = $0;
               const mul = g.getSync('mul');
               const r = [g.typeof, mul.typeof, mul.applySync(undefined, [6, 7]),
                          g.getSync('data', { copy: true }).list.length,
                          g.getSync('data').copySync().list[1]];
               g.setSync('fromA', 'hi');
               const copy = new ivm.ExternalCopy({z: 26});
               r.push(copy.copy().z);
               const own = new ivm.Reference({q: 1});
               r.push(own.typeof, own.deref().q, own instanceof ivm.Reference);
               return r;"#,
            vec![engine_api::Reference::to_any(&global_b).into()],
            &EvalOptions::copy(),
        )
        .unwrap();
    assert_eq!(
        v,
        Value::Array(vec![
            "object".into(),
            "function".into(),
            42.into(),
            2.into(),
            2.into(),
            26.into(),
            "object".into(),
            1.into(),
            true.into()
        ])
    );
    assert_eq!(
        ctx_b.eval("fromA", &EvalOptions::default()).unwrap(),
        Value::from("hi")
    );
    // Async apply across isolates resolves in the caller.
    let v = ctx_a
        .eval_closure(
            "return $0.getSync('mul').apply(undefined, [3, 5])",
            vec![engine_api::Reference::to_any(&global_b).into()],
            &EvalOptions {
                result: TransferOptions::copy().with_promise(),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(v, Value::from(15));
    // Non-transferable arguments are a TypeError in the guest.
    let v = ctx_a
        .eval_closure(
            "try { $0.getSync('mul').applySync(undefined, [{}]); return 'no' } catch (e) { return e.name }",
            vec![engine_api::Reference::to_any(&global_b).into()],
            &EvalOptions::copy(),
        )
        .unwrap();
    assert_eq!(v, Value::from("TypeError"));
}

#[test]
fn reentrant_sync_calls() {
    let iso = isolate();
    let ctx = iso.create_context().unwrap();
    let ctx2 = ctx.clone();
    let reenter = Callback::new(move |args| {
        let n = args[0].as_f64().unwrap_or(0.0);
        ctx2.eval(
            &format!("globalThis.depth = (globalThis.depth || 0) + 1; {n} * 2"),
            &EvalOptions::default(),
        )
    });
    let v = ctx
        .eval_closure(
            "return $0(21) + depth",
            vec![reenter.into()],
            &EvalOptions::copy(),
        )
        .unwrap();
    assert_eq!(v, Value::from(43));
    // A callback calling into another isolate (hops to a helper thread).
    let other = isolate().create_context().unwrap();
    let cross = Callback::new(move |_| other.eval("6 * 7", &EvalOptions::default()));
    assert_eq!(
        ctx.eval_closure("return $0()", vec![cross.into()], &EvalOptions::copy())
            .unwrap(),
        Value::from(42)
    );
}

#[test]
fn host_callback_as_reference_from_host() {
    let cb = Callback::new(|args| Ok(Value::from(args.len())));
    let r = cb.into_reference();
    assert_eq!(
        r.apply(Value::Undefined, vec![1.into()], &ApplyOptions::default())
            .unwrap(),
        Value::from(1)
    );
}

#[test]
fn seed_readme_sample_program() {
    let iso = isolate();
    let ctx = iso.create_context().unwrap();
    let jail = ctx.global().unwrap();
    jail.set(
        "global".into(),
        jail.deref_into(),
        &TransferOptions::default(),
    )
    .unwrap();
    let logs = Arc::new(Mutex::new(Vec::new()));
    let l2 = logs.clone();
    let log_callback = Callback::new(move |args| {
        l2.lock().unwrap().push(args);
        Ok(Value::Undefined)
    });
    ctx.eval_closure(
        "global.log = function(...args) { $0.applyIgnored(undefined, args, { arguments: { copy: true } }); }",
        vec![log_callback.into()],
        &EvalOptions { arguments: TransferOptions::reference(), ..Default::default() },
    )
    .unwrap();
    ctx.eval("log('hello world')", &EvalOptions::default())
        .unwrap();
    for _ in 0..200 {
        if !logs.lock().unwrap().is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(logs.lock().unwrap()[0], vec![Value::from("hello world")]);
}
