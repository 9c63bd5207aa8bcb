//! Typed and future host functions without a backend: conversions, errors, executors and
//! the host pool's per-isolate bound, through the entry point backends use
//! (`Callback::spawn_async`).

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use engine_api::{
    Callback, CallbackMode, Error, Executor, HostPool, IsolateId, Result, Serde, SpawnedFuture,
    Value,
};

const WAIT: Duration = Duration::from_secs(60);

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
}

impl Future for Gate {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
        let mut g = self.0.lock().unwrap();
        if g.0 {
            Poll::Ready(())
        } else {
            g.1.push(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// Runs `cb` as a backend's async call would and waits for its result.
fn spawn(cb: &Callback, args: Vec<Value>) -> Result<Value> {
    let (tx, rx) = mpsc::channel();
    cb.spawn_async(IsolateId::next(), args, move |r| tx.send(r).unwrap())
        .map_err(|refused| refused.error)?;
    rx.recv_timeout(WAIT).expect("on_done is called")
}

fn js_error(e: Error) -> (String, String) {
    let js = e.as_js().expect("a JS error");
    (js.name.clone(), js.message.clone())
}

#[test]
fn eight_typed_arguments_convert_and_a_wrong_one_is_named() {
    #[allow(clippy::too_many_arguments)]
    fn all(
        a: bool,
        b: u8,
        c: i64,
        d: f32,
        e: String,
        f: Option<u32>,
        g: Vec<u16>,
        h: Value,
    ) -> String {
        format!("{a} {b} {c} {d} {e} {f:?} {g:?} {h:?}")
    }
    let cb = Callback::wrap(all);
    let args = || -> Vec<Value> {
        vec![
            true.into(),
            7.into(),
            Value::BigInt("-9007199254740993".into()),
            1.5.into(),
            "s".into(),
            Value::Undefined,
            vec![1, 2].into(),
            Value::Null,
        ]
    };
    assert_eq!(
        cb.call(args()).unwrap(),
        Value::from("true 7 -9007199254740993 1.5 s None [1, 2] Null")
    );
    let mut bad = args();
    bad[6] = Value::Array(vec![1.into(), Value::from(70_000)]);
    let (name, message) = js_error(cb.call(bad).unwrap_err());
    assert_eq!(name, "TypeError");
    assert_eq!(
        message,
        "argument 7: element 1: expected an integer in 0..=65535, got a number"
    );
    // Missing arguments are undefined: a non-Option one is a TypeError, never a panic.
    let (_, message) = js_error(cb.call(vec![]).unwrap_err());
    assert_eq!(message, "argument 1: expected a boolean, got undefined");
}

#[test]
fn results_and_errors_convert() {
    let unit = Callback::wrap(|| ());
    assert_eq!(unit.call(vec![]).unwrap(), Value::Undefined);
    let big = Callback::wrap(|| u64::MAX);
    assert_eq!(
        big.call(vec![]).unwrap(),
        Value::BigInt(u64::MAX.to_string())
    );
    let js = Callback::wrap(|| -> Result<u8> { Err(Error::js("RangeError", "no")) });
    assert_eq!(
        js_error(js.call(vec![]).unwrap_err()),
        ("RangeError".into(), "no".into())
    );
    let io = Callback::wrap(|| -> std::io::Result<u8> { Err(std::io::Error::other("disk")) });
    match io.call(vec![]).unwrap_err() {
        Error::Callback { message, source } => {
            assert_eq!(message, "disk");
            assert!(source.is_some_and(|s| s.is::<std::io::Error>()));
        }
        other => panic!("{other:?}"),
    }
    let panics = Callback::wrap(|| -> u8 { panic!("host bug") });
    assert!(matches!(panics.call(vec![]), Err(Error::Callback { .. })));
    #[derive(serde::Serialize, serde::Deserialize)]
    struct P {
        x: i32,
    }
    let shift = Callback::wrap(|Serde(p): Serde<P>| Serde(P { x: p.x + 1 }));
    let out = shift
        .call(vec![Value::object([("x", Value::from(1))])])
        .unwrap();
    assert_eq!(out.get("x"), Some(&Value::from(2)));
    let (name, _) = js_error(shift.call(vec![Value::from("no")]).unwrap_err());
    assert_eq!(name, "TypeError");
}

#[test]
fn futures_settle_through_spawn_async_and_failures_become_callback_errors() {
    let gate = Gate::default();
    let g = gate.clone();
    let later = Callback::from_async(move |n: f64| {
        let g = g.clone();
        async move {
            g.await;
            n + 1.0
        }
    });
    assert!(later.is_future());
    assert_eq!(later.mode(), CallbackMode::Async);
    let (tx, rx) = mpsc::channel();
    later
        .spawn_async(IsolateId::next(), vec![1.into()], move |r| {
            tx.send(r).unwrap()
        })
        .unwrap();
    assert!(
        rx.recv_timeout(Duration::from_millis(50)).is_err(),
        "waits for the gate"
    );
    gate.open();
    assert_eq!(rx.recv_timeout(WAIT).unwrap().unwrap(), Value::from(2));

    // A wrong argument fails the future at once, as a TypeError.
    let (name, message) = js_error(spawn(&later, vec!["x".into()]).unwrap_err());
    assert_eq!(
        (name.as_str(), message.as_str()),
        ("TypeError", "argument 1: expected a number, got a string")
    );

    let panics = Callback::from_async(|| async { panic!("in the future") as u8 });
    assert!(matches!(
        spawn(&panics, vec![]),
        Err(Error::Callback { .. })
    ));
    let panics_early = Callback::from_async(|| -> std::future::Ready<u8> { panic!("before") });
    assert!(matches!(
        spawn(&panics_early, vec![]),
        Err(Error::Callback { .. })
    ));

    let untyped =
        Callback::new_future(|args: Vec<Value>| async move { Ok(Value::from(args.len())) });
    assert_eq!(spawn(&untyped, vec![Value::Null]).unwrap(), Value::from(1));

    // A blocking closure through the same entry point runs on the host pool.
    let blocking = Callback::new_async(|_| Ok(Value::from("pool")));
    assert_eq!(spawn(&blocking, vec![]).unwrap(), Value::from("pool"));
}

#[test]
fn a_spawner_of_the_users_runs_the_future() {
    let ran_on = Arc::new(Mutex::new(None));
    let seen = ran_on.clone();
    let own = move |f: SpawnedFuture| {
        let seen = seen.clone();
        std::thread::Builder::new()
            .name("user-executor".into())
            .spawn(move || {
                *seen.lock().unwrap() = std::thread::current().name().map(str::to_owned);
                pollster::block_on(f)
            })
            .unwrap();
    };
    let cb = Callback::from_async_on(own, |a: u32, b: u32| async move { a * b });
    assert_eq!(
        spawn(&cb, vec![6.into(), 7.into()]).unwrap(),
        Value::from(42)
    );
    assert_eq!(ran_on.lock().unwrap().as_deref(), Some("user-executor"));
    // The host side's own call waits for the future too.
    assert_eq!(cb.call(vec![2.into(), 3.into()]).unwrap(), Value::from(6));

    // A spawner that drops the future, or panics, still answers: never a hang.
    let dropping = Callback::from_async_on(drop, || async { 1u8 });
    assert!(matches!(
        spawn(&dropping, vec![]),
        Err(Error::Callback { .. })
    ));
    let panicking = Callback::from_async_on(|_| panic!("no runtime"), || async { 1u8 });
    assert!(matches!(
        panicking.call(vec![]),
        Err(Error::Callback { .. })
    ));
}

#[test]
fn pending_futures_count_against_the_isolates_limit_until_done() {
    let limit = HostPool::global().queue_limit();
    let gate = Gate::default();
    let g = gate.clone();
    let wait = Callback::from_async(move || g.clone());
    let (busy, other) = (IsolateId::next(), IsolateId::next());
    let (tx, rx) = mpsc::channel();
    for _ in 0..limit {
        let tx = tx.clone();
        wait.spawn_async(busy, vec![], move |r| tx.send(r).unwrap())
            .unwrap();
    }
    assert_eq!(HostPool::global().pending(busy), limit);
    // One more is handed back, with its on_done, for the caller to reject with.
    let refused = wait
        .spawn_async(busy, vec![], |_| panic!("a refused call does not run"))
        .unwrap_err();
    assert_eq!(refused.error, Error::HostQueueFull { limit });
    // Another isolate is not affected, and no thread was taken per pending future.
    let quick = Callback::from_async(|| async { 5u8 });
    let (qtx, qrx) = mpsc::channel();
    quick
        .spawn_async(other, vec![], move |r| qtx.send(r).unwrap())
        .unwrap();
    assert_eq!(qrx.recv_timeout(WAIT).unwrap().unwrap(), Value::from(5));
    assert!(Executor::global().peak_threads() <= Executor::global().max_threads());
    let threads = std::fs::read_dir("/proc/self/task").unwrap().count();
    assert!(threads < 100, "{limit} pending futures, {threads} threads");
    gate.open();
    for _ in 0..limit {
        assert_eq!(rx.recv_timeout(WAIT).unwrap().unwrap(), Value::Undefined);
    }
    for _ in 0..60_000 {
        if HostPool::global().pending(busy) == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(HostPool::global().pending(busy), 0);
}
