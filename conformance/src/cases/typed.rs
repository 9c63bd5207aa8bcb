//! Typed host functions (sync and future), typed results and serde, on every backend.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use engine_api::{
    Backend, Callback, CallbackMode, Context, EvalOptions, Executor, HostPool, Isolate,
    IsolateOptions, Reference, Serde, TransferOptions, Value,
};

use crate::support::R;
use crate::{Case, ensure, ensure_eq};

/// The typed-function cases.
pub fn cases<B: Backend>() -> Vec<Case> {
    vec![
        Case::new(
            "typed/host_functions_and_results",
            typed_host_functions_and_results::<B>,
        ),
        Case::new(
            "typed/pending_futures_hold_no_thread",
            pending_futures_hold_no_thread::<B>,
        ),
        Case::new(
            "typed/wrong_shape_is_deserialize_error",
            wrong_shape_is_deserialize_error::<B>,
        ),
    ]
}

/// Results copied out, promises awaited.
fn awaited() -> EvalOptions {
    EvalOptions {
        result: TransferOptions::copy().with_promise(),
        ..Default::default()
    }
}

/// Opens once; every future waiting on it completes then.
#[derive(Clone, Default)]
struct Gate(Arc<Mutex<(bool, Vec<Waker>)>>);

impl Gate {
    fn open(&self) {
        let wakers = {
            let mut g = self.0.lock().unwrap();
            g.0 = true;
            std::mem::take(&mut g.1)
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    fn wait(&self) -> GateWait {
        GateWait(self.clone())
    }
}

struct GateWait(Gate);

impl Future for GateWait {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
        let mut g = (self.0).0.lock().unwrap();
        if g.0 {
            Poll::Ready(())
        } else {
            g.1.push(cx.waker().clone());
            Poll::Pending
        }
    }
}

#[derive(serde::Deserialize, Debug, PartialEq)]
struct User {
    name: String,
    id: u64,
    tags: Vec<String>,
    seen: HashMap<String, u32>,
    joined: String,
}

fn typed_host_functions_and_results<B: Backend>() -> R {
    let isolate = B::Isolate::new(IsolateOptions::default())?;
    let ctx = isolate.create_context()?;
    let global = ctx.global()?;
    let set =
        |name: &str, cb: Callback| global.set(name.into(), cb.into(), &TransferOptions::default());
    let d = EvalOptions::default();

    set(
        "add",
        Callback::wrap(|a: f64, b: String| a + b.len() as f64),
    )?;
    ensure_eq!(ctx.eval_as::<f64>("add(1, 'abc')", &d)?, 4.0);
    ensure_eq!(
        ctx.eval_as_async::<u32>("add(40, 'ab')", EvalOptions::default())
            .wait()?,
        42
    );
    let thrown: String = ctx.eval_as(
        "try { add('x') } catch (e) { e.name + ': ' + e.message }",
        &d,
    )?;
    ensure_eq!(
        thrown,
        "TypeError: argument 1: expected a number, got a string"
    );
    // A missing argument is undefined: an Option gets None.
    set(
        "greet",
        Callback::wrap(|who: Option<String>| format!("hi {}", who.unwrap_or("you".into()))),
    )?;
    ensure_eq!(
        ctx.eval_as::<String>("greet() + '/' + greet('ann')", &d)?,
        "hi you/hi ann"
    );
    // Rust errors are thrown; the guest may catch them.
    set("parse", Callback::wrap(|s: String| s.parse::<u8>()))?;
    ensure_eq!(ctx.eval_as::<u8>("parse('7')", &d)?, 7);
    let caught: bool = ctx.eval_as("try { parse('x'); false } catch (e) { true }", &d)?;
    ensure!(caught);

    // A future: the guest gets a promise, settled when the future completes.
    let gate = Gate::default();
    let g = gate.clone();
    set(
        "later",
        Callback::from_async(move |n: u32| {
            let g = g.clone();
            async move {
                g.wait().await;
                n * 2
            }
        }),
    )?;
    let pending = ctx.eval_async("later(21)", awaited());
    gate.open();
    ensure_eq!(pending.wait()?, Value::from(42));
    set(
        "boom",
        Callback::from_async(|| async { panic!("boom") as u8 }),
    )?;
    let msg: String = ctx.eval_as(
        "boom().then(() => 'resolved', e => 'rejected: ' + e.message)",
        &awaited(),
    )?;
    ensure!(
        msg.starts_with("rejected") && msg.contains("panicked"),
        "{msg}"
    );
    // Ignored: undefined at once, the future still runs.
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = Mutex::new(tx);
    let note = Callback::from_async(move |n: u32| {
        let _ = tx.lock().unwrap().send(n);
        async {}
    })
    .with_mode(CallbackMode::Ignored);
    set("note", note)?;
    ensure_eq!(ctx.eval("note(5)", &d)?, Value::Undefined);
    ensure_eq!(
        rx.recv_timeout(Duration::from_secs(60))
            .map_err(|e| format!("the ignored future did not run: {e}"))?,
        5
    );

    // Serde in and out: a struct argument, a struct result.
    let count_tags = Callback::wrap(|Serde(u): Serde<User>| u.tags.len());
    set("countTags", count_tags)?;
    let code = "({ name: 'ann', id: 2n ** 60n, tags: ['a', 'b'],
                   seen: new Map([['x', 1]]), joined: new Date(0) })";
    let user: User = ctx.eval_as(code, &d)?;
    ensure_eq!(
        user,
        User {
            name: "ann".into(),
            id: 1 << 60,
            tags: vec!["a".into(), "b".into()],
            seen: [("x".to_owned(), 1)].into_iter().collect(),
            joined: "1970-01-01T00:00:00.000Z".into(),
        }
    );
    ensure_eq!(ctx.eval_as::<u32>(&format!("countTags({code})"), &d)?, 2);
    // A result of the wrong shape is an error, not a default.
    ensure!(ctx.eval_as::<User>("({ name: 1 })", &d).is_err());
    ensure!(ctx.eval_as::<u8>("1.5", &d).is_err());
    ensure_eq!(
        ctx.eval_closure_as::<Vec<f64>>("return [$0, $1]", vec![1.into(), 2.into()], &d)?,
        vec![1.0, 2.0]
    );
    // References: get_as and apply_as.
    ctx.eval(
        "globalThis.cfg = { port: 8080 }; globalThis.mul = (a, b) => ({ p: a * b })",
        &d,
    )?;
    #[derive(serde::Deserialize)]
    struct Cfg {
        port: u16,
    }
    ensure_eq!(global.get_as::<Cfg>("cfg".into())?.port, 8080);
    let mul = global.get("mul".into(), &TransferOptions::reference())?;
    let mul = mul
        .as_reference()
        .and_then(<B::Reference as engine_api::Reference>::from_any);
    let mul = mul.ok_or("mul is not a reference of this backend")?;
    let p: HashMap<String, f64> = mul.apply_as(
        Value::Undefined,
        vec![6.into(), 7.into()],
        &Default::default(),
    )?;
    ensure_eq!(p["p"], 42.0);
    Ok(())
}

fn pending_futures_hold_no_thread<B: Backend>() -> R {
    const CALLS: usize = 200;
    let busy = B::Isolate::new(IsolateOptions::default())?;
    let other = B::Isolate::new(IsolateOptions::default())?;
    let (busy_ctx, other_ctx) = (busy.create_context()?, other.create_context()?);
    let gate = Gate::default();
    let g = gate.clone();
    let wait = Callback::from_async(move |i: u32| {
        let g = g.clone();
        async move {
            g.wait().await;
            i
        }
    });
    busy_ctx
        .global()?
        .set("wait".into(), wait.into(), &TransferOptions::default())?;
    // Warm up both isolates and the executor before counting.
    other_ctx.eval("1", &EvalOptions::default())?;
    let open = Gate::default();
    open.open();
    let o = open.clone();
    Executor::global().spawn(Box::pin(async move { o.wait().await }));

    busy_ctx.eval(
        &format!(
            "globalThis.all = Promise.all(Array.from({{ length: {CALLS} }}, (_, i) => wait(i)))"
        ),
        &EvalOptions::default(),
    )?;
    // All 200 are pending: counted against the busy isolate, holding no host-pool thread.
    ensure_eq!(HostPool::global().pending(busy.id()), CALLS);
    ensure!(Executor::global().pending() >= CALLS);
    // The other isolate is not delayed behind them.
    ensure_eq!(
        other_ctx.eval_async("1+1", EvalOptions::default()).wait()?,
        Value::from(2)
    );
    // They wait on the executor's few threads, not one thread each. (Process-wide thread
    // counts are not asserted here: other cases run beside this one.)
    ensure!(Executor::global().peak_threads() <= Executor::global().max_threads());

    gate.open();
    let sum: u64 = busy_ctx.eval_as("all.then(xs => xs.reduce((a, b) => a + b, 0))", &awaited())?;
    ensure_eq!(sum, (0..CALLS as u64).sum::<u64>());
    // The slots go once the futures are done (just after their promises settle).
    for _ in 0..60_000 {
        if HostPool::global().pending(busy.id()) == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    ensure_eq!(HostPool::global().pending(busy.id()), 0);
    Ok(())
}

/// A result of another shape than the Rust type is `Error::Deserialize` on every typed path,
/// sync and async, and the isolate stays usable.
fn wrong_shape_is_deserialize_error<B: Backend>() -> R {
    let iso = B::Isolate::new(IsolateOptions::default())?;
    let ctx = iso.create_context()?;
    let d = EvalOptions::default();
    let shape = |r: engine_api::Result<u32>, what: &str| -> R {
        match r {
            Err(engine_api::Error::Deserialize(m)) => {
                ensure!(!m.is_empty(), "{what}: empty message");
                Ok(())
            }
            other => Err(format!("{what}: expected Error::Deserialize, got {other:?}").into()),
        }
    };
    shape(ctx.eval_as("'seven'", &d), "string as u32")?;
    shape(ctx.eval_as("1.5", &d), "fraction as u32")?;
    shape(ctx.eval_as("-1", &d), "negative as u32")?;
    shape(
        ctx.eval_closure_as("return [$0]", vec![Value::from(1)], &d),
        "array as u32",
    )?;
    shape(
        ctx.eval_as_async("({})", d.clone()).wait(),
        "object as u32 (async)",
    )?;
    shape(
        ctx.eval_closure_as_async("return $0 + 0.25", vec![Value::from(1)], d.clone())
            .wait(),
        "fraction as u32 (closure, async)",
    )?;
    // References: the typed forms, sync and on the worker pool, fail alike.
    let global = ctx.global()?;
    ctx.eval(
        "globalThis.seven = 'seven'; globalThis.half = (x) => x / 2",
        &d,
    )?;
    shape(global.get_as("seven".into()), "string property as u32")?;
    shape(
        global.get_as_async("seven".into()).wait(),
        "string property as u32 (async)",
    )?;
    let half = crate::support::reference_to::<B>(&ctx, "half")?;
    let a = engine_api::ApplyOptions::default();
    shape(
        half.apply_as(Value::Undefined, vec![Value::from(3)], &a),
        "fraction result as u32",
    )?;
    shape(
        half.apply_as_async(Value::Undefined, vec![Value::from(3)], a.clone())
            .wait(),
        "fraction result as u32 (async)",
    )?;
    // The right shape comes through, sync and async.
    ensure_eq!(
        half.apply_as_async::<u32>(Value::Undefined, vec![Value::from(84)], a)
            .wait()?,
        42
    );
    ensure_eq!(
        global.get_as_async::<String>("seven".into()).wait()?,
        "seven".to_owned()
    );
    let user: engine_api::Result<User> = ctx.eval_as("({ name: 'ann' })", &d);
    ensure!(
        matches!(&user, Err(engine_api::Error::Deserialize(m)) if m.contains("id") || m.contains("missing")),
        "missing field: {user:?}"
    );
    // A thrown error stays a JS error, not a shape error.
    ensure!(
        matches!(
            ctx.eval_as::<u32>("throw new RangeError('r')", &d),
            Err(engine_api::Error::Js(_))
        ),
        "a throw is Error::Js"
    );
    ensure_eq!(ctx.eval_as::<u32>("6 * 7", &d)?, 42);
    Ok(())
}
